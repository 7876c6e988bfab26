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
// longer than d in all but never stalling for long, gets all of it.
func TestWriteDeadlineSparesSlowReader(t *testing.T) {
	const d = 600 * time.Millisecond
	const size = 4 << 20
	addr, done := serveBig(t, d, size)
	resp, err := http.Get("http://" + addr + "/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	buf := make([]byte, 256<<10)
	got := 0
	for {
		n, err := io.ReadFull(resp.Body, buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // 2.5 MiB/s: the response takes 1.6 s, over 2·d
	}
	if got != size {
		t.Fatalf("read %d of %d bytes in %v", got, size, time.Since(start))
	}
	if err := <-done; err != nil {
		t.Errorf("the handler's writes failed: %v", err)
	}
}

// TestWriteDeadlineKeepsHalfClose: a request body far over the limit gets its 413
// response, not a reset: net/http half-closes such a connection before closing it,
// which it can only do through the wrapper's CloseWrite.
func TestWriteDeadlineKeepsHalfClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<10)); err != nil {
			WriteError(w, JSON, http.StatusRequestEntityTooLarge, ServiceException{MessageID: "TOO_LARGE", Text: "too large"})
			return
		}
		w.Write([]byte("ok"))
	})}
	go srv.Serve(WriteDeadlines(l, time.Second))
	defer srv.Close()
	if _, ok := net.Conn(&deadlineConn{}).(interface{ CloseWrite() error }); !ok {
		t.Fatal("the wrapped connection hides CloseWrite")
	}
	for i := 0; i < 5; i++ {
		resp, err := http.Post("http://"+l.Addr().String()+"/", "application/octet-stream", bytes.NewReader(make([]byte, 8<<20)))
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("TOO_LARGE")) {
			t.Fatalf("post %d: %d %s", i, resp.StatusCode, body)
		}
	}
}
