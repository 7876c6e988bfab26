package adminapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/testkit"
)

// signed is one delivery as it arrived: its headers and body.
type signed struct {
	header http.Header
	body   []byte
}

// TestRotateWebhookSecret: a rotation answers a new secret once (never in a
// read), and the deliveries are then signed with both secrets until the
// overlap ends on purse's clock, then with the new one only; keepPreviousFor 0
// ends the old one at once. Bad input is a 400 with the field's error, an
// unknown subscription a 404.
func TestRotateWebhookSecret(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Now: clock.Now,
		Webhooks: app.WebhookOptions{Poll: 10 * time.Millisecond}})
	acc := s.CreateAccount("Rotated", "EUR")
	var mu sync.Mutex
	var got []signed
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, signed{r.Header.Clone(), body})
		mu.Unlock()
	}))
	defer rcv.Close()
	// next tops the account up and returns the delivery of its entry.created.
	next := func() signed {
		t.Helper()
		mu.Lock()
		n := len(got)
		mu.Unlock()
		s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key(strconv.FormatInt(time.Now().UnixNano(), 10)))
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			if len(got) > n {
				d := got[n]
				mu.Unlock()
				return d
			}
			mu.Unlock()
		}
		t.Fatal("the top-up was not delivered")
		return signed{}
	}
	verifies := func(secret string, d signed) bool {
		return client.VerifyWebhook(secret, d.header, d.body, 0) == nil
	}

	var sub struct {
		ID, Secret, PreviousSecretUntil, SecretFingerprint string
	}
	fingerprint := func(secret string) string {
		sum := sha256.Sum256([]byte(secret))
		return hex.EncodeToString(sum[:8])
	}
	s.MustAdmin(http.StatusCreated, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`","types":["entry.created"]}`, nil).JSON(t, &sub)
	first := sub.Secret
	if d := next(); !verifies(first, d) || strings.Contains(d.header.Get("webhook-signature"), " ") {
		t.Fatalf("before a rotation: signature %q, want one that the secret verifies", d.header.Get("webhook-signature"))
	}

	if sub.SecretFingerprint != fingerprint(first) {
		t.Errorf("secretFingerprint %q, want %q", sub.SecretFingerprint, fingerprint(first))
	}
	// Conditional on the secret in force: the same request sent twice rotates once.
	cond := `{"keepPreviousFor":3600,"ifSecretFingerprint":"` + sub.SecretFingerprint + `"}`
	r := s.MustAdmin(http.StatusOK, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", cond, nil)
	r.JSON(t, &sub)
	second := sub.Secret
	if twice := s.MustAdmin(http.StatusConflict, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", cond, nil); !strings.Contains(string(twice.Body), "rotated since") {
		t.Errorf("the same conditional rotation sent twice: %s", twice.Body)
	}
	// Many at once from the same reading: the store's conditional update lets
	// one through, whatever the API's own check saw.
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	same := `{"ifSecretFingerprint":"` + fingerprint(second) + `"}`
	for range 8 {
		wg.Go(func() {
			switch st := s.AdminDo("POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", same, nil).Status; st {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusConflict:
				refused.Add(1)
			default:
				t.Errorf("a concurrent conditional rotation: status %d", st)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || refused.Load() != 7 {
		t.Fatalf("8 rotations from one reading: %d made, %d refused; want 1 and 7", ok.Load(), refused.Load())
	}
	// The one that went through kept second as the previous secret (a day):
	// rotate once more, unconditionally, to a known state for what follows.
	s.MustAdmin(http.StatusOK, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", `{"keepPreviousFor":0}`, nil).JSON(t, &sub)
	second = sub.Secret
	s.MustAdmin(http.StatusOK, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", `{"keepPreviousFor":3600}`, nil).JSON(t, &sub)
	first, second = second, sub.Secret
	var read struct{ SecretFingerprint string }
	s.MustAdmin(http.StatusOK, "GET", "/v1/webhooks/"+sub.ID, "", nil).JSON(t, &read)
	if read.SecretFingerprint != fingerprint(second) || sub.SecretFingerprint != read.SecretFingerprint {
		t.Errorf("after the rotation the fingerprint reads %q (answered %q), want %q", read.SecretFingerprint, sub.SecretFingerprint, fingerprint(second))
	}
	if !strings.HasPrefix(second, "whsec_") || second == first {
		t.Fatalf("rotation answered secret %q (the first was %q)", second, first)
	}
	if want := clock.Now().Add(time.Hour).Format(time.RFC3339); !strings.HasPrefix(sub.PreviousSecretUntil, want[:19]) {
		t.Errorf("previousSecretUntil %q, want %s", sub.PreviousSecretUntil, want)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the answer with the secret has Cache-Control %q, want no-store", cc)
	}
	if read := s.MustAdmin(http.StatusOK, "GET", "/v1/webhooks/"+sub.ID, "", nil).Body; strings.Contains(string(read), second) ||
		!strings.Contains(string(read), "previousSecretUntil") {
		t.Errorf("a read of the subscription: %s", read)
	}
	d := next()
	if !verifies(first, d) || !verifies(second, d) {
		t.Errorf("within the overlap: signature %q, want one each secret verifies", d.header.Get("webhook-signature"))
	}
	clock.Advance(2 * time.Hour) // the overlap is over
	if d := next(); verifies(first, d) || !verifies(second, d) {
		t.Errorf("after the overlap: signature %q, want the new secret's only", d.header.Get("webhook-signature"))
	}
	if read := s.MustAdmin(http.StatusOK, "GET", "/v1/webhooks/"+sub.ID, "", nil).Body; strings.Contains(string(read), "previousSecretUntil") {
		t.Errorf("a read after the overlap still names the old secret's end: %s", read)
	}
	s.App.PruneEvents(t.Context(), 7*24*time.Hour) // the housekeeping that forgets it
	if stored, err := s.Store.Subscription(t.Context(), sub.ID); err != nil || stored.PreviousSecret != "" {
		t.Errorf("the store still holds the old secret after its overlap and a prune (%v)", err)
	}

	sub.PreviousSecretUntil = ""
	s.MustAdmin(http.StatusOK, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", `{"keepPreviousFor":0}`, nil).JSON(t, &sub)
	if d := next(); verifies(second, d) || !verifies(sub.Secret, d) || sub.PreviousSecretUntil != "" {
		t.Errorf("keepPreviousFor 0: signature %q, previousSecretUntil %q; want the newest secret's only", d.header.Get("webhook-signature"), sub.PreviousSecretUntil)
	}
	// No body: the old secret signs too for a day.
	s.MustAdmin(http.StatusOK, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", "", nil).JSON(t, &sub)
	if want := clock.Now().Add(24 * time.Hour).Format(time.RFC3339); !strings.HasPrefix(sub.PreviousSecretUntil, want[:19]) {
		t.Errorf("with no body previousSecretUntil %q, want %s", sub.PreviousSecretUntil, want)
	}

	for _, c := range []struct{ body, field string }{
		{`{"ifSecretFingerprint":"ABCDEF0123456789"}`, "ifSecretFingerprint"},
		{`{"ifSecretFingerprint":""}`, "ifSecretFingerprint"},
		{`{"keepPreviousFor":-1}`, "keepPreviousFor"},
		{`{"keepPreviousFor":604801}`, "keepPreviousFor"},
		{`{"keepPreviousFor":"1h"}`, "keepPreviousFor"},
		{`{"keep":60}`, "keep"},
	} {
		r := s.MustAdmin(http.StatusBadRequest, "POST", "/v1/webhooks/"+sub.ID+"/rotate-secret", c.body, nil)
		if !strings.Contains(string(r.Body), c.field) {
			t.Errorf("%s: %s, want an error naming %s", c.body, r.Body, c.field)
		}
	}
	s.MustAdmin(http.StatusNotFound, "POST", "/v1/webhooks/whk_none/rotate-secret", `{}`, nil)
}
