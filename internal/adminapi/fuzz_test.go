package adminapi_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// FuzzAdminBodies sends arbitrary bodies to every admin route that reads one. Whatever
// the bytes, the answer is never a 5xx, always JSON, and every refusal is the
// requestError envelope with a messageId.
func FuzzAdminBodies(f *testing.F) {
	s := testkit.New(f)
	acc := s.CreateAccount("Fuzz", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"100"}`, testkit.Key("seed"))
	var ch struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1"}`, testkit.Key("seed-c")).JSON(f, &ch)
	var h struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1","expiresIn":3600}`, testkit.Key("seed-h")).JSON(f, &h)
	routes := []struct{ method, path string }{
		{"POST", "/v1/accounts"},
		{"PATCH", "/v1/accounts/" + acc},
		{"POST", "/v1/accounts/" + acc + "/users"},
		{"POST", "/v1/accounts/" + acc + "/api-keys"},
		{"POST", "/v1/accounts/" + acc + "/top-ups"},
		{"POST", "/v1/accounts/" + acc + "/charges"},
		{"POST", "/v1/accounts/" + acc + "/refunds"},
		{"POST", "/v1/accounts/" + acc + "/adjustments"},
		{"POST", "/v1/accounts/" + acc + "/holds"},
		{"POST", "/v1/holds/" + h.ID + "/capture"},
		{"POST", "/v1/batch"},
	}
	seeds := []string{
		`{"name":"a","currency":"EUR"}`, `{"status":"suspended","monthlyLimit":null}`, `{"username":"u","password":"password1"}`,
		`{"name":"k","scopes":["account-management:manage"]}`, `{"amount":"1.5","metadata":{"a":"b"}}`,
		`{"amount":"0.000001","useFreeMessage":true}`, `{"chargeId":"` + ch.ID + `","amount":"0.5"}`, `{"amount":"-1","reason":"r"}`,
		`{"amount":"1","expiresIn":"10m"}`, `{"amount":"0.5"}`, `{"atomic":true,"operations":[{"op":"charge","accountId":"` + acc + `","amount":"1"}]}`,
		`{"amount":1e400}`, `{"amount":"9223372036854.775808"}`, `[]`, `null`, `{"a":`, "\xff\xfe", `{"amount":"1","amount":"2"}`,
		`{"AMOUNT":"1"}`, "{\"amount\":\"1\",\"reference\":\"\xe9\"}", `{"amount":"1","metadata":{"k":"\u001b[2J","k":"v"}}`,
	}
	for i, body := range seeds {
		f.Add(uint8(i), []byte(body))
	}
	n := 0
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		n++
		r := testkit.Do(t, rt.method, s.Admin.URL+rt.path, map[string]string{
			"Authorization": "Bearer " + testkit.AdminToken, "Content-Type": "application/json", "Idempotency-Key": "fuzz-" + strconv.Itoa(n),
		}, body)
		if r.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, r.Status, r.Body)
		}
		if !json.Valid(r.Body) && len(r.Body) > 0 {
			t.Fatalf("%s %s %q: not JSON: %s", rt.method, rt.path, body, r.Body)
		}
		if r.Status >= 400 {
			var env envelope
			if json.Unmarshal(r.Body, &env) != nil || env.RequestError.ServiceException.MessageID == "" {
				t.Fatalf("%s %s %q: %d without the envelope: %s", rt.method, rt.path, body, r.Status, r.Body)
			}
		}
	})
}
