package infobipapi_test

import (
	"encoding/json"
	"net/url"
	"path/filepath"
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
