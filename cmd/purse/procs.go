package main

import "runtime"

// Processors for serve: one more than Go's default.
//
// Under load much of purse's time is in system calls that block (the WAL's
// fdatasync, socket writes), and a goroutine in one keeps its P until sysmon takes
// it back, which can be late: with GOMAXPROCS equal to the cores, a P often waited
// on the disk while a core stood idle. One P more keeps the cores busy; charges and
// reads were both faster in every paired run (BENCHMARKS.md's history).
//
// GOMAXPROCS in the environment still decides. Setting it here means the runtime
// no longer follows a container's CPU limit if that changes while purse runs.
func serveProcs(getenv func(string) string, current int) int {
	if getenv("GOMAXPROCS") != "" {
		return current
	}
	return current + 1
}

// setServeProcs applies serveProcs to this process.
func setServeProcs(getenv func(string) string) {
	runtime.GOMAXPROCS(serveProcs(getenv, runtime.GOMAXPROCS(0)))
}
