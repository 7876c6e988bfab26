package fault

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/httpkit"
)

// Resolver names the account and the credential a request acts for, for rules
// that match on them; "" when it cannot tell. It is called only when a rule needs
// it and the request matched everything else.
type Resolver func(r *http.Request) (account, credential string)

// Handler puts the rules for listener ("public" or "admin") in front of next.
// Exempt requests (the fault and reset routes, so that a rule cannot lock the
// operator out) go straight to next.
func (s *Set) Handler(listener string, who Resolver, exempt func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.live.Load() == 0 || exempt != nil && exempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		sh, ok := s.pick(listener, r, who)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		s.log.WarnContext(r.Context(), "fault injected", "fault", sh.action, "rule", sh.id,
			"listener", listener, "method", r.Method, "path", r.URL.Path)
		s.onInject(listener, sh.action)
		inject(w, r, sh, listener, next)
	})
}

// pick returns the fault of the first rule that matches r and fires.
func (s *Set) pick(listener string, r *http.Request, who Resolver) (shot, bool) {
	now := s.now()
	s.mu.Lock()
	s.expire(now)
	var cands []*rule
	for _, x := range s.rules {
		if x.matchStatic(listener, r) {
			cands = append(cands, x)
		}
	}
	s.mu.Unlock()
	var account, credential string
	resolved := false
	for _, x := range cands {
		if x.Account != "" || x.Credential != "" {
			if !resolved && who != nil {
				account, credential = who(r)
			}
			resolved = true
			if x.Account != "" && x.Account != account || x.Credential != "" && x.Credential != credential {
				continue
			}
		}
		s.mu.Lock()
		sh, ok := s.fire(x)
		s.mu.Unlock()
		if ok {
			return sh, true
		}
	}
	return shot{}, false
}

// inject does what the shot says.
func inject(w http.ResponseWriter, r *http.Request, sh shot, listener string, next http.Handler) {
	switch sh.action {
	case ActionDelay:
		if sleep(r.Context(), sh.delay) {
			next.ServeHTTP(w, r)
		}
	case ActionError:
		answerError(w, r, sh.spec, listener)
	case ActionReset:
		reset(w)
	case ActionCut, ActionSlow:
		b := &buffered{ResponseWriter: w}
		next.ServeHTTP(b, r)
		if sh.action == ActionCut {
			cut(w, b, sh.spec.CutAfter)
		} else {
			dribble(w, r, b, sh.spec.ChunkBytes, sh.delay)
		}
	}
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// answerError answers in Infobip's error envelope: XML when the public API would
// answer XML (a .xml path, or an Accept that asks for XML and not JSON), else JSON.
func answerError(w http.ResponseWriter, r *http.Request, sp Spec, listener string) {
	f := httpkit.JSON
	if accept := r.Header.Get("Accept"); listener == "public" &&
		(strings.HasSuffix(r.URL.Path, ".xml") || strings.Contains(accept, "xml") && !strings.Contains(accept, "json")) {
		f = httpkit.XML
	}
	if sp.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(sp.RetryAfter))
	}
	httpkit.WriteError(w, f, sp.Status, httpkit.ServiceException{MessageID: sp.MessageID, Text: sp.Text})
}

// reset closes the connection with a TCP RST: SO_LINGER 0 makes close discard
// what is unsent and reset the connection, so the client reads "connection reset
// by peer" rather than an orderly end. Where there is no TCP connection to hijack
// (HTTP/2), the request is aborted instead, which resets its stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := tcpConn(conn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// tcpConn finds the TCP connection under the listener's and TLS's wrappers.
func tcpConn(c net.Conn) (*net.TCPConn, bool) {
	for range 8 {
		if tc, ok := c.(*net.TCPConn); ok {
			return tc, true
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil, false
		}
		c = u.NetConn()
	}
	return nil, false
}

// buffered keeps the real answer so that cut and slow can send it their way.
// Headers go to the real writer's map; the status and body wait.
type buffered struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (b *buffered) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Unwrap lets SetPrincipal reach the request log's recorder.
func (b *buffered) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// head sends the real answer's status with the whole body's Content-Length.
func (b *buffered) head(w http.ResponseWriter) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
}

// cut sends the head and n bytes of the body (half when n is 0, never all of it),
// then closes the connection: the client has been promised more than it gets.
func cut(w http.ResponseWriter, b *buffered, n int) {
	body := b.body.Bytes()
	if n == 0 || n >= len(body) {
		n = len(body) / 2
	}
	b.head(w)
	w.Write(body[:n])
	rc := http.NewResponseController(w)
	rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	}
	conn.Close()
}

// dribble sends the real answer chunk bytes at a time, pause apart.
func dribble(w http.ResponseWriter, r *http.Request, b *buffered, chunk int, pause time.Duration) {
	body := b.body.Bytes()
	b.head(w)
	rc := http.NewResponseController(w)
	for i := 0; i < len(body); i += chunk {
		if i > 0 && !sleep(r.Context(), pause) {
			return
		}
		w.Write(body[i:min(i+chunk, len(body))])
		rc.Flush()
	}
}
