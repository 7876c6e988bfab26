package webhook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
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

// secondHangs is a receiver that answers 204 at once, but for its second
// request, which it holds until the test ends; it counts the requests.
func secondHangs(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if n.Add(1) == 2 {
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, &n
}

// TestLaneConnSlowReceiver: an attempt that times out on a kept connection is
// not sent again at once (the receiver may be working on it), and ends with its
// deadline.
func TestLaneConnSlowReceiver(t *testing.T) {
	srv, got := secondHangs(t)
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

// TestPlainAnswerAgreesWithNetHTTP: the fast reader of plain answers gives what
// net/http's parser gives (status, snippet, whether the connection is kept, and
// where the next answer starts), and leaves everything else unread for it.
func TestPlainAnswerAgreesWithNetHTTP(t *testing.T) {
	long := strings.Repeat("y", 70<<10)
	cases := []struct {
		raw   string
		plain bool // the fast reader takes it
	}{
		{"HTTP/1.1 204 No Content\r\n\r\n", true},
		{"HTTP/1.1 204\r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", true},
		{"HTTP/1.1 503 Busy\r\ncontent-length: 4\r\nRetry-After: 3\r\n\r\nbusy", true},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", true},
		{"HTTP/1.1 202 Accepted\r\nContent-Length: " + strconv.Itoa(len(long)) + "\r\n\r\n" + long, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n" + strings.Repeat("z", 600), true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\n\r\nuntil close", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nX-A: b\r\n  folded\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok", false},
		// A bare LF ends a line for net/http: it must not hide a header or the head's end.
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A: b\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nX-A: b\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\nContent-Length: 9\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\nx:\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nX\x00A: b\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nX(A): b\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: -0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: \v2\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: \t2 \r\n\r\nok", true},
	}
	const next = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	for _, c := range cases {
		plainBR := bufio.NewReaderSize(strings.NewReader(c.raw+next), 4<<10)
		plainBR.Peek(1)
		before := plainBR.Buffered()
		pa, pkeep, ok := plainAnswer(plainBR)
		if ok != c.plain {
			t.Errorf("%q: plain %v, want %v", c.raw, ok, c.plain)
			continue
		}
		if !ok {
			if plainBR.Buffered() != before {
				t.Errorf("%q: refused, yet %d bytes were read", c.raw, before-plainBR.Buffered())
			}
			continue
		}
		netBR := bufio.NewReader(strings.NewReader(c.raw + next))
		na, nkeep, err := readAnswer(netBR)
		if err != nil {
			t.Fatalf("%q: net/http: %v", c.raw, err)
		}
		if pa.status != na.status || string(pa.snippet) != string(na.snippet) || pkeep != nkeep {
			t.Errorf("%q: plain %d %q keep %v; net/http %d %q keep %v", c.raw, pa.status, pa.snippet, pkeep, na.status, na.snippet, nkeep)
		}
		if pkeep { // the next answer starts where both left off
			p, _ := io.ReadAll(plainBR)
			n, _ := io.ReadAll(netBR)
			if string(p) != string(n) || !strings.HasSuffix(string(p), next) {
				t.Errorf("%q: left %q, net/http left %q", c.raw, p, n)
			}
		}
	}
}

// BenchmarkLaneConnPost: one delivery on a kept connection to a receiver that
// answers 204 at once (the bench's W1 pattern), in processor time and
// allocations a post.
func BenchmarkLaneConnPost(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { // a receiver of the least work: read a request, answer 204
				defer c.Close()
				br := bufio.NewReader(c)
				for readRequest(br) {
					if _, err := c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	u, _ := url.Parse("http://" + l.Addr().String() + "/hook")
	m := &message{id: "evt_1", signature: "v1,abc", timestamp: 1, body: []byte(strings.Repeat("x", 400))}
	var lc laneConn
	defer lc.close()
	b.ReportAllocs()
	for b.Loop() {
		if a, err := lc.post(context.Background(), u, m, nil); err != nil || a.status != 204 {
			b.Fatal(a, err)
		}
	}
}

// TestPlainAnswerCutShort: a body shorter than its Content-Length gives what came
// as the snippet, and the connection is not kept; a head that has not all
// arrived is left to net/http.
func TestPlainAnswerCutShort(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npartial"))
	br.Peek(1)
	a, keep, ok := plainAnswer(br)
	if !ok || keep || a.status != 200 || string(a.snippet) != "partial" {
		t.Errorf("cut short: %d %q keep %v ok %v, want 200 \"partial\", not kept", a.status, a.snippet, keep, ok)
	}
	br = bufio.NewReader(iotest.OneByteReader(strings.NewReader("HTTP/1.1 204 No Content\r\n\r\n")))
	br.Peek(1)
	if _, _, ok := plainAnswer(br); ok || br.Buffered() != 1 {
		t.Errorf("a head not yet buffered: ok %v, %d bytes left buffered, want it left to net/http", ok, br.Buffered())
	}
}

// TestLaneConnCancelAborts: ending the deliverer's context (no deadline) aborts
// an attempt waiting for an answer on a kept connection at once, not after the
// attempt's 15 s.
func TestLaneConnCancelAborts(t *testing.T) {
	srv, _ := secondHangs(t)
	u, m := hookAt(srv.URL)
	var l laneConn
	defer l.close()
	ctx, cancel := context.WithCancel(context.Background())
	if a, err := l.post(ctx, u, m, nil); err != nil || a.status != 204 {
		t.Fatalf("first post: %+v %v", a, err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := l.post(ctx, u, m, nil); err == nil {
		t.Fatal("a post whose context ended succeeded")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the attempt ended %v after it began, though its context ended after 50 ms", took)
	}
}

// TestLaneConnUnaskedAnswer: an answer the receiver sends unasked (its first
// request answered twice: in one write, in two at once, or a moment later) is
// not taken for the answer to the next request, which would count an event the
// receiver refused as delivered. The kept connection is dropped, and the next
// request goes on a new one. Over TLS too, where the stray answer may wait in
// tls.Conn's own buffer rather than on the socket; and there a healthy kept
// connection (its session tickets read) carries the next requests.
func TestLaneConnUnaskedAnswer(t *testing.T) {
	const ok = "HTTP/1.1 204 No Content\r\n\r\n"
	twice := map[string]func(c net.Conn){
		"in one write":   func(c net.Conn) { c.Write([]byte(ok + ok)) },
		"in two at once": func(c net.Conn) { c.Write([]byte(ok)); c.Write([]byte(ok)) },
		"20 ms later":    func(c net.Conn) { c.Write([]byte(ok)); time.Sleep(20 * time.Millisecond); c.Write([]byte(ok)) },
	}
	srv := httptest.NewTLSServer(nil) // for its certificate
	certs := srv.TLS.Certificates
	roots := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	srv.Close()
	for _, scheme := range []string{"http", "https"} {
		for how, answer := range twice {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if scheme == "https" {
				l = tls.NewListener(l, &tls.Config{Certificates: certs})
			}
			var conns atomic.Int32
			answered := make(chan struct{})
			go answersFirstTwice(l, &conns, answer, answered)
			u, m := hookAt(scheme + "://" + l.Addr().String())
			var lc laneConn
			if a, err := lc.post(context.Background(), u, m, roots); err != nil || a.status != 204 {
				t.Fatalf("%s, first post: %+v %v", scheme, a, err)
			}
			<-answered // the stray answer is on the socket (over loopback a write is there when it returns)
			if a, err := lc.post(context.Background(), u, m, roots); err != nil || a.status != 503 {
				t.Errorf("%s, answered %s: the next post got %+v %v, want the receiver's 503", scheme, how, a, err)
			}
			lc.post(context.Background(), u, m, roots)
			if n := conns.Load(); n != 2 {
				t.Errorf("%s, answered %s: %d connections for three posts, want the first dropped and one more kept", scheme, how, n)
			}
			lc.close()
			l.Close()
		}
	}
}

// answersFirstTwice serves l: the first connection's first request is answered
// 204 twice (by answer, then answered is closed), every other request 503.
func answersFirstTwice(l net.Listener, conns *atomic.Int32, answer func(net.Conn), answered chan struct{}) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		first := conns.Add(1) == 1
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for n := 0; readRequest(br); n++ {
				if first && n == 0 {
					answer(c)
					close(answered)
				} else {
					c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"))
				}
			}
		}()
	}
}

// readRequest reads one request with a Content-Length body; false at its end.
func readRequest(br *bufio.Reader) bool {
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	_, err := br.Discard(length)
	return err == nil
}
