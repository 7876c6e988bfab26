package adminapi_test

import (
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestAPIKeyRestrictions: the admin API makes and changes keys with allowed
// addresses, validity and disabled; a change takes effect on the next request,
// a keyed update replays its answer, and OAuth2 clients refuse restrictions.
func TestAPIKeyRestrictions(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Rules", "EUR")
	var k struct {
		ID, Key, ValidTo string
		AllowedIPs       []string
		Disabled         bool
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/api-keys",
		`{"name":"office","allowedIPs":["192.0.2.0/24","2001:db8::1"],"validTo":"2099-01-01T00:00:00Z"}`, nil).JSON(t, &k)
	if strings.Join(k.AllowedIPs, ",") != "192.0.2.0/24,2001:db8::1/128" || k.ValidTo != "2099-01-01T00:00:00Z" || k.Disabled {
		t.Errorf("created %+v", k)
	}
	bal := func() int {
		return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": "App " + k.Key}, nil).Status
	}
	if got := bal(); got != 401 {
		t.Errorf("from 127.0.0.1, outside allowedIPs: %d", got)
	}
	path := "/v1/accounts/" + acc + "/api-keys/" + k.ID
	r := s.MustAdmin(200, "PATCH", path, `{"allowedIPs":["127.0.0.0/8"],"validTo":null}`, map[string]string{"Idempotency-Key": "widen"})
	if got := bal(); got != 200 {
		t.Errorf("after widening: %d", got)
	}
	again := s.MustAdmin(200, "PATCH", path, `{"allowedIPs":["127.0.0.0/8"],"validTo":null}`, map[string]string{"Idempotency-Key": "widen"})
	if string(again.Body) != string(r.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay %s %v, first %s", again.Body, again.Header, r.Body)
	}
	s.MustAdmin(200, "PATCH", path, `{"disabled":true}`, nil)
	if got := bal(); got != 401 {
		t.Errorf("disabled: %d", got)
	}
	s.MustAdmin(200, "PATCH", path, `{"disabled":false,"validFrom":"2098-01-01T00:00:00Z"}`, nil)
	if got := bal(); got != 401 {
		t.Errorf("before validFrom: %d", got)
	}
	for _, body := range []string{`{"allowedIPs":["nope"]}`, `{"validTo":"tomorrow"}`, `{"scopes":["no:such"]}`, `{"name":""}`} {
		if r := s.AdminDo("PATCH", path, body, nil); r.Status != 400 {
			t.Errorf("PATCH %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := s.AdminDo("PATCH", "/v1/accounts/"+acc+"/api-keys/key_nope", `{"name":"x"}`, nil); r.Status != 404 {
		t.Errorf("PATCH of no key: %d %s", r.Status, r.Body)
	}
	other := s.CreateAccount("Other", "EUR")
	if r := s.AdminDo("PATCH", "/v1/accounts/"+other+"/api-keys/"+k.ID, `{"name":"x"}`, nil); r.Status != 404 {
		t.Errorf("PATCH through another account: %d %s", r.Status, r.Body)
	}
	if r := s.AdminDo("POST", "/v1/accounts/"+acc+"/oauth-clients", `{"name":"c","allowedIPs":["127.0.0.1"]}`, nil); r.Status != 400 {
		t.Errorf("OAuth2 client with allowedIPs: %d %s", r.Status, r.Body)
	}
}
