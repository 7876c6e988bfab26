package httpkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJSONHandlerMatchesSlog writes the same records through JSONHandler and
// slog.NewJSONHandler and expects the same decoded lines.
func TestJSONHandlerMatchesSlog(t *testing.T) {
	var fast, std bytes.Buffer
	lf := slog.New(NewJSONHandler(&fast, slog.LevelDebug)).With("listener", "public")
	ls := slog.New(slog.NewJSONHandler(&std, &slog.HandlerOptions{Level: slog.LevelDebug})).With("listener", "public")
	for _, l := range []*slog.Logger{lf, ls} {
		l.Info("request", "path", "/a\"b\\c\n\x01é\xff", "status", 200, "duration", 1500*time.Microsecond, "ok", true, "n", uint64(7), "f", 1.5)
		l.Warn("oops", "err", errors.New("boom"), "any", map[string]int{"a": 1})
		l.Debug("debug line")
	}
	fl, sl := bytes.Split(bytes.TrimSpace(fast.Bytes()), []byte("\n")), bytes.Split(bytes.TrimSpace(std.Bytes()), []byte("\n"))
	if len(fl) != len(sl) {
		t.Fatalf("%d lines, slog wrote %d", len(fl), len(sl))
	}
	for i := range fl {
		var a, b map[string]any
		if err := json.Unmarshal(fl[i], &a); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, fl[i])
		}
		json.Unmarshal(sl[i], &b)
		delete(a, "time")
		delete(b, "time")
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("line %d differs (-fast +slog):\n%s", i, diff)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\x00", "é\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: not a JSON string: %v", s, err)
		}
		want := string([]rune(s)) // invalid bytes read as U+FFFD, as encoding/json does
		if got != want {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}
