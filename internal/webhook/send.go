package webhook

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// attemptTimeout bounds one attempt: the dial, the request and the answer.
const attemptTimeout = 15 * time.Second

// laneConn is a lane's own keep-alive connection to a receiver, and its
// signer. A lane posts on it directly, writing the request and reading the
// answer on the lane's goroutine: net/http's Transport passes each request between three goroutines,
// and on a machine busy with charges every hand-over waited for the scheduler,
// which made a delivery cost several times its work (issue #16's W1 and W2).
// It speaks HTTP/1.1 and reads answers with net/http's own parser.
type laneConn struct {
	target string // the scheme and host the connection is to
	c      net.Conn
	br     *bufio.Reader
	req    []byte    // the request being written, reused
	used   time.Time // when it last carried an answer
	signer signer
}

// message is what one attempt posts.
type message struct {
	id, signature string
	timestamp     int64
	body          []byte
}

// answer is what came back: a status (0: none) and the start of the body.
type answer struct {
	status  int
	snippet []byte
}

// post sends m to u and reads the answer, on the kept connection when there is
// one (and on a new one, once, when the kept one turns out to have been closed
// by the receiver before it read anything). One deadline covers it all.
func (l *laneConn) post(ctx context.Context, u *url.URL, m *message, tc *tls.Config) (answer, error) {
	deadline := time.Now().Add(attemptTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	target := u.Scheme + "://" + u.Host
	if l.c != nil && (l.target != target || time.Since(l.used) > idleTimeout) {
		l.close() // another receiver, or idle long enough for the receiver to have dropped it
	}
	for try := 0; ; try++ {
		reused := l.c != nil
		if !reused {
			if err := l.dial(ctx, u, tc); err != nil {
				return answer{}, err
			}
			l.target = target
		}
		a, err := l.roundTrip(ctx, deadline, u, m)
		if err == nil {
			l.used = time.Now()
			return a, nil
		}
		l.close()
		if !reused || try > 0 || !closedUnread(err) {
			return answer{}, err
		}
	}
}

// idleTimeout is how long a lane's connection is kept unused: receivers close
// idle connections after a while (net/http's client keeps them 90 s).
const idleTimeout = 60 * time.Second

// closedUnread reports whether a request failed because the connection was
// closed before the receiver read it (a kept connection it had dropped), the
// one failure that is safe to send again at once: not a timeout, after which
// the receiver may be working on it still.
func closedUnread(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (l *laneConn) dial(ctx context.Context, u *url.URL, tc *tls.Config) error {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	c, err := (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	if u.Scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if tc != nil {
			cfg = tc.Clone()
		}
		cfg.ServerName = u.Hostname()
		t := tls.Client(c, cfg)
		if err := t.HandshakeContext(ctx); err != nil {
			c.Close()
			return err
		}
		c = t
	}
	l.c = c
	if l.br == nil {
		l.br = bufio.NewReaderSize(c, 4<<10)
	} else {
		l.br.Reset(c)
	}
	return nil
}

// roundTrip writes the request and reads the final answer (past any 1xx).
func (l *laneConn) roundTrip(ctx context.Context, deadline time.Time, u *url.URL, m *message) (a answer, err error) {
	c := l.c // the callback below may run after l.c is closed and cleared
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) }) // shutting down: give up at once
	defer stop()
	l.req = appendRequest(l.req[:0], u, m)
	if _, err := c.Write(l.req); err != nil {
		return a, err
	}
	// Nothing of an answer yet: io.EOF here (not ReadResponse's ErrUnexpectedEOF)
	// is a connection the receiver closed without reading the request.
	if _, err := l.br.Peek(1); err != nil {
		return a, err
	}
	var resp *http.Response
	for {
		if resp, err = http.ReadResponse(l.br, nil); err != nil {
			return a, err
		}
		// An informational answer (103 Early Hints, 102 Processing) precedes the
		// final one: read on, or that one would answer the next request.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	a.status = resp.StatusCode
	a.snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	// The connection is kept only when the whole answer was read, the receiver
	// did not ask to close it, and it still speaks HTTP.
	var one [1]byte
	if _, rest := resp.Body.Read(one[:]); !errors.Is(rest, io.EOF) || resp.Close || a.status == http.StatusSwitchingProtocols {
		l.close()
	}
	resp.Body.Close()
	return a, nil
}

func (l *laneConn) close() {
	if l.c != nil {
		l.c.Close()
		l.c = nil
	}
}

// appendRequest is m as an HTTP/1.1 POST to u, with Standard Webhooks' headers.
func appendRequest(b []byte, u *url.URL, m *message) []byte {
	b = append(b, "POST "...)
	b = append(b, u.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, u.Host...)
	b = append(b, "\r\nUser-Agent: purse-webhooks\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(m.body)), 10)
	b = append(b, "\r\nwebhook-id: "...)
	b = append(b, m.id...)
	b = append(b, "\r\nwebhook-timestamp: "...)
	b = strconv.AppendInt(b, m.timestamp, 10)
	b = append(b, "\r\nwebhook-signature: "...)
	b = append(b, m.signature...)
	b = append(b, "\r\n\r\n"...)
	return append(b, m.body...)
}
