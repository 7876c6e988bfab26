package httpkit

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

type recorder struct {
	http.ResponseWriter
	status    int
	bytes     int
	principal string // SetPrincipal's
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.headers()
	}
	r.ResponseWriter.WriteHeader(code)
}

// headers adds what depends on the answer: a Content-Security-Policy on HTML
// that brought none of its own (the console's allows its own scripts).
func (r *recorder) headers() {
	h := r.ResponseWriter.Header()
	if ct := h["Content-Type"]; len(ct) > 0 && strings.HasPrefix(ct[0], "text/html") && len(h["Content-Security-Policy"]) == 0 {
		h["Content-Security-Policy"] = htmlCSP
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
		if _, ok := r.ResponseWriter.Header()["Content-Type"]; !ok {
			// net/http will sniff the type from b: do it first, to know about HTML.
			r.ResponseWriter.Header().Set("Content-Type", http.DetectContentType(b))
		}
		r.headers()
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recorders saves a recorder's allocation per request.
var recorders = sync.Pool{New: func() any { return new(recorder) }}

// Observer records a finished request (metrics); route is a bounded label.
type Observer func(listener, route string, status int, d time.Duration)

// Instrument logs one line per request (listener, method, path, status, bytes,
// duration, client address, principal) and reports it to observe. It never logs
// headers, so credentials stay out of the logs. route names the route for metrics:
// the ServeMux pattern when there is one, else what routeOf returns. It is
// InstrumentEdge with the zero Edge.
func Instrument(log *slog.Logger, observe Observer, listener string, routeOf func(*http.Request) string, next http.Handler) http.Handler {
	return InstrumentEdge(log, observe, listener, routeOf, Edge{}, next)
}

// InstrumentEdge is Instrument that also does edge's work: the client address
// behind trusted proxies, the security headers every answer carries (secure), and
// CORS.
func InstrumentEdge(log *slog.Logger, observe Observer, listener string, routeOf func(*http.Request) string, edge Edge, next http.Handler) http.Handler {
	fast, _ := log.Handler().(*JSONHandler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		edge.clientAddr(r)
		secure(w.Header())
		rec := recorders.Get().(*recorder) // a handler must not use w after it returns
		*rec = recorder{ResponseWriter: w}
		if edge.CORS == nil || !edge.CORS.handle(rec, r) {
			next.ServeHTTP(rec, r)
		}
		status, bytes, principal := rec.status, rec.bytes, rec.principal
		*rec = recorder{}
		recorders.Put(rec)
		if status == 0 {
			status = http.StatusOK
		}
		d := time.Since(start)
		if observe != nil {
			route := r.Pattern
			if route == "" && routeOf != nil {
				route = routeOf(r)
			}
			observe(listener, route, status, d)
		}
		client := r.RemoteAddr
		if host, _, err := net.SplitHostPort(client); err == nil {
			client = host
		}
		if fast != nil && fast.Enabled(context.Background(), slog.LevelInfo) {
			fast.LogRequest(start.Add(d), listener, r.Method, r.URL.Path, status, bytes, d, client, principal)
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("listener", listener),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", bytes),
			slog.Duration("duration", d),
			slog.String("client", client),
			slog.String("principal", principal))
	})
}

// MaxBodyBytes is the largest request body purse reads.
const MaxBodyBytes = 64 << 10

// MaxHeaderBytes bounds request headers on both listeners.
const MaxHeaderBytes = 16 << 10

// NewServer returns an http.Server with the timeouts a listener needs: a slow
// client can hold a connection for seconds, not forever. readsBodies says whether
// the handler reads request bodies: only then is a whole-request read timeout set
// (the public API reads none, and every deadline costs timer work per request).
// Writes are bounded by the listener instead: serve it through WriteDeadlines.
func NewServer(h http.Handler, errLog *slog.Logger, readsBodies bool) *http.Server {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(errLog.Handler(), slog.LevelWarn),
	}
	if readsBodies {
		s.ReadTimeout = 30 * time.Second
	}
	return s
}
