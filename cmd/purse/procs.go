package main

import "runtime"

// Processors for serve: one more than Go's default.
//
// Much of purse's work under load happens in system calls that block for a while:
// the syncer's fdatasync of the WAL (0.37 ms on average, ~1,300 a second when 64
// connections charge one account), socket writes (13 µs on average on loopback
// here), SQLite's pwrites. A goroutine in a system call keeps its P (the right to
// run Go code) until sysmon sees the same call outlast one of its ticks, and sysmon
// backs off while it finds nothing to take: an execution trace of that charge load
// with GOMAXPROCS=2 showed 12 Ps handed on in 3 s against 3,136 fdatasyncs, so for
// 39% of the time one of the two Ps waited on the disk while ~20 goroutines were
// ready to run and a core stood idle. With one P more than the default, the cores
// stay busy while one P waits. On this 2-core machine, purse started afresh for
// each run and measured alternately with 2 and 3: charges faster in 4 of 4 pairs
// (+6% to +34%), balance reads in 4 of 4 (+8% to +21%) (BENCHMARKS.md).
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
