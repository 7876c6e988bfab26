package httpkit

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEnvelopeErrorsLeavesHandlersAlone: a handler's own answers, a plain-text 400
// from http.Error included, pass through the wrapper byte for byte; net/http's
// own 431 on the same server is enveloped.
func TestEnvelopeErrorsLeavesHandlersAlone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{MaxHeaderBytes: 1 << 10, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/error":
			w.Header().Set("Connection", "close")
			http.Error(w, "400 Bad Request", http.StatusBadRequest)
		case "/big":
			io.WriteString(w, strings.Repeat("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n", 100))
		default:
			io.WriteString(w, "ok")
		}
	})}
	go srv.Serve(EnvelopeErrors(l))
	t.Cleanup(func() { srv.Close() })
	exchange := func(req string) (int, string, string) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	type answer struct {
		Status      int
		ContentType string
		Body        string
	}
	tests := []struct {
		name, req string
		want      answer
	}{
		{"a handler's 200", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", answer{200, "text/plain; charset=utf-8", "ok"}},
		{"a handler's plain-text 400", "GET /error HTTP/1.1\r\nHost: a\r\n\r\n", answer{400, "text/plain; charset=utf-8", "400 Bad Request\n"}},
		{"a body that looks like net/http's answer", "GET /big HTTP/1.1\r\nHost: a\r\n\r\n", answer{200, "text/plain; charset=utf-8",
			strings.Repeat("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n", 100)}},
		{"net/http's 431", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", answer{431, "application/json",
			`{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Request Header Fields Too Large"}}}`}},
		{"net/http's 400 with a reason", "GET / HTTP/1.1\r\n\r\n", answer{400, "application/json",
			`{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad Request: missing required Host header"}}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ct, b := exchange(tt.req)
			if diff := cmp.Diff(answer{s, ct, b}, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}
