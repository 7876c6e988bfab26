package pursetest_test

import (
	"testing"
	"time"

	"github.com/purse-ledger/purse/pursetest"
)

// BenchmarkNew measures what a test pays for a purse: New, from nothing to both
// listeners serving with the admin client ready. Close (in the test's cleanup) is
// reported apart, since a test pays it at its end. The target is under 100 ms a
// start (issue #20); BENCHMARKS.md, "pursetest start-up", records the figures.
//
//	go test -run - -bench BenchmarkNew -benchtime 50x ./pursetest/
func BenchmarkNew(b *testing.B) {
	var start, stop time.Duration
	for b.Loop() {
		t0 := time.Now()
		srv, err := pursetest.Start()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
		start += t1.Sub(t0)
		stop += time.Since(t1)
	}
	b.ReportMetric(float64(start.Microseconds())/1000/float64(b.N), "ms/start")
	b.ReportMetric(float64(stop.Microseconds())/1000/float64(b.N), "ms/close")
}
