package httpkit

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

type stalled struct {
	mu      sync.Mutex
	release chan struct{}
	buf     bytes.Buffer
}

func (s *stalled) Write(p []byte) (int, error) {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// TestLogWriterNeverBlocks stalls the output and checks that writers go on, that
// the overflow is dropped and counted, and that everything else arrives.
func TestLogWriterNeverBlocks(t *testing.T) {
	out := &stalled{release: make(chan struct{})}
	l := NewLogWriter(out, time.Millisecond)
	l.maxBuffered = 1000
	line := []byte(strings.Repeat("x", 99) + "\n")
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ { // 10,000 bytes into a stalled output
			l.Write(line)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Write blocked on a stalled output")
	}
	close(out.release)
	l.Close()
	got := out.buf.String()
	if n := strings.Count(got, strings.Repeat("x", 99)); n < 10 || n >= 100 {
		t.Errorf("%d lines arrived; want the buffered ones (10 to 99)", n)
	}
	if !strings.Contains(got, `"dropped":`) {
		t.Errorf("no notice of dropped lines:\n%.300s", got)
	}
}

func TestLogWriterFlushesOnClose(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogWriter(&buf, time.Hour)
	io.WriteString(l, "one\n")
	l.Close()
	if buf.String() != "one\n" {
		t.Errorf("got %q", buf.String())
	}
}
