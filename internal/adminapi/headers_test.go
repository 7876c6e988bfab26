package adminapi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestRepeatedHeadersAreRefused: a request that carries Idempotency-Key or
// Authorization twice is refused with 400 on both listeners, before either header
// is used, whichever of the two values is the good one.
func TestRepeatedHeadersAreRefused(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Main", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"alice","password":"password1"}`, nil)
	admin := "Bearer " + testkit.AdminToken
	alice := basicAuth("alice", "password1")
	tests := []struct {
		name    string
		public  bool
		method  string
		path    string
		body    string
		headers http.Header
		field   string
	}{
		{"admin: two Idempotency-Keys", false, "POST", "/v1/accounts/" + acc + "/top-ups", `{"amount":"5"}`,
			http.Header{"Authorization": {admin}, "Idempotency-Key": {"a", "b"}}, "Idempotency-Key"},
		{"admin: the same Idempotency-Key twice", false, "POST", "/v1/accounts/" + acc + "/top-ups", `{"amount":"5"}`,
			http.Header{"Authorization": {admin}, "Idempotency-Key": {"c", "c"}}, "Idempotency-Key"},
		{"admin: two Idempotency-Keys on a batch", false, "POST", "/v1/batch", `{"operations":[{"op":"top_up","accountId":"` + acc + `","amount":"5"}]}`,
			http.Header{"Authorization": {admin}, "Idempotency-Key": {"d", "e"}}, "Idempotency-Key"},
		{"admin: good token then a bad one", false, "GET", "/v1/accounts", "",
			http.Header{"Authorization": {admin, "Bearer nope"}}, "Authorization"},
		{"admin: bad token then the good one", false, "GET", "/v1/accounts", "",
			http.Header{"Authorization": {"Bearer nope", admin}}, "Authorization"},
		{"public: two Authorization headers", true, "GET", "/account/1/balance", "",
			http.Header{"Authorization": {alice, "App 00ff"}}, "Authorization"},
		{"public: the same Authorization twice", true, "GET", "/account/1/balance", "",
			http.Header{"Authorization": {alice, alice}}, "Authorization"},
		{"public: two Idempotency-Keys", true, "GET", "/account/1/balance", "",
			http.Header{"Authorization": {alice}, "Idempotency-Key": {"a", "b"}}, "Idempotency-Key"},
		{"public: two Authorization headers on a session", true, "POST", "/auth/1/session", `{"username":"alice","password":"password1"}`,
			http.Header{"Authorization": {alice, alice}, "Content-Type": {"application/json"}}, "Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, s)
			base := s.Admin.URL
			if tt.public {
				base = s.Public.URL
			}
			req, err := http.NewRequest(tt.method, base+tt.path, bytes.NewReader([]byte(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.headers.Clone()
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
			if r.Status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400; body %s", r.Status, r.Body)
			}
			var env envelope
			r.JSON(t, &env)
			ex := env.RequestError.ServiceException
			if ex.MessageID != "BAD_REQUEST" || len(ex.ValidationErrors[tt.field]) == 0 {
				t.Errorf("envelope = %+v, want BAD_REQUEST naming %s", ex, tt.field)
			}
			if diff := cmp.Diff(snapshot(t, s), before); diff != "" {
				t.Errorf("state changed (-after +before):\n%s", diff)
			}
		})
	}
}
