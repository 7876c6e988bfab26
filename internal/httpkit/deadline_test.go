package httpkit

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveBig serves GET /small (a few bytes) and GET /big (n bytes in 64 KiB writes)
// over a real listener wrapped by WriteDeadlines(d); the outcome of each /big
// handler (its write error, how long it wrote) arrives on done.
func serveBig(t *testing.T, d time.Duration, n int) (addr string, done chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 4)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			w.Write([]byte("ok"))
			return
		}
		var err error
		for sent := 0; sent < n && err == nil; sent += len(chunk) {
			_, err = w.Write(chunk)
		}
		done <- err
	})}
	go srv.Serve(WriteDeadlines(l, d))
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), done
}

// TestWriteDeadlineCutsStuckClient: a client that stops reading in the middle of a
// response (on a keep-alive connection whose first request net/http already
// cleared the deadline after) costs the server its write within about d.
func TestWriteDeadlineCutsStuckClient(t *testing.T) {
	const d = 300 * time.Millisecond
	addr, done := serveBig(t, d, 256<<20)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and never read it
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("256 MiB written to a client that reads nothing")
		}
		if took := time.Since(start); took > 3*d+time.Second {
			t.Errorf("the stuck write failed after %v; want about %v", took, d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write to a stuck client is still blocked after 10 s")
	}
}

// TestWriteDeadlineSparesSlowReader: a client reading a long response slowly, for
// several times d, gets all of it.
func TestWriteDeadlineSparesSlowReader(t *testing.T) {
	const d = 300 * time.Millisecond
	const size = 8 << 20
	addr, done := serveBig(t, d, size)
	resp, err := http.Get("http://" + addr + "/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	buf := make([]byte, 512<<10)
	got := 0
	for {
		n, err := io.ReadFull(resp.Body, buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(80 * time.Millisecond) // ~6 MiB/s: the whole response takes > 4·d
	}
	if got != size {
		t.Fatalf("read %d of %d bytes", got, size)
	}
	if err := <-done; err != nil {
		t.Errorf("the handler's writes failed: %v", err)
	}
	if took := time.Since(start); took < 2*d {
		t.Logf("the read took only %v; the test meant it to outlast d", took)
	}
}
