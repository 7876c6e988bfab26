package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJSONHandlerMatchesSlog writes the same records through JSONHandler and
// slog.NewJSONHandler (with durations as text, as JSONHandler writes them) and
// expects the same decoded lines.
func TestJSONHandlerMatchesSlog(t *testing.T) {
	var fast, std bytes.Buffer
	lf := slog.New(NewJSONHandler(&fast, slog.LevelDebug)).With("listener", "public")
	ls := slog.New(slog.NewJSONHandler(&std, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: readableDuration})).With("listener", "public")
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

// TestAppendTime: the cached-second formatting gives time.RFC3339Nano's text in UTC.
func TestAppendTime(t *testing.T) {
	base := time.Date(2026, 11, 26, 6, 37, 0, 0, time.UTC)
	times := []time.Time{base, base.Add(709308429), base.Add(500 * time.Millisecond), base.Add(1), base.Add(time.Second - 1),
		base.Add(10 * time.Microsecond), base.Add(time.Hour + 3*time.Second), base.In(time.FixedZone("X", 5400)).Add(123456),
		time.Date(1, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(12026, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(-3, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := 0; i < 2; i++ { // a second pass finds the cached seconds
		for _, tm := range times {
			if got, want := string(appendTime(nil, tm)), tm.UTC().Format(time.RFC3339Nano); got != want {
				t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
			}
		}
	}
}

// TestLogRequestMatchesSlog: the request line written without slog is the line the
// same handler writes for the same record through slog.
func TestLogRequestMatchesSlog(t *testing.T) {
	var fast, viaSlog bytes.Buffer
	at := time.Date(2026, 11, 26, 6, 37, 0, 709308000, time.UTC)
	path := "/v1/a\"b\\c\n\xff"
	NewJSONHandler(&fast, slog.LevelInfo).WithAttrs([]slog.Attr{slog.String("node", "n1")}).(*JSONHandler).
		LogRequest(at, "admin", "POST", path, 201, 261, 1184094, "203.0.113.7", "user:Al\"addin")
	h := NewJSONHandler(&viaSlog, slog.LevelInfo).WithAttrs([]slog.Attr{slog.String("node", "n1")})
	r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("listener", "admin"), slog.String("method", "POST"), slog.String("path", path),
		slog.Int("status", 201), slog.Int("bytes", 261), slog.Duration("duration", 1184094),
		slog.String("client", "203.0.113.7"), slog.String("principal", "user:Al\"addin"))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if fast.String() != viaSlog.String() {
		t.Errorf("LogRequest wrote\n%s slog wrote\n%s", fast.String(), viaSlog.String())
	}
	var m map[string]any
	if err := json.Unmarshal(fast.Bytes(), &m); err != nil || m["path"] != "/v1/a\"b\\c\n\ufffd" || m["node"] != "n1" {
		t.Errorf("line %s decodes to %v (%v)", fast.String(), m, err)
	}
}

// TestDurationsAreReadable: a duration in a JSON log line reads as Go writes it
// ("15s", "1.184094ms"), in an attribute, in a group and in the request line, not
// as a count of nanoseconds.
func TestDurationsAreReadable(t *testing.T) {
	var b bytes.Buffer
	h := NewJSONHandler(&b, slog.LevelInfo)
	log := slog.New(h)
	log.Info("shutting down", "timeout", 15*time.Second)
	log.WithGroup("g").Info("grouped", "took", 1500*time.Millisecond)
	h.LogRequest(time.Now(), "admin", "GET", "/", 200, 2, 1184094, "127.0.0.1", "")
	var got []any
	for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		switch {
		case m["timeout"] != nil:
			got = append(got, m["timeout"])
		case m["g"] != nil:
			got = append(got, m["g"].(map[string]any)["took"])
		default:
			got = append(got, m["duration"])
		}
	}
	if diff := cmp.Diff(got, []any{"15s", "1.5s", "1.184094ms"}); diff != "" {
		t.Errorf("durations (-got +want):\n%s", diff)
	}
}
