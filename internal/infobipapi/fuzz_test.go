package infobipapi_test

import (
	"encoding/json"
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
