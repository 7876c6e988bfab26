package infobipapi_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestEveryOperationMatchesInfobipSpec calls each of the 18 operations of
// Infobip's account-management document through every credential kind its
// security list allows (and, for the routes with one, an error answer too), and
// validates every response, success and error alike, against Infobip's own
// document with kin-openapi. docs/infobip-family.md lists the operations and
// the one deliberate difference this test knows (DELETE /auth/1/session answers
// 204 where the document says 200). It runs on SQLite and on PostgreSQL (with
// PURSE_TEST_POSTGRES).
func TestEveryOperationMatchesInfobipSpec(t *testing.T) {
	doc := loadSpec(t)
	t.Run("sqlite", func(t *testing.T) { everyOperation(t, doc, testkit.New(t)) })
	t.Run("postgres", func(t *testing.T) { everyOperation(t, doc, testkit.NewPostgres(t)) })
}

// everyOperation calls each of the 18 operations on s, through every credential
// kind its security list allows and with an error answer, and validates every
// response against doc.
func everyOperation(t *testing.T, doc *openapi3.T, s *testkit.Stack) {
	c := newCustomer(t, s, "shown")
	// Credentials of each kind, each carrying both scopes the family uses.
	app := c.createKey(t, `{"name":"show","scopeGuids":["account-management:manage","audit-logs:read"]}`)
	var oc struct{ ClientID, ClientSecret string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+c.id+"/oauth-clients", `{"name":"show","scopes":["account-management:manage","audit-logs:read"]}`, nil).JSON(t, &oc)
	form := url.Values{"client_id": {oc.ClientID}, "client_secret": {oc.ClientSecret}, "grant_type": {"client_credentials"}}
	tokenResp := testkit.Do(t, "POST", s.Public.URL+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	tokenResp.JSON(t, &tok)
	sessionResp := testkit.Do(t, "POST", s.Public.URL+"/auth/1/session", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"username":"shown","password":"password-shown","unsafe":false}`))
	var sess struct{ Token string }
	sessionResp.JSON(t, &sess)
	creds := map[string]string{"Basic": c.auth, "APIKeyHeader": "App " + app.APIKeySecret, "IBSSOTokenHeader": "IBSSO " + sess.Token,
		"OAuth2": "Bearer " + tok.AccessToken}

	check := func(t *testing.T, method, template string, r testkit.Response) {
		t.Helper()
		if r.Header.Get("Content-Type") == "" && len(r.Body) == 0 {
			r.Header.Set("Content-Type", "application/json") // an empty answer has none to check
		}
		err := validateResponse(t, doc, method, template, r.Status, r.Header, r.Body)
		if err != nil {
			t.Errorf("%s %s: %d does not match Infobip's document: %v\nbody: %s", method, template, r.Status, err, r.Body)
		}
	}
	send := func(t *testing.T, method, path, auth, body string) testkit.Response {
		t.Helper()
		h := map[string]string{"Accept": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		if body != "" {
			h["Content-Type"] = "application/json"
		}
		return testkit.Do(t, method, s.Public.URL+path, h, []byte(body))
	}
	keyPath := func(v2 bool) string {
		k := c.createKey(t, `{"name":"target"}`)
		if v2 {
			return "/settings/2/api-keys/" + k.ID
		}
		return "/settings/1/accounts/_/api-keys/" + k.ID
	}
	v2Key, v1Key := keyPath(true), keyPath(false)
	var sub struct{ ID string }
	s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"shown's team","parent":"`+c.id+`","funding":"own"}`, nil).JSON(t, &sub)
	type op struct {
		method, template, path, body string
		schemes                      []string // the spec's security list (nil: none)
		status                       int      // of success
		errPath, errBody             string   // a request answered with an error (same route)
		errStatus                    int
	}
	all := []string{"IBSSOTokenHeader", "APIKeyHeader", "Basic", "OAuth2"}
	noApp := []string{"IBSSOTokenHeader", "Basic", "OAuth2"}
	ops := []op{
		{"GET", "/account/1/balance", "/account/1/balance", "", all, 200, "", "", 0},
		{"GET", "/account/1/free-messages", "/account/1/free-messages", "", all, 200, "", "", 0},
		{"GET", "/account/1/total-balance", "/account/1/total-balance", "", all, 200, "", "", 0},
		{"GET", "/settings/1/accounts", "/settings/1/accounts", "", all, 200, "", "", 0},
		{"PUT", "/settings/1/accounts/{accountKey}", "/settings/1/accounts/" + sub.ID, `{"name":"shown's team"}`, all, 200, "/settings/1/accounts/" + c.id, `{"name":"x"}`, 404},
		{"GET", "/settings/1/accounts/{accountKey}/api-keys", "/settings/1/accounts/_/api-keys", "", noApp, 200, "/settings/1/accounts/acc_nobody/api-keys", "", 404},
		{"POST", "/settings/1/accounts/{accountKey}/api-keys", "/settings/1/accounts/_/api-keys", `{"name":"v1","allowedIPs":["127.0.0.1"],"enabled":true,"permissions":["ALL"]}`, noApp, 201,
			"/settings/1/accounts/_/api-keys", `{"name":"v1","allowedIPs":["nonsense"]}`, 400},
		{"GET", "/settings/1/accounts/{accountKey}/api-keys/{key}", v1Key, "", noApp, 200, "/settings/1/accounts/_/api-keys/key_nobody", "", 404},
		{"PUT", "/settings/1/accounts/{accountKey}/api-keys/{key}", v1Key, `{"name":"renamed v1","enabled":true}`, noApp, 200, v1Key, `{"validTo":"never"}`, 400},
		{"GET", "/settings/2/api-keys", "/settings/2/api-keys?page=0&size=10&orderBy=name&orderDirection=desc", "", noApp, 200, "/settings/2/api-keys?size=0", "", 400},
		{"POST", "/settings/2/api-keys", "/settings/2/api-keys", `{"name":"v2","allowedIPs":["127.0.0.0/8","::1"],"validFrom":"2024-09-01T10:00:00","scopeGuids":["account-management:manage"]}`, noApp, 200,
			"/settings/2/api-keys", `{"name":"v2","scopeGuids":["no:such:scope"]}`, 400},
		{"GET", "/settings/2/api-keys/{apiKeyId}", v2Key, "", noApp, 200, "/settings/2/api-keys/key_nobody", "", 404},
		{"PUT", "/settings/2/api-keys/{apiKeyId}", v2Key, `{"name":"renamed v2","enabled":true,"scopeGuids":["account-management:manage"]}`, noApp, 200,
			"/settings/2/api-keys/key_nobody", `{"name":"x"}`, 404},
		{"POST", "/auth/1/session", "/auth/1/session", `{"username":"shown","password":"password-shown","unsafe":true}`, nil, 200, "/auth/1/session", `{"username":`, 400},
		{"POST", "/auth/1/oauth2/token", "/auth/1/oauth2/token", "", nil, 200, "/auth/1/oauth2/token?grant_type=password", "", 400},
		{"GET", "/audit/1/logs/export", "/audit/1/logs/export", "", all, 200, "/audit/1/logs/export?limit=0", "", 400},
		{"GET", "/audit/1/logs", "/audit/1/logs?limit=100&item=ApiKey", "", all, 200, "/audit/1/logs?action=Fly", "", 400},
		{"DELETE", "/auth/1/session", "/auth/1/session", "", []string{"IBSSOTokenHeader"}, 204, "", "", 0},
	}
	if n := len(ops); n != 18 {
		t.Fatalf("%d operations, want Infobip's 18", n)
	}
	for _, o := range ops {
		t.Run(o.method+" "+o.template, func(t *testing.T) {
			switch o.template {
			case "/auth/1/oauth2/token":
				r := testkit.Do(t, "POST", s.Public.URL+o.path, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
				expect(t, r, o.status)
				check(t, o.method, o.template, r)
				r = testkit.Do(t, "POST", s.Public.URL+o.errPath, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("client_id="+oc.ClientID+"&client_secret=x"))
				expect(t, r, o.errStatus)
				check(t, o.method, o.template, r)
				return
			case "/auth/1/session":
				if o.method == "DELETE" {
					r := send(t, "DELETE", o.path, creds["IBSSOTokenHeader"], "")
					expect(t, r, 204)
					// The one deliberate difference: purse answers 204 No Content
					// where Infobip's document says 200 with no content.
					err := validateResponse(t, doc, "DELETE", o.template, r.Status, r.Header, r.Body)
					var re *openapi3filter.ResponseError
					if err == nil || !errors.As(err, &re) || re.Reason != "status is not supported" {
						t.Errorf("204 against the document: %v (the known difference changed: update docs/infobip-family.md)", err)
					}
					r = send(t, "DELETE", o.path, creds["IBSSOTokenHeader"], "") // ended: 401
					expect(t, r, 401)
					check(t, o.method, o.template, r)
					return
				}
			}
			if o.schemes == nil {
				r := send(t, o.method, o.path, "", o.body)
				expect(t, r, o.status)
				check(t, o.method, o.template, r)
			}
			for _, scheme := range o.schemes {
				r := send(t, o.method, o.path, creds[scheme], o.body)
				if r.Status != o.status {
					t.Errorf("%s: status %d, want %d: %s", scheme, r.Status, o.status, r.Body)
				}
				check(t, o.method, o.template, r)
			}
			if o.schemes != nil {
				r := send(t, o.method, o.path, "", o.body) // no credential
				expect(t, r, 401)
				check(t, o.method, o.template, r)
				if !slicesContains(o.schemes, "APIKeyHeader") {
					r := send(t, o.method, o.path, creds["APIKeyHeader"], o.body) // a kind the route does not take
					expect(t, r, 403)
					check(t, o.method, o.template, r)
				}
			}
			if o.errStatus != 0 {
				r := send(t, o.method, o.errPath, c.auth, o.errBody)
				expect(t, r, o.errStatus)
				check(t, o.method, o.template, r)
			}
		})
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func expect(t *testing.T, r testkit.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// TestSpecValidatorRefusesWrongTypes proves the validator of the test above has
// teeth on the new operations: a body with one field of the wrong type fails.
func TestSpecValidatorRefusesWrongTypes(t *testing.T) {
	doc := loadSpec(t)
	header := http.Header{"Content-Type": {"application/json"}}
	good := `{"id":"key_1","accountId":"acc_1","name":"k","allowedIPs":["127.0.0.1"],"validFrom":"2026-01-01T00:00:00Z","enabled":true,"permissions":["PUBLIC_API"],"scopeGuids":["account-management:manage"]}`
	if err := validateResponse(t, doc, "GET", "/settings/2/api-keys/{apiKeyId}", 200, header, []byte(good)); err != nil {
		t.Fatalf("the validator refused a right body: %v", err)
	}
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/settings/2/api-keys/{apiKeyId}", strings.Replace(good, `"enabled":true`, `"enabled":"true"`, 1)},
		{"GET", "/settings/2/api-keys/{apiKeyId}", strings.Replace(good, `"allowedIPs":["127.0.0.1"]`, `"allowedIPs":"127.0.0.1"`, 1)},
		{"GET", "/settings/2/api-keys", `{"apiKeys":[],"paging":{"page":"0","pageSize":10,"totalCount":0,"totalPages":0}}`},
		{"GET", "/audit/1/logs", `[{"id":"a","timestamp":"2026-01-01T00:00:00Z","action":"Login","item":"User","description":"d","ipAddress":"127.0.0.1","username":7}]`},
		{"GET", "/account/1/balance", `{"balance":"47.79134","currency":"EUR"}`},
	} {
		err := validateResponse(t, doc, tt.method, tt.path, 200, header, []byte(tt.body))
		var re *openapi3filter.ResponseError
		if err == nil || !errors.As(err, &re) || !strings.HasPrefix(re.Reason, "response body doesn't match schema") {
			t.Errorf("%s %s: the validator let a wrongly typed field through (or refused for another reason): %v\n%s", tt.method, tt.path, err, tt.body)
		}
	}
	apiErr := `{"errorCode":"E404","description":"d","action":"a","violations":[],"resources":{}}`
	if err := validateResponse(t, doc, "GET", "/settings/2/api-keys/{apiKeyId}", 404, header, []byte(apiErr)); err == nil {
		t.Errorf("the validator accepted an ApiError whose resources is an object")
	}
}
