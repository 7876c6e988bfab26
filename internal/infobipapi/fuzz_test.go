package infobipapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// FuzzPublicBodies sends arbitrary bodies and Authorization headers to the public
// routes that read a body (sessions, OAuth2 tokens). Whatever the bytes: never a
// 5xx, and every refusal is Infobip's envelope.
func FuzzPublicBodies(f *testing.F) {
	s := testkit.New(f)
	acc := s.CreateAccount("F", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"fz","password":"password1"}`, nil)
	for _, seed := range []struct {
		route       uint8
		body, authz string
	}{
		{0, `{"username":"fz","password":"password1"}`, ""},
		{0, `{"username":"fz"}`, ""},
		{0, `{"username":"fz","password":"x","password":"password1"}`, ""},
		{0, `{"USERNAME":"fz","password":"password1"}`, ""},
		{0, "{\"username\":\"f\xe9\",\"password\":\"password1\"}", ""},
		{1, `client_id=oc_x&client_secret=y&grant_type=client_credentials`, ""},
		{1, `grant_type=client_credentials`, "Basic b2M6eA=="},
		{2, ``, "IBSSO abc"},
		{3, ``, "Bearer eyJ.abc"},
	} {
		f.Add(seed.route, []byte(seed.body), seed.authz)
	}
	routes := []struct{ method, path, ctype string }{
		{"POST", "/auth/1/session", "application/json"},
		{"POST", "/auth/1/oauth2/token", "application/x-www-form-urlencoded"},
		{"DELETE", "/auth/1/session", ""},
		{"GET", "/account/1/balance", ""},
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte, authz string) {
		rt := routes[int(route)%len(routes)]
		h := map[string]string{}
		if rt.ctype != "" {
			h["Content-Type"] = rt.ctype
		}
		for i := 0; i < len(authz); i++ {
			if authz[i] < 0x20 || authz[i] == 0x7f {
				return // not a header value an HTTP client can send
			}
		}
		if authz != "" {
			h["Authorization"] = authz
		}
		r := testkit.Do(t, rt.method, s.Public.URL+rt.path, h, body)
		if r.Status >= 500 {
			t.Fatalf("%s %s %q %q: %d %s", rt.method, rt.path, body, authz, r.Status, r.Body)
		}
		if r.Status >= 400 {
			var env struct {
				RequestError struct {
					ServiceException struct{ MessageID string } `json:"serviceException"`
				} `json:"requestError"`
			}
			if json.Unmarshal(r.Body, &env) != nil || env.RequestError.ServiceException.MessageID == "" {
				t.Fatalf("%s %s: %d without the envelope: %s", rt.method, rt.path, r.Status, r.Body)
			}
		}
	})
}

// FuzzPublicTargets sends arbitrary paths and query strings (the two parts of a
// request target the public API now reads: runs of slashes, OAuth2 parameters in
// the query), with and without a form body. Never a 5xx, and every refusal is
// Infobip's envelope.
func FuzzPublicTargets(f *testing.F) {
	s := testkit.New(f)
	acc := s.CreateAccount("F", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"fz","password":"password1"}`, nil)
	for _, seed := range []struct{ path, query, body string }{
		{"//account/1/balance", "", ""},
		{"/account//1///total-balance.xml", "", ""},
		{"//auth/1/oauth2/token", "client_secret=x&client_id=oc_x&grant_type=client_credentials", ""},
		{"/auth/1/oauth2/token", "client_id=a&client_id=b", "client_id=c&grant_type=client_credentials"},
		{"/auth/1/oauth2/token", "grant_type=%zz", ""},
		{"///", "a=;b", ""},
	} {
		f.Add(seed.path, seed.query, []byte(seed.body))
	}
	printable := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#' {
				return false
			}
		}
		return true
	}
	f.Fuzz(func(t *testing.T, path, query string, body []byte) {
		if !strings.HasPrefix(path, "/") || !printable(path) || !printable(query) {
			return // not a request target an HTTP client sends
		}
		method := "GET"
		if strings.Contains(path, "oauth2") {
			method = "POST"
		}
		req, err := http.NewRequest(method, s.Public.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Path, req.URL.RawQuery = path, query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("fz:password1")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q ?%q: %d %s", method, path, query, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			var env struct {
				RequestError struct {
					ServiceException struct{ MessageID string } `json:"serviceException"`
				} `json:"requestError"`
			}
			if err := json.Unmarshal(b, &env); err != nil && !bytes.HasPrefix(b, []byte("<requestError>")) || err == nil && env.RequestError.ServiceException.MessageID == "" {
				t.Fatalf("%s %q ?%q: %d without the envelope: %s", method, path, query, resp.StatusCode, b)
			}
		}
	})
}
