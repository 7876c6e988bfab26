package infobipapi_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/infobipapi"
)

// TestRawRequestTargets sends request lines as real clients write them, over a
// real connection: origin-form and absolute-form targets (RFC 9112 §3.2.2, what a
// client talking through a proxy sends), with runs of slashes and the legacy
// format suffixes.
func TestRawRequestTargets(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.Public.URL, "http://")
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/account/1/balance", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"//account/1/balance", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"/account//1///balance", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"//account/1/balance.xml", 200, `<accountBalance><balance>47.79134</balance><currency>EUR</currency></accountBalance>`},
		{"http://" + host + "/account/1/balance", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"http://" + host + "//account/1/balance", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"http://" + host + "//account//1/balance.json", 200, `{"balance":47.79134,"currency":"EUR"}`},
		{"http://" + host + "/account/1/balance.xml", 200, `<accountBalance><balance>47.79134</balance><currency>EUR</currency></accountBalance>`},
		{"//account/1/total-balance", 200, ""},
		{"/account/1/balance/", 404, ""}, // a trailing slash is another path, as in nginx
		{"//", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			c, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "GET "+tt.target+" HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: "+docAuth+"\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body = %s, want %s", body, tt.body)
			}
		})
	}
}

// TestRouteMergesSlashes: the metrics label of a request with extra slashes is its
// route's, so such clients are counted with everyone else.
func TestRouteMergesSlashes(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/account/1/balance", "/account/1/balance"},
		{"//account/1/balance", "/account/1/balance"},
		{"/account///1//total-balance.xml", "/account/1/total-balance"},
		{"//auth/1/oauth2/token", "/auth/1/oauth2/token"},
		{"/account/1/balance/", "other"},
		{"//", "other"},
	}
	for _, tt := range tests {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: tt.path}}
		if got := infobipapi.Route(r); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
