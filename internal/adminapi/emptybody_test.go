package adminapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestChunkedEmptyBodyIsNoBody: the operations whose body may be left out
// (capture: the whole hold; rotate-secret: the defaults) take a chunked body
// of no bytes as none, as they take Content-Length: 0; a chunked body with
// bytes is read as usual.
func TestChunkedEmptyBodyIsNoBody(t *testing.T) {
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{})
	acc := s.CreateAccount("Chunked", "EUR")
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"10"}`, testkit.Key("chunked-top-up"))
	keys := 0
	chunked := func(path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest("POST", s.Admin.URL+path, io.NopCloser(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.TransferEncoding = []string{"chunked"}
		req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		keys++
		req.Header.Set("Idempotency-Key", fmt.Sprint("chunked-", keys)) // capture's; rotate-secret ignores it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("POST %s: status %d, body not JSON: %v", path, resp.StatusCode, err)
		}
		return resp.StatusCode, v
	}

	captured := func(v map[string]any) any { // a capture's answer: {"entry", "hold"}
		h, _ := v["hold"].(map[string]any)
		return h["captured"]
	}
	var hold struct{ ID string }
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"2","expiresIn":600}`, testkit.Key("chunked-hold")).JSON(t, &hold)
	if status, v := chunked("/v1/holds/"+hold.ID+"/capture", ""); status != http.StatusOK || captured(v) != "2" {
		t.Errorf("capture with a chunked empty body: %d %v, want 200 capturing the whole hold (2)", status, v)
	}
	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"3","expiresIn":600}`, testkit.Key("chunked-hold-2")).JSON(t, &hold)
	if status, v := chunked("/v1/holds/"+hold.ID+"/capture", `{"amount":"1"}`); status != http.StatusOK || captured(v) != "1" {
		t.Errorf("capture with a chunked body of 1: %d %v, want 200 capturing 1", status, v)
	}

	var hook struct{ ID string }
	s.MustAdmin(http.StatusCreated, "POST", "/v1/webhooks", `{"url":"http://127.0.0.1:9/hook"}`, nil).JSON(t, &hook)
	if status, v := chunked("/v1/webhooks/"+hook.ID+"/rotate-secret", ""); status != http.StatusOK || v["secret"] == nil || v["previousSecretUntil"] == nil {
		t.Errorf("rotate-secret with a chunked empty body: %d %v, want 200 with a new secret and the old one kept a day", status, v)
	}
	if status, v := chunked("/v1/webhooks/"+hook.ID+"/rotate-secret", `{"keepPreviousFor":0}`); status != http.StatusOK || v["previousSecretUntil"] != nil {
		t.Errorf(`rotate-secret with a chunked {"keepPreviousFor":0}: %d %v, want 200 without previousSecretUntil`, status, v)
	}
	if status, v := chunked("/v1/webhooks/"+hook.ID+"/rotate-secret", `{"keepPreviousFor":-1}`); status != http.StatusBadRequest {
		t.Errorf("rotate-secret with a chunked bad body: %d %v, want 400", status, v)
	}
}
