package httpkit

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// LogWriter buffers log lines and writes them out every interval (and on Close),
// so a request never waits on a write system call, or on a slow reader of the log,
// for its log line. Lines are appended to one buffer while the other is written
// out; if the output stalls long enough for maxBuffered bytes to pile up, further
// lines are dropped and counted, and the count is logged once the output moves
// again. At most one interval of lines is lost if the process is killed.
type LogWriter struct {
	out         io.Writer
	maxBuffered int

	mu      sync.Mutex
	cur     []byte
	dropped int

	writing sync.Mutex // held while a buffer is written out
	spare   []byte
	stop    chan struct{}
	done    chan struct{}
}

// NewLogWriter starts a writer that flushes to w every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	l := &LogWriter{out: w, maxBuffered: 8 << 20, cur: make([]byte, 0, 256<<10), spare: make([]byte, 0, 256<<10),
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.Flush()
			case <-l.stop:
				l.Flush()
				return
			}
		}
	}()
	return l
}

// Write buffers p (one log line from slog); it never blocks on the output.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if len(l.cur)+len(p) > l.maxBuffered {
		l.dropped++
	} else {
		l.cur = append(l.cur, p...)
	}
	l.mu.Unlock()
	return len(p), nil
}

// Flush writes out what is buffered.
func (l *LogWriter) Flush() {
	l.writing.Lock()
	defer l.writing.Unlock()
	l.mu.Lock()
	buf, dropped := l.cur, l.dropped
	l.cur, l.dropped = l.spare[:0], 0
	l.mu.Unlock()
	if len(buf) > 0 {
		l.out.Write(buf)
	}
	if dropped > 0 {
		fmt.Fprintf(l.out, `{"time":%q,"level":"WARN","msg":"log output was too slow; lines dropped","dropped":%d}`+"\n",
			time.Now().UTC().Format(time.RFC3339Nano), dropped)
	}
	l.spare = buf[:0]
}

// Close flushes and stops the writer.
func (l *LogWriter) Close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}
