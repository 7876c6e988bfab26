package main

import "testing"

// TestServeProcs: serve runs one P more than the runtime's default, unless
// GOMAXPROCS is set, which then decides alone.
func TestServeProcs(t *testing.T) {
	unset := func(string) string { return "" }
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "1"
		}
		return ""
	}
	for _, c := range []struct {
		getenv        func(string) string
		current, want int
	}{
		{unset, 2, 3},
		{unset, 1, 2},
		{unset, 64, 65},
		{set, 1, 1},
		{set, 2, 2},
	} {
		if got := serveProcs(c.getenv, c.current); got != c.want {
			t.Errorf("serveProcs(GOMAXPROCS=%q, %d) = %d, want %d", c.getenv("GOMAXPROCS"), c.current, got, c.want)
		}
	}
}
