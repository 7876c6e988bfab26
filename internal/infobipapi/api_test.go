package infobipapi_test

import (
	"encoding/base64"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

const docAuth = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" // from Infobip's documentation

// fixture is an account with the documented balance and every kind of credential a
// test needs: the documented user, a scoped key, a key without the scope, and a user
// of a suspended account.
type fixture struct {
	*testkit.Stack
	goodKey, scopelessKey string
}

func newFixture(t *testing.T) *fixture {
	s := testkit.New(t)
	acc := s.CreateAccount("Docs", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"Aladdin","password":"open sesame"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"47.79134"}`, map[string]string{"Idempotency-Key": "seed"})
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"allowedMinus":"5","monthlyLimit":"100","freeMessages":3}`, nil)
	var k struct{ Key string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/api-keys", `{"name":"ok"}`, nil).JSON(t, &k)
	// No scope that lacks account-management:manage can be granted yet, so this key
	// is written to the store directly, as a migration from another system could.
	scopeless := "scopeless-" + strings.Repeat("0", 54)
	insertScopelessKey(t, s, acc, scopeless)
	sus := s.CreateAccount("Suspended", "USD")
	s.MustAdmin(201, "POST", "/v1/accounts/"+sus+"/users", `{"username":"sleepy","password":"password1"}`, nil)
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+sus, `{"status":"suspended"}`, nil)
	// An account without a monthly limit: total-balance omits monthlyLimit and
	// monthlyBalance.
	plain := s.CreateAccount("Plain", "USD")
	s.MustAdmin(201, "POST", "/v1/accounts/"+plain+"/users", `{"username":"plain","password":"password1"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+plain+"/top-ups", `{"amount":"12.5"}`, map[string]string{"Idempotency-Key": "seed-plain"})
	return &fixture{Stack: s, goodKey: k.Key, scopelessKey: scopeless}
}

func TestGolden(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
		ctype  string
	}{
		{"balance_json", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/json"}, 200, "application/json"},
		{"balance_json", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"balance_json", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "*/*"}, 200, "application/json"},
		{"balance_json", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/*"}, 200, "application/json"},
		{"balance_json", "GET", "/account/1/balance.json", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 200, "application/json"},
		{"balance_json", "GET", "/account/1/balance", map[string]string{"Authorization": "App " + f.goodKey}, 200, "application/json"},
		{"balance_xml", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 200, "application/xml"},
		{"balance_xml", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "text/xml"}, 200, "application/xml"},
		{"balance_xml", "GET", "/account/1/balance.xml", map[string]string{"Authorization": docAuth}, 200, "application/xml"},
		{"balance_xml", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/json;q=0.2, application/xml;q=0.8"}, 200, "application/xml"},
		{"total_balance_json", "GET", "/account/1/total-balance", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"total_balance_xml", "GET", "/account/1/total-balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 200, "application/xml"},
		{"total_balance_xml", "GET", "/account/1/total-balance.xml", map[string]string{"Authorization": "App " + f.goodKey}, 200, "application/xml"},
		{"total_balance_nolimit_json", "GET", "/account/1/total-balance", map[string]string{"Authorization": basic("plain", "password1")}, 200, "application/json"},
		{"total_balance_nolimit_xml", "GET", "/account/1/total-balance", map[string]string{"Authorization": basic("plain", "password1"), "Accept": "application/xml"}, 200, "application/xml"},
		{"free_messages_json", "GET", "/account/1/free-messages", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"free_messages_xml", "GET", "/account/1/free-messages", map[string]string{"Authorization": docAuth, "Accept": "text/xml"}, 200, "application/xml"},
		{"unauthorized_json", "GET", "/account/1/total-balance", nil, 401, "application/json"},
		{"forbidden_scope_xml", "GET", "/account/1/free-messages", map[string]string{"Authorization": "App " + f.scopelessKey, "Accept": "application/xml"}, 403, "application/xml"},
		{"unauthorized_json", "GET", "/account/1/balance", nil, 401, "application/json"},
		{"unauthorized_json", "GET", "/account/1/balance", map[string]string{"Authorization": basic("Aladdin", "wrong")}, 401, "application/json"},
		{"unauthorized_json", "GET", "/account/1/balance", map[string]string{"Authorization": basic("nobody", "open sesame")}, 401, "application/json"},
		{"unauthorized_xml", "GET", "/account/1/balance", map[string]string{"Authorization": basic("Aladdin", "wrong"), "Accept": "application/xml"}, 401, "application/xml"},
		{"forbidden_scope_json", "GET", "/account/1/balance", map[string]string{"Authorization": "App " + f.scopelessKey}, 403, "application/json"},
		{"forbidden_scope_xml", "GET", "/account/1/balance", map[string]string{"Authorization": "App " + f.scopelessKey, "Accept": "application/xml"}, 403, "application/xml"},
		{"forbidden_inactive_json", "GET", "/account/1/balance", map[string]string{"Authorization": basic("sleepy", "password1")}, 403, "application/json"},
		{"forbidden_inactive_xml", "GET", "/account/1/balance", map[string]string{"Authorization": basic("sleepy", "password1"), "Accept": "application/xml"}, 403, "application/xml"},
		{"not_found_json", "GET", "/account/1/nope", map[string]string{"Authorization": docAuth}, 404, "application/json"},
		{"not_found_xml", "GET", "/account/2/balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 404, "application/xml"},
		{"method_not_allowed_json", "POST", "/account/1/balance", map[string]string{"Authorization": docAuth}, 405, "application/json"},
		{"method_not_allowed_xml", "DELETE", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 405, "application/xml"},
		// Runs of slashes count as one (a base URL ending in "/"), on every route.
		{"balance_json", "GET", "//account/1/balance", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"balance_json", "GET", "/account//1///balance", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"balance_xml", "GET", "//account/1/balance.xml", map[string]string{"Authorization": docAuth}, 200, "application/xml"},
		{"total_balance_json", "GET", "//account/1/total-balance", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"total_balance_xml", "GET", "///account//1/total-balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, 200, "application/xml"},
		{"free_messages_json", "GET", "//account/1/free-messages", map[string]string{"Authorization": docAuth}, 200, "application/json"},
		{"not_found_json", "GET", "//account/1//nope", map[string]string{"Authorization": docAuth}, 404, "application/json"},
		{"method_not_allowed_json", "POST", "//account/1/balance", map[string]string{"Authorization": docAuth}, 405, "application/json"},
		{"not_acceptable", "GET", "/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "text/html"}, 406, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.method+tt.path+"/"+tt.header["Accept"], func(t *testing.T) {
			r := testkit.Do(t, tt.method, f.Public.URL+tt.path, tt.header, nil)
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", r.Status, tt.status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			checkGolden(t, tt.name, tt.ctype, r.Body)
		})
	}
	// A failing store must give GENERAL_ERROR and leak nothing: close it under the
	// server, then send a credential that is not cached yet.
	t.Run("general_error", func(t *testing.T) {
		f.Store.Close()
		for _, accept := range []string{"application/json", "application/xml"} {
			r := testkit.Do(t, "GET", f.Public.URL+"/account/1/balance", map[string]string{"Authorization": basic("uncached", "password1"), "Accept": accept}, nil)
			if r.Status != 500 {
				t.Fatalf("status = %d, want 500 (%s)", r.Status, r.Body)
			}
			name := "general_error_json"
			if accept == "application/xml" {
				name = "general_error_xml"
			}
			checkGolden(t, name, accept, r.Body)
		}
	})
}

func checkGolden(t *testing.T, name, ctype string, got []byte) {
	t.Helper()
	ext := ".json"
	if strings.Contains(ctype, "xml") {
		ext = ".xml"
	}
	path := filepath.Join("testdata", "golden", name+ext)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to create it)", path, err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("body differs from %s (-got +want):\n%s", path, diff)
	}
}

// TestDocumentedBodies pins the two bodies of Infobip's documentation literally,
// independent of the golden files, so an -update can never drift them.
func TestDocumentedBodies(t *testing.T) {
	f := newFixture(t)
	r := testkit.Do(t, "GET", f.Public.URL+"/account/1/balance", map[string]string{"Authorization": docAuth}, nil)
	if got, want := string(r.Body), `{"balance":47.79134,"currency":"EUR"}`; got != want {
		t.Errorf("JSON body = %s, want %s", got, want)
	}
	r = testkit.Do(t, "GET", f.Public.URL+"/account/1/balance", map[string]string{"Authorization": docAuth, "Accept": "application/xml"}, nil)
	if got, want := string(r.Body), `<accountBalance><balance>47.79134</balance><currency>EUR</currency></accountBalance>`; got != want {
		t.Errorf("XML body = %s, want %s", got, want)
	}
	r = testkit.Do(t, "GET", f.Public.URL+"/account/1/balance", nil, nil)
	if got, want := string(r.Body), `{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`; got != want {
		t.Errorf("401 body = %s, want %s", got, want)
	}
}

// TestBalanceRendering checks that zero, tiny, large and negative balances render
// as exact JSON numbers.
func TestBalanceRendering(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("R", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"r","password":"password1"}`, nil)
	auth := map[string]string{"Authorization": basic("r", "password1")}
	steps := []struct{ topUp, want string }{
		{"", `{"balance":0,"currency":"EUR"}`},
		{"0.000001", `{"balance":0.000001,"currency":"EUR"}`},
		{"0.1", `{"balance":0.100001,"currency":"EUR"}`},
		{"0.2", `{"balance":0.300001,"currency":"EUR"}`},
		{"9999999.699999", `{"balance":10000000,"currency":"EUR"}`},
	}
	for i, st := range steps {
		if st.topUp != "" {
			s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"`+st.topUp+`"}`, map[string]string{"Idempotency-Key": "k" + string(rune('a'+i))})
		}
		r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", auth, nil)
		if string(r.Body) != st.want {
			t.Errorf("after %q: body %s, want %s", st.topUp, r.Body, st.want)
		}
	}
	if r := testkit.Do(t, "HEAD", s.Public.URL+"/account/1/balance", auth, nil); r.Status != http.StatusOK || len(r.Body) != 0 {
		t.Errorf("HEAD: %d %q", r.Status, r.Body)
	}
	// Below zero, within the allowed overdraft, the balance is still a plain JSON number.
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"allowedMinus":"20000000"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"10000001.5"}`, map[string]string{"Idempotency-Key": "neg"})
	r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", auth, nil)
	if string(r.Body) != `{"balance":-1.5,"currency":"EUR"}` {
		t.Errorf("negative balance: %s", r.Body)
	}
	r = testkit.Do(t, "GET", s.Public.URL+"/account/1/balance.xml", auth, nil)
	if string(r.Body) != `<accountBalance><balance>-1.5</balance><currency>EUR</currency></accountBalance>` {
		t.Errorf("negative balance in XML: %s", r.Body)
	}
}
