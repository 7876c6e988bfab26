package webhook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	scheme, host string // where the connection is to
	c            net.Conn
	br           *bufio.Reader
	req          []byte    // the request being written, reused
	used         time.Time // when it last carried an answer
	signer       signer
	previous     signer // for a rotated subscription's previous secret
	pace         pacer  // its rate while the writer is saturated (pace.go)
	// raw is the TCP socket under c (under TLS too), for looking into it without
	// reading (unasked): peek looks, into waiting, made once a lane.
	raw     syscall.RawConn
	peek    func(fd uintptr)
	waiting bool
	// watched is the context whose end aborts the connection's I/O, and unwatch
	// stops that: one watch a connection, not one an attempt (a context and an
	// AfterFunc an attempt were a tenth of a delivery's own processor time).
	watched context.Context
	unwatch func() bool
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
// by the receiver before it read anything). One deadline covers it all: the
// attempt's timeout, or ctx's deadline if that is sooner; ctx's end aborts it.
func (l *laneConn) post(ctx context.Context, u *url.URL, m *message, tc *tls.Config) (answer, error) {
	deadline := time.Now().Add(attemptTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if l.c != nil && (l.scheme != u.Scheme || l.host != u.Host || time.Since(l.used) > idleTimeout) {
		l.close() // another receiver, or idle long enough for the receiver to have dropped it
	}
	if l.c != nil && l.unasked() {
		l.close() // it holds bytes no request asked for, or the receiver closed it
	}
	for try := 0; ; try++ {
		reused := l.c != nil
		if !reused {
			if err := l.dial(ctx, deadline, u, tc); err != nil {
				return answer{}, err
			}
			l.scheme, l.host = u.Scheme, u.Host
		}
		l.watch(ctx)
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

// watch makes ctx's end abort the connection's I/O at once (shutting down).
func (l *laneConn) watch(ctx context.Context) {
	if l.watched == ctx {
		return
	}
	if l.unwatch != nil {
		l.unwatch()
	}
	c := l.c // the callback may run after l.c is closed and cleared
	l.watched, l.unwatch = ctx, context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
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

func (l *laneConn) dial(ctx context.Context, deadline time.Time, u *url.URL, tc *tls.Config) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	c, err := (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	l.raw = nil
	if tcp, ok := c.(*net.TCPConn); ok {
		if l.raw, err = tcp.SyscallConn(); err != nil {
			c.Close()
			return err
		}
		if l.peek == nil {
			l.peek = func(fd uintptr) {
				var b [1]byte
				n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				l.waiting = n > 0 || err == nil // bytes, or the end of the stream (n 0)
			}
		}
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

// unasked reports whether the kept connection holds bytes that no request asked
// for, or was closed by the receiver: an answer sent twice or unasked would
// otherwise be read as the answer to the next request, and an event the
// receiver never took would count as delivered. One look into the socket, not
// a read; an answer that arrives between it and the request's write is not
// caught (net/http's Transport has the same window). The lane's own buffer is
// empty here: roundTrip drops a connection that brought more than its answer.
func (l *laneConn) unasked() bool {
	if l.raw == nil {
		return false
	}
	l.waiting = false
	if err := l.raw.Control(l.peek); err != nil { // Control, not Read: whatever the deadline
		return true
	}
	if _, ok := l.c.(*tls.Conn); ok {
		return l.tlsUnasked()
	}
	return l.waiting
}

// tlsUnasked is unasked under TLS, where the socket holds records, not answers:
// tls.Conn may have pulled a stray answer's record off the socket with the real
// one's, and a record on the socket may be a post-handshake message (a session
// ticket) rather than data. A read that may take only what has come tells: data
// is unasked, a timeout is nothing, anything else a closed connection. tls.Conn
// does not keep a timeout as the connection's error.
func (l *laneConn) tlsUnasked() bool {
	until := time.Unix(1, 0) // what tls.Conn holds already, no system call
	if l.waiting {
		until = time.Now().Add(time.Millisecond) // and what waits on the socket
	}
	l.c.SetReadDeadline(until)
	_, err := l.br.Peek(1)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// roundTrip writes the request and reads the final answer (past any 1xx).
func (l *laneConn) roundTrip(ctx context.Context, deadline time.Time, u *url.URL, m *message) (a answer, err error) {
	l.c.SetDeadline(deadline)
	if err := ctx.Err(); err != nil { // after SetDeadline: a later end is watch's to see
		return a, err
	}
	l.req = appendRequest(l.req[:0], u, m)
	if _, err := l.c.Write(l.req); err != nil {
		return a, err
	}
	// Nothing of an answer yet: io.EOF here (not ReadResponse's ErrUnexpectedEOF)
	// is a connection the receiver closed without reading the request.
	if _, err := l.br.Peek(1); err != nil {
		return a, err
	}
	a, keep, ok := plainAnswer(l.br)
	if !ok {
		if a, keep, err = readAnswer(l.br); err != nil {
			return a, err
		}
	}
	if !keep || l.br.Buffered() > 0 { // more than the answer came: unasked
		l.close()
	}
	return a, nil
}

// snippetMax is how much of an answer's body is kept; drainMax how much more is
// read past it so the connection can carry the next request (a longer answer
// closes it instead).
const (
	snippetMax = 512
	drainMax   = 64 << 10
)

// readAnswer reads an answer with net/http's parser: whatever plainAnswer
// leaves, such as informational answers, chunked bodies and HTTP/1.0. keep is
// whether the connection can carry another request.
func readAnswer(br *bufio.Reader) (a answer, keep bool, err error) {
	var resp *http.Response
	for {
		if resp, err = http.ReadResponse(br, nil); err != nil {
			return a, false, err
		}
		// An informational answer (103 Early Hints, 102 Processing) precedes the
		// final one: read on, or that one would answer the next request.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	a.status = resp.StatusCode
	a.snippet, _ = io.ReadAll(io.LimitReader(resp.Body, snippetMax))
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainMax))
	// The connection is kept only when the whole answer was read, the receiver
	// did not ask to close it, and it still speaks HTTP.
	var one [1]byte
	_, rest := resp.Body.Read(one[:])
	keep = errors.Is(rest, io.EOF) && !resp.Close && a.status != http.StatusSwitchingProtocols
	resp.Body.Close()
	return a, keep, nil
}

// plainAnswer reads the answer most receivers give, without net/http's
// allocations: HTTP/1.1, a final status, its whole head already buffered, and a
// body framed by Content-Length (or none: 204, 304). Anything else (ok false)
// is left unread for readAnswer. Headers other than Content-Length,
// Transfer-Encoding and Connection do not matter to a webhook sender.
func plainAnswer(br *bufio.Reader) (a answer, keep, ok bool) {
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return a, false, false
	}
	status, length, keep, ok := plainHead(buf[:end+2])
	if !ok {
		return a, false, false
	}
	br.Discard(end + 4)
	a.status = status
	if n := min(length, snippetMax); n > 0 {
		a.snippet = make([]byte, n)
		if k, err := io.ReadFull(br, a.snippet); err != nil {
			a.snippet = a.snippet[:k] // cut short: what came, and the connection goes
			return a, false, true
		}
	}
	rest := length - int64(len(a.snippet))
	if rest > drainMax {
		return a, false, true // not read to its end: the connection cannot be reused
	}
	if _, err := br.Discard(int(rest)); err != nil {
		return a, false, true
	}
	return a, keep, true
}

// plainHead reads a plain answer's head (CRLF-terminated lines): its status,
// its body's length and whether the connection is kept; ok false for a head
// plainAnswer leaves to net/http.
func plainHead(head []byte) (status int, length int64, keep, ok bool) {
	line, head, _ := bytes.Cut(head, []byte("\r\n"))
	if status, ok = plainStatus(line); !ok {
		return 0, 0, false, false
	}
	length, keep = -1, true
	for len(head) > 0 {
		line, head, _ = bytes.Cut(head, []byte("\r\n"))
		if length, keep, ok = plainHeader(line, length, keep); !ok {
			return 0, 0, false, false
		}
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		length = 0 // they have no body, whatever they say (RFC 9112, 6.3)
	}
	// No length: a body read until the connection closes.
	return status, length, keep, length >= 0
}

// plainStatus reads an HTTP/1.1 status line with a final status.
func plainStatus(line []byte) (int, bool) {
	if len(line) < 12 || string(line[:9]) != "HTTP/1.1 " || (len(line) > 12 && line[12] != ' ') || !fieldText(line) {
		return 0, false
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false
		}
		status = status*10 + int(c-'0')
	}
	return status, status >= 200 && status <= 599
}

// plainHeader reads one header line into the body's length and whether the
// connection is kept. A name of token bytes and a value of text: a bare LF, a
// stray CR, a control byte or a folded line is net/http's to judge (ok false),
// or it could hide the end of the head or a header that frames the body.
func plainHeader(line []byte, length int64, keep bool) (int64, bool, bool) {
	name, value, found := bytes.Cut(line, []byte(":"))
	if !found || len(name) == 0 || !token(name) || !fieldText(value) {
		return 0, false, false
	}
	value = bytes.Trim(value, " \t")
	switch {
	case lowerIs(name, "content-length"):
		n, err := strconv.ParseUint(string(value), 10, 63) // digits only, as net/http
		if length >= 0 || err != nil {
			return 0, false, false
		}
		length = int64(n)
	case lowerIs(name, "transfer-encoding"):
		return 0, false, false
	case lowerIs(name, "connection"):
		for _, t := range bytes.Split(value, []byte(",")) {
			if lowerIs(bytes.TrimSpace(t), "close") {
				keep = false
			}
		}
	}
	return length, keep, true
}

// token reports whether b is an HTTP token (RFC 9110, 5.6.2): a header name.
func token(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// fieldText reports whether b holds no control byte but tab: no CR or LF
// within a line, no NUL, no DEL.
func fieldText(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// lowerIs reports whether b, with its ASCII letters made lower case, is lower.
func lowerIs(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func (l *laneConn) close() {
	if l.unwatch != nil {
		l.unwatch()
		l.watched, l.unwatch = nil, nil
	}
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
