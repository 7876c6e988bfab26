package httpkit

import (
	"net"
	"sync/atomic"
	"time"
)

// WriteTimeout bounds how long a write to a client may stay blocked.
const WriteTimeout = 30 * time.Second

// WriteDeadlines wraps l so that no write to a connection stays blocked for longer
// than about d: a client that stops reading loses its connection, not a goroutine
// and its buffers forever. It stands in for http.Server.WriteTimeout, which sets a
// deadline and clears it again around every request (two timer operations and a
// clock read per request, a few percent of a balance read); here a write renews
// the connection's deadline only when a third of d has passed since the last
// renewal, so a blocked write fails after between 2/3·d and d. A slow client that
// keeps reading is not cut off in the middle of a long response.
func WriteDeadlines(l net.Listener, d time.Duration) net.Listener {
	return &deadlineListener{Listener: l, d: d}
}

type deadlineListener struct {
	net.Listener
	d time.Duration
}

func (l *deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, d: l.d}, nil
}

type deadlineConn struct {
	net.Conn
	d     time.Duration
	renew atomic.Int64 // Unix nanoseconds from which a write renews the deadline
}

// NetConn is the connection underneath, as tls.Conn's NetConn (fault injection
// resets it with SO_LINGER 0).
func (c *deadlineConn) NetConn() net.Conn { return c.Conn }

func (c *deadlineConn) Write(p []byte) (int, error) {
	if now := time.Now(); now.UnixNano() >= c.renew.Load() {
		if err := c.Conn.SetWriteDeadline(now.Add(c.d)); err != nil {
			return 0, err
		}
		c.renew.Store(now.Add(c.d / 3).UnixNano())
	}
	return c.Conn.Write(p)
}

// SetWriteDeadline sets a caller's deadline, which holds until it passes. A zero
// one (net/http clears the deadline after every request) leaves the rolling
// deadline in place: "no deadline" is what this wrapper exists to prevent.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	c.renew.Store(t.UnixNano())
	return c.Conn.SetWriteDeadline(t)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

// CloseWrite half-closes the connection when the one underneath can: net/http does
// it before closing a connection whose request it did not read to the end, so that
// the client reads the response (a 413, say) instead of a reset.
func (c *deadlineConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
