package infobipapi_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestOAuth2ClientCredentials issues a token, uses it, lets it expire, and revokes
// the client; a client without the scope gets 403 with a valid token.
func TestOAuth2ClientCredentials(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("O", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"7"}`, testkit.Key("t"))
	var oc struct{ ClientID, ClientSecret string }
	r := s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/oauth-clients", `{"name":"backend"}`, nil)
	r.JSON(t, &oc)
	if oc.ClientID == "" || len(oc.ClientSecret) != 64 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created client: %s", r.Body)
	}
	token := func(id, secret, grant string) testkit.Response {
		form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {grant}}
		return testkit.Do(t, "POST", s.Public.URL+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	}
	r = token(oc.ClientID, oc.ClientSecret, "client_credentials")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(r.Body, &tok); r.Status != 200 || err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}
	balance := func(h map[string]string) testkit.Response {
		return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", h, nil)
	}
	if r := balance(bearer); r.Status != 200 || string(r.Body) != `{"balance":7,"currency":"EUR"}` {
		t.Fatalf("Bearer: %d %s", r.Status, r.Body)
	}
	// Tampered, expired, revoked.
	if r := balance(map[string]string{"Authorization": "Bearer " + tok.AccessToken + "x"}); r.Status != 401 {
		t.Errorf("tampered token: %d", r.Status)
	}
	clock.Advance(time.Hour)
	if r := balance(bearer); r.Status != 401 {
		t.Errorf("expired token: %d", r.Status)
	}
	r = token(oc.ClientID, oc.ClientSecret, "client_credentials")
	json.Unmarshal(r.Body, &tok)
	bearer["Authorization"] = "Bearer " + tok.AccessToken
	if r := balance(bearer); r.Status != 200 {
		t.Fatalf("fresh token: %d", r.Status)
	}
	s.MustAdmin(204, "DELETE", "/v1/accounts/"+acc+"/oauth-clients/"+oc.ClientID, "", nil)
	if r := balance(bearer); r.Status != 401 {
		t.Errorf("token of a revoked client: %d", r.Status)
	}
	if r := token(oc.ClientID, oc.ClientSecret, "client_credentials"); r.Status != 401 {
		t.Errorf("revoked client asking for a token: %d", r.Status)
	}
	// Bad requests.
	if r := token(oc.ClientID, oc.ClientSecret, "password"); r.Status != 400 {
		t.Errorf("wrong grant type: %d %s", r.Status, r.Body)
	}
	if r := token("oc_nope", "x", "client_credentials"); r.Status != 401 {
		t.Errorf("unknown client: %d", r.Status)
	}
	// Scopes hold for tokens too: a client without account-management:manage is 403.
	var weak struct{ ClientID, ClientSecret string }
	insertScopelessOAuth(t, s, acc, &weak.ClientID, &weak.ClientSecret)
	r = token(weak.ClientID, weak.ClientSecret, "client_credentials")
	json.Unmarshal(r.Body, &tok)
	if r := balance(map[string]string{"Authorization": "Bearer " + tok.AccessToken}); r.Status != 403 {
		t.Errorf("token without the scope: %d %s", r.Status, r.Body)
	}
	var list struct{ OAuthClients []map[string]any }
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/oauth-clients", "", nil).JSON(t, &list)
	if len(list.OAuthClients) != 2 || list.OAuthClients[0]["clientSecret"] != nil {
		t.Errorf("listed clients: %+v", list)
	}
}

// oauthFixture is an account with 7 EUR and an OAuth2 client of it.
func oauthFixture(t *testing.T) (s *testkit.Stack, id, secret string) {
	t.Helper()
	s = testkit.New(t)
	acc := s.CreateAccount("O", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"7"}`, testkit.Key("t"))
	var oc struct{ ClientID, ClientSecret string }
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/oauth-clients", `{"name":"sdk"}`, nil).JSON(t, &oc)
	return s, oc.ClientID, oc.ClientSecret
}

// TestOAuth2NodeSDKRequest replays, byte for byte over a real connection, the
// request Infobip's Node SDK (@infobip-api/sdk 0.3.2, src/apis/auth.ts, through
// axios) sends for a token: every parameter in the query string (in the SDK's
// order), an empty urlencoded body, and `Authorization: undefined` (its Http class
// interpolates an unset credential).
func TestOAuth2NodeSDKRequest(t *testing.T) {
	s, id, secret := oauthFixture(t)
	host := strings.TrimPrefix(s.Public.URL, "http://")
	query := "client_secret=" + url.QueryEscape(secret) + "&client_id=" + url.QueryEscape(id) + "&grant_type=client_credentials"
	raw := "POST /auth/1/oauth2/token?" + query + " HTTP/1.1\r\n" +
		"Accept: application/json, text/plain, */*\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		"Authorization: undefined\r\n" +
		"User-Agent: axios/1.6.0\r\n" +
		"Content-Length: 0\r\n" +
		"Accept-Encoding: gzip, compress, deflate, br\r\n" +
		"Host: " + host + "\r\n" +
		"Connection: close\r\n\r\n"
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); resp.StatusCode != 200 || err != nil || tok.TokenType != "Bearer" || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": "Bearer " + tok.AccessToken}, nil)
	if r.Status != 200 || string(r.Body) != `{"balance":7,"currency":"EUR"}` {
		t.Errorf("balance with the SDK's token: %d %s", r.Status, r.Body)
	}
}

// TestOAuth2TokenRequests covers where the parameters may come from and the
// errors, which are the spec's OAuthApiException: an RFC 6749 error code beside
// Infobip's envelope, always JSON.
func TestOAuth2TokenRequests(t *testing.T) {
	s, id, secret := oauthFixture(t)
	doc := loadSpec(t)
	form := "application/x-www-form-urlencoded"
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	all := func(id, secret, grant string) string {
		return q("client_id", id, "client_secret", secret, "grant_type", grant)
	}
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	tests := []struct {
		name   string
		query  string
		body   string
		header map[string]string
		status int
		error  string // the body's "error"; "" for a token
		golden string // a golden file pinning the whole body, if any
	}{
		{"form body", "", all(id, secret, "client_credentials"), map[string]string{"Content-Type": form}, 200, "", ""},
		{"query string, no body", all(id, secret, "client_credentials"), "", nil, 200, "", ""},
		{"query string, JSON body", all(id, secret, "client_credentials"), `{}`, map[string]string{"Content-Type": "application/json"}, 200, "", ""},
		{"split between query and body", q("client_id", id, "grant_type", "client_credentials"), q("client_secret", secret), map[string]string{"Content-Type": form}, 200, "", ""},
		{"same values in both", all(id, secret, "client_credentials"), all(id, secret, "client_credentials"), map[string]string{"Content-Type": form}, 200, "", ""},
		{"HTTP Basic", q("grant_type", "client_credentials"), "", map[string]string{"Authorization": basicAuth}, 200, "", ""},
		{"HTTP Basic agreeing with the query", all(id, secret, "client_credentials"), "", map[string]string{"Authorization": basicAuth}, 200, "", ""},
		{"Accept XML still gets JSON", all(id, secret, "client_credentials"), "", map[string]string{"Accept": "application/xml"}, 200, "", ""},

		{"wrong secret in the query", all(id, "wrong", "client_credentials"), "", nil, 401, "invalid_client", "oauth_invalid_client"},
		{"wrong secret in the body", "", all(id, "wrong", "client_credentials"), map[string]string{"Content-Type": form}, 401, "invalid_client", "oauth_invalid_client"},
		{"unknown client", all("oc_nope", "x", "client_credentials"), "", nil, 401, "invalid_client", "oauth_invalid_client"},
		{"no credentials", q("grant_type", "client_credentials"), "", map[string]string{"Authorization": "undefined"}, 401, "invalid_client", "oauth_invalid_client"},
		{"wrong secret, XML asked", all(id, "wrong", "client_credentials"), "", map[string]string{"Accept": "application/xml"}, 401, "invalid_client", "oauth_invalid_client"},
		{"password grant", all(id, secret, "password"), "", nil, 400, "unsupported_grant_type", "oauth_unsupported_grant_type"},
		{"authorization_code grant in the body", "", all(id, secret, "authorization_code"), map[string]string{"Content-Type": form}, 400, "unsupported_grant_type", "oauth_unsupported_grant_type"},
		{"no grant", q("client_id", id, "client_secret", secret), "", nil, 400, "invalid_request", "oauth_invalid_request_no_grant"},
		{"client_id differs", q("client_id", "oc_other", "grant_type", "client_credentials"), q("client_id", id, "client_secret", secret), map[string]string{"Content-Type": form}, 400, "invalid_request", "oauth_invalid_request_differs"},
		{"grant_type differs", q("grant_type", "password"), all(id, secret, "client_credentials"), map[string]string{"Content-Type": form}, 400, "invalid_request", ""},
		{"client_id twice", all(id, secret, "client_credentials") + "&client_id=" + url.QueryEscape(id), "", nil, 400, "invalid_request", ""},
		{"HTTP Basic differing from the query", all(id, "other", "client_credentials"), "", map[string]string{"Authorization": basicAuth}, 400, "invalid_request", ""},
		{"bad query escape", "client_id=%zz&grant_type=client_credentials", "", nil, 400, "invalid_request", "oauth_invalid_request_bad_form"},
		{"form body too large", "", all(id, secret, "client_credentials") + "&pad=" + strings.Repeat("x", 70<<10), map[string]string{"Content-Type": form}, 400, "invalid_request", "oauth_invalid_request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.Public.URL + "/auth/1/oauth2/token"
			if tt.query != "" {
				u += "?" + tt.query
			}
			r := testkit.Do(t, "POST", u, tt.header, []byte(tt.body))
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d (%s)", r.Status, tt.status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			var got struct {
				AccessToken  string `json:"access_token"`
				Error        string `json:"error"`
				RequestError struct {
					ServiceException struct{ MessageID, Text string }
				} `json:"requestError"`
			}
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			if tt.error == "" {
				if got.AccessToken == "" {
					t.Errorf("no access_token in %s", r.Body)
				}
			} else {
				if got.Error != tt.error {
					t.Errorf("error = %q, want %q (%s)", got.Error, tt.error, r.Body)
				}
				if got.RequestError.ServiceException.MessageID == "" || got.RequestError.ServiceException.Text == "" {
					t.Errorf("no requestError.serviceException in %s", r.Body)
				}
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, "application/json", r.Body)
			}
			if err := validateResponse(t, doc, "POST", "/auth/1/oauth2/token", r.Status, r.Header, r.Body); err != nil {
				t.Errorf("response does not match the spec: %v", err)
			}
		})
	}
}
