package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rawExchange sends raw bytes to addr (host:port) and reads one response.
func rawExchange(t *testing.T, addr, request string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", request, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// TestNetHTTPErrorsAreEnveloped: the answers net/http writes itself, before any
// handler runs (a malformed request line, headers over the limit, a missing or
// repeated Host, an unknown transfer coding or HTTP version, plain HTTP to an
// HTTPS listener), reach the client as the requestError envelope in JSON, with
// net/http's status, on both listeners.
func TestNetHTTPErrorsAreEnveloped(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	tests := []struct {
		name    string
		request string
		status  int
		text    string // a part of the envelope's text
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, "Bad Request"},
		{"headers too large", "GET /account/1/balance HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", 431, "Too Large"},
		{"missing Host", "GET /account/1/balance HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"two Host headers", "GET /account/1/balance HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Bad Request"},
		{"header name with a space", "GET /account/1/balance HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, "invalid header name"},
		{"control character in a header value", "GET /account/1/balance HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n", 400, "Bad Request"},
		{"unknown transfer coding", "POST /auth/1/session HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Unsupported transfer encoding"},
		{"unknown HTTP version", "GET /account/1/balance HTTP/2.5\r\nHost: a\r\n\r\n", 505, "unsupported protocol version"},
		{"bad Content-Length", "POST /auth/1/session HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400, "Bad Request"},
	}
	for _, listener := range []string{s.public, s.admin} {
		addr := strings.TrimPrefix(listener, "http://")
		for _, tt := range tests {
			t.Run(tt.name+" on "+addr, func(t *testing.T) {
				resp, body := rawExchange(t, addr, tt.request)
				checkEnvelope(t, resp, body, tt.status, tt.text)
			})
		}
	}
	// Still a normal answer for a normal request on the same kind of connection.
	resp, body := rawExchange(t, strings.TrimPrefix(s.public, "http://"), "GET /account/1/balance HTTP/1.1\r\nHost: a\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n")
	if resp.StatusCode != 200 || string(body) != `{"balance":47.79134,"currency":"EUR"}` {
		t.Errorf("a plain request: %d %s", resp.StatusCode, body)
	}
}

// TestPlainHTTPToTLSIsEnveloped: plain HTTP sent to an HTTPS listener gets the
// envelope too (net/http writes that answer below TLS, where purse can see it).
func TestPlainHTTPToTLSIsEnveloped(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--tls-self-signed")
	resp, body := rawExchange(t, strings.TrimPrefix(s.public, "http://"), "GET /account/1/balance HTTP/1.1\r\nHost: a\r\n\r\n")
	checkEnvelope(t, resp, body, 400, "HTTPS")
}

func checkEnvelope(t *testing.T, resp *http.Response, body []byte, status int, text string) {
	t.Helper()
	var env struct {
		RequestError struct {
			ServiceException struct{ MessageID, Text string } `json:"serviceException"`
		} `json:"requestError"`
	}
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json; body %q", ct, body)
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body %q is not the envelope: %v", body, err)
	}
	ex := env.RequestError.ServiceException
	if ex.MessageID != "BAD_REQUEST" || !strings.Contains(ex.Text, text) {
		t.Errorf("envelope = %+v, want BAD_REQUEST with a text containing %q", ex, text)
	}
}
