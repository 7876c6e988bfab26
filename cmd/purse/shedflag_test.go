package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestMaxQueueDelayFlag: --max-queue-delay takes PURSE_MAX_QUEUE_DELAY when not
// given, and refuses what is not a duration of 0 or more, from either.
func TestMaxQueueDelayFlag(t *testing.T) {
	for _, c := range []struct {
		name, env string
		args      []string
		want      time.Duration
		wantErr   bool
	}{
		{"default", "", nil, defaultMaxQueueDelay, false},
		{"flag", "", []string{"--max-queue-delay", "20ms"}, 20 * time.Millisecond, false},
		{"env", "7ms", nil, 7 * time.Millisecond, false},
		{"flag over env", "7ms", []string{"--max-queue-delay", "0"}, 0, false},
		{"env off", "0", nil, 0, false},
		{"env typo", "5 ms", nil, 0, true},
		{"negative flag", "", []string{"--max-queue-delay", "-1ms"}, 0, true},
		{"negative env", "-1s", nil, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := env{stderr: io.Discard, getenv: func(k string) string {
				if k == "PURSE_MAX_QUEUE_DELAY" {
					return c.env
				}
				return ""
			}}
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg serveConfig
			var envErr envErrs
			serveFlags(fs, &cfg, &envErr, e)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			if c.wantErr {
				// serve refuses before it opens anything (the listen address is never reached).
				cfg.listen = "256.0.0.1:1"
				err := serve(context.Background(), cfg, envErr, e)
				if err == nil || !strings.Contains(err.Error(), "QUEUE_DELAY") && !strings.Contains(err.Error(), "max-queue-delay") {
					t.Fatalf("err = %v, want a refusal naming the setting", err)
				}
				return
			}
			if err := envErr.err(); err != nil {
				t.Fatal(err)
			}
			if cfg.maxQueueDelay != c.want {
				t.Errorf("got %v, want %v", cfg.maxQueueDelay, c.want)
			}
		})
	}
}
