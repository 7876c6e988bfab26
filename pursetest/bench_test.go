package pursetest_test

import (
	"testing"
	"time"

	"github.com/purse-ledger/purse/pursetest"
)

// BenchmarkNew measures what a test pays for a purse: from nothing to both
// listeners serving with the admin client ready (Start, which is New's work
// without the testing.TB: New runs it in t.TempDir()). It reports the mean start,
// the first start of the test binary apart (it also migrates the template store
// the others copy; run with -run - so that no test has made it before), and Close,
// which a test pays at its end. The target is under 100 ms a start (issue #20);
// BENCHMARKS.md, "pursetest start-up", records the figures.
//
//	go test -run - -bench BenchmarkNew -benchtime 50x ./pursetest/
func BenchmarkNew(b *testing.B) {
	var start, stop, first time.Duration
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
		if first == 0 {
			first = t1.Sub(t0)
		}
		start += t1.Sub(t0)
		stop += time.Since(t1)
	}
	b.ReportMetric(ms(start)/float64(b.N), "ms/start")
	b.ReportMetric(ms(first), "ms/first-start")
	b.ReportMetric(ms(stop)/float64(b.N), "ms/close")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
