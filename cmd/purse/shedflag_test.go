package main

import (
	"flag"
	"io"
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
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var got time.Duration
			fs.DurationVar(&got, "max-queue-delay", defaultMaxQueueDelay, "")
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			e := env{getenv: func(k string) string {
				if k == "PURSE_MAX_QUEUE_DELAY" {
					return c.env
				}
				return ""
			}}
			err := maxQueueDelayFromEnv(fs, e, &got)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, c.wantErr)
			}
			if !c.wantErr && got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
