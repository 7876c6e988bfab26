package webhook

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLaneConnPosts: a lane's own connection posts Standard Webhooks' headers and
// the body, reads status and snippet with net/http's parser, keeps the connection
// between posts, drops it when the answer is too long to drain or the receiver
// asks to close, and gets over a receiver that closed the idle connection.
func TestLaneConnPosts(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.RequestURI() != "/hook?x=1" || r.Header.Get("webhook-id") != "evt_1" ||
			r.Header.Get("webhook-timestamp") != "1700000000" || r.Header.Get("webhook-signature") != "v1,abc" ||
			r.Header.Get("Content-Type") != "application/json" || string(body) != `{"a":1}` {
			http.Error(w, "bad request "+r.Method+" "+r.URL.RequestURI(), http.StatusBadRequest)
			return
		}
		if mode.Load() == 1 { // an answer longer than what is drained
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(strings.Repeat("x", 200<<10)))
			return
		}
		if mode.Load() == 2 {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("thanks"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/hook?x=1")
	m := &message{id: "evt_1", signature: "v1,abc", timestamp: 1700000000, body: []byte(`{"a":1}`)}
	var l laneConn
	defer l.close()
	post := func(want int) {
		t.Helper()
		a, err := l.post(context.Background(), u, m, nil)
		if err != nil || a.status != want {
			t.Fatalf("post: %+v %v, want %d", a, err, want)
		}
	}
	mode.Store(0)
	post(201)
	post(201)
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for two posts, want one kept", n)
	}
	srv.CloseClientConnections() // the receiver drops the idle connection
	post(201)
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after the receiver closed one, want 2", n)
	}
	mode.Store(1)
	a, err := l.post(context.Background(), u, m, nil)
	if err != nil || a.status != 202 || len(a.snippet) != 512 {
		t.Fatalf("long answer: status %d, snippet %d bytes, %v", a.status, len(a.snippet), err)
	}
	if l.c != nil {
		t.Error("the connection of an answer not drained is kept")
	}
	mode.Store(2)
	post(201)
	if l.c != nil {
		t.Error("the connection is kept though the receiver said close")
	}
	mode.Store(0)
	post(201)
}

var mode atomic.Int32

// hookAt is the /hook URL of a test receiver and a message to post to it.
func hookAt(srvURL string) (*url.URL, *message) {
	u, _ := url.Parse(srvURL + "/hook")
	return u, &message{id: "evt_1", signature: "v1,abc", timestamp: 1, body: []byte(`{}`)}
}

// TestLaneConnTLS: an https receiver is verified against the configured roots,
// and refused without them.
func TestLaneConnTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, m := hookAt(srv.URL)
	var l laneConn
	defer l.close()
	if _, err := l.post(context.Background(), u, m, nil); err == nil {
		t.Fatal("a certificate the system does not trust was accepted")
	}
	roots := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	if a, err := l.post(context.Background(), u, m, roots); err != nil || a.status != 204 {
		t.Fatalf("https post: %+v %v", a, err)
	}
}

// TestLaneConnInformational: a 1xx before the final answer is read past, so the
// final one answers its own request and not the next.
func TestLaneConnInformational(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Link", "</x>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, m := hookAt(srv.URL)
	var l laneConn
	defer l.close()
	for _, want := range []int{500, 204, 204} {
		if a, err := l.post(context.Background(), u, m, nil); err != nil || a.status != want {
			t.Fatalf("post: %d %v, want %d", a.status, err, want)
		}
	}
}

// TestLaneConnSlowReceiver: an attempt that times out on a kept connection is
// not sent again at once (the receiver may be working on it), and ends with its
// deadline.
func TestLaneConnSlowReceiver(t *testing.T) {
	var got atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if got.Add(1) == 2 {
			<-release // the second request is slow
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)
	u, m := hookAt(srv.URL)
	var l laneConn
	defer l.close()
	if a, err := l.post(context.Background(), u, m, nil); err != nil || a.status != 204 {
		t.Fatalf("first post: %+v %v", a, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := l.post(ctx, u, m, nil); err == nil {
		t.Fatal("a post past its deadline succeeded")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the attempt took %v past a 300 ms deadline", took)
	}
	time.Sleep(100 * time.Millisecond)
	if n := got.Load(); n != 2 {
		t.Errorf("the receiver got %d requests, want 2: a timed-out attempt was sent again", n)
	}
}
