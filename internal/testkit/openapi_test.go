package testkit_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestValidatorRejectsWrongBodies shows that the check every testkit exchange goes
// through has teeth: bodies, statuses and routes that differ from the documents
// fail it, while the real answers they are modelled on pass.
func TestValidatorRejectsWrongBodies(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("V", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"val","password":"password1"}`, nil)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("val:password1"))
	admin, public := testkit.Documents(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	xmlHeader := http.Header{"Content-Type": {"application/xml"}}
	tests := []struct {
		name   string
		doc    *testkit.Document
		method string
		path   string
		resp   testkit.Response
		want   string // "" passes; else a part of the error
	}{
		{"balance as sent", public, "GET", "/account/1/balance",
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"balance":47.79,"currency":"EUR"}`)}, ""},
		{"balance a string", public, "GET", "/account/1/balance",
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"balance":"47.79","currency":"EUR"}`)}, "doesn't match schema"},
		{"balance without currency", public, "GET", "/account/1/balance",
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"balance":47.79}`)}, "doesn't match schema"},
		{"XML balance as sent", public, "GET", "/account/1/balance.xml",
			testkit.Response{Status: 200, Header: xmlHeader, Body: []byte(`<accountBalance><balance>47.79</balance><currency>EUR</currency></accountBalance>`)}, ""},
		{"XML balance not a number", public, "GET", "/account/1/balance.xml",
			testkit.Response{Status: 200, Header: xmlHeader, Body: []byte(`<accountBalance><balance>lots</balance><currency>EUR</currency></accountBalance>`)}, "doesn't match schema"},
		{"XML balance under another root", public, "GET", "/account/1/balance",
			testkit.Response{Status: 200, Header: xmlHeader, Body: []byte(`<balance><balance>1</balance><currency>EUR</currency></balance>`)}, "root element"},
		{"a status the route does not answer", public, "GET", "/account/1/balance",
			testkit.Response{Status: 418, Header: jsonHeader, Body: []byte(`{}`)}, "status is not supported"},
		{"a 200 on a route the document lacks", public, "GET", "/account/1/secret",
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"balance":1,"currency":"EUR"}`)}, "no operation"},
		{"a 404 on it in the envelope", public, "GET", "/account/1/secret",
			testkit.Response{Status: 404, Header: jsonHeader, Body: []byte(`{"requestError":{"serviceException":{"messageId":"NOT_FOUND","text":"Resource not found"}}}`)}, ""},
		{"an admin account with a field the document lacks", admin, "GET", "/v1/accounts/" + acc,
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"id":"a","name":"n","currency":"EUR","status":"active","balance":"0","allowedMinus":"0","monthlyLimit":null,"freeMessages":0,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","secret":"x"}`)}, "doesn't match schema"},
		{"an admin amount as a number", admin, "GET", "/v1/accounts/" + acc,
			testkit.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"id":"a","name":"n","currency":"EUR","status":"active","balance":0,"allowedMinus":"0","monthlyLimit":null,"freeMessages":0,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`)}, "doesn't match schema"},
		{"an admin error without the envelope", admin, "GET", "/v1/accounts/" + acc,
			testkit.Response{Status: 404, Header: jsonHeader, Body: []byte(`{"error":"not found"}`)}, "doesn't match schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://purse.test"+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.doc.Check(req, nil, tt.resp)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted %s", tt.resp.Body)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("refused for another reason: %v (want %q)", err, tt.want)
			default:
				t.Logf("%v", err)
			}
		})
	}
	// And the real answers, through the same check inside testkit.Do.
	testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": basic}, nil)
	testkit.Do(t, "GET", s.Public.URL+"/account/1/total-balance", map[string]string{"Authorization": basic, "Accept": "application/xml"}, nil)
}

// TestOpenAPIServed: each listener serves its own document at /openapi.json
// without a credential, and it is the one the tests validate against.
func TestOpenAPIServed(t *testing.T) {
	s := testkit.New(t)
	for _, tt := range []struct{ name, url, title string }{
		{"public", s.Public.URL, "purse public API"},
		{"admin", s.Admin.URL, "purse admin API"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := testkit.Do(t, "GET", tt.url+"/openapi.json", nil, nil)
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var doc struct {
				OpenAPI string
				Info    struct{ Title string }
			}
			r.JSON(t, &doc)
			if got := doc.OpenAPI + " " + doc.Info.Title; !strings.HasPrefix(got, "3.1.0 "+tt.title) {
				t.Errorf("got %q, want OpenAPI 3.1.0 %q", got, tt.title)
			}
		})
	}
}
