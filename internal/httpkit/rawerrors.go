package httpkit

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
)

// net/http answers some requests itself, before any handler runs, in plain text:
// 400 for a request it cannot parse (a malformed request line or header, a
// missing or repeated Host, a bad Content-Length), 431 for headers over
// MaxHeaderBytes, 501 for a transfer coding it does not know, 505 for an HTTP
// version it does not speak, and a bare 400 to plain HTTP sent to a TLS listener.
// It writes each as one Write on the connection, in a fixed shape no handler's
// response has (a handler's answer carries a Date header, and net/http sorts
// Connection before Content-Type). EnvelopeErrors recognises that shape and sends
// the same status with Infobip's requestError envelope instead, so that every
// answer purse gives a client is one it can parse.
//
// What it cannot reach: with TLS served by purse itself, net/http writes these
// answers into the TLS connection above this wrapper, so they stay plain text
// (behind a proxy that terminates TLS, the usual set-up, they are enveloped);
// HTTP/2 refuses headers over the limit inside its own framing; 417 for an
// unknown Expect goes through the normal response path with an empty body; and a
// client that hangs up or times out before sending a request gets no answer at all.

// EnvelopeErrors wraps l so that net/http's own plain-text error answers reach
// the client as the requestError envelope in JSON, with the same status.
func EnvelopeErrors(l net.Listener) net.Listener { return &envelopeListener{Listener: l} }

type envelopeListener struct{ net.Listener }

func (l *envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &envelopeConn{Conn: c}, nil
}

// envelopeConn looks at a write only when the connection has read since its last
// write: net/http answers a request it could not parse right after reading it,
// while the second and later writes of a long response follow a write, so a body
// that happens to hold net/http's bytes at a buffer boundary is left alone.
type envelopeConn struct {
	net.Conn
	fresh atomic.Bool // a read returned data since the last write
}

// NetConn is the connection underneath, as tls.Conn's NetConn.
func (c *envelopeConn) NetConn() net.Conn { return c.Conn }

func (c *envelopeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.fresh.Store(true)
	}
	return n, err
}

// The fixed parts of net/http's own answers (net/http/server.go, conn.serve and
// the TLS handshake's check for plain HTTP).
var (
	rawPrefix       = []byte("HTTP/1.1 ")
	rawErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")
	rawHTTPToHTTPS  = []byte("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
)

func (c *envelopeConn) Write(p []byte) (int, error) {
	if !c.fresh.Swap(false) || len(p) < 12 || (p[9] != '4' && p[9] != '5') {
		return c.Conn.Write(p) // every 2xx and 3xx, and every later part of an answer
	}
	if out, ok := envelopeFor(p); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes the connection when the one underneath can: net/http
// does it after a 431, so that the client reads the answer instead of a reset.
func (c *envelopeConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// envelopeFor returns the enveloped answer for one of net/http's own, or false
// when p is anything else.
func envelopeFor(p []byte) ([]byte, bool) {
	var status int
	var text string
	switch {
	case bytes.Equal(p, rawHTTPToHTTPS):
		status, text = 400, "Bad request: this listener speaks HTTPS"
	case bytes.HasPrefix(p, rawPrefix):
		line, rest, ok := bytes.Cut(p[len(rawPrefix):], []byte("\r\n"))
		if !ok || !bytes.HasPrefix(rest, rawErrorHeaders[2:]) || len(line) < 4 || line[3] != ' ' {
			return nil, false
		}
		code, err := strconv.Atoi(string(line[:3]))
		if err != nil || code < 400 || code > 599 {
			return nil, false
		}
		// The body repeats the status line, net/http's reason included ("400 Bad
		// Request: missing required Host header"); it never echoes the request.
		status, text = code, string(rest[len(rawErrorHeaders)-2:])
		if _, after, ok := bytes.Cut([]byte(text), []byte(" ")); ok && len(text) > 4 && text[:3] == string(line[:3]) {
			text = string(after)
		}
	default:
		return nil, false
	}
	body := EncodeError(JSON, ServiceException{MessageID: "BAD_REQUEST", Text: text})
	out := make([]byte, 0, 160+len(body))
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, ' ')
	out = append(out, http.StatusText(status)...)
	out = append(out, "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...), true
}
