package app_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/app"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/seed"
	"github.com/purse-ledger/purse/internal/testkit"
)

// snapshot is what a seed writes, read back from the store: every account with
// its balance and settings, its entries, its users and its API keys.
type snapshot struct {
	Accounts []ledger.Account
	Entries  map[string][]ledger.Entry
	Users    map[string][]string
	Keys     map[string][]string
	Webhooks []ledger.Subscription
}

func snap(t *testing.T, s *testkit.Stack) snapshot {
	t.Helper()
	ctx := context.Background()
	accts, err := s.Store.LoadAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := snapshot{Accounts: accts, Entries: map[string][]ledger.Entry{}, Users: map[string][]string{}, Keys: map[string][]string{}}
	if out.Webhooks, err = s.Ledger.ListSubscriptions(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range out.Webhooks { // delivery state moves on its own; the settings are the seed's
		w := &out.Webhooks[i]
		w.Cursor, w.Attempts, w.FailingSince, w.LeaseOwner, w.LeaseUntil, w.DisabledReason = 0, 0, time.Time{}, "", time.Time{}, ""
	}
	for _, a := range accts {
		if out.Entries[a.ID], err = s.Store.Entries(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		users, _ := s.Store.UsersOf(ctx, a.ID)
		for _, u := range users {
			out.Users[a.ID] = append(out.Users[a.ID], u.Username+" "+u.PasswordHash)
		}
		keys, _ := s.Store.APIKeysOf(ctx, a.ID)
		for _, k := range keys {
			out.Keys[a.ID] = append(out.Keys[a.ID], k.ID+" "+k.Hash+" "+k.CreatedAt.String())
		}
	}
	return out
}

// TestSeedTwice: the documentation's seed applied twice, in one run and across
// a restart, changes nothing the second time; what it made answers on the
// public API with the file's secrets.
func TestSeedTwice(t *testing.T) {
	f, err := seed.Load(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "purse.db")
	s := testkit.Open(t, db, testkit.Options{Emulator: true, Seed: f})
	first := snap(t, s)

	if got, want := s.Balance("acc_shop")["balance"], "10"; got != want {
		t.Errorf("acc_shop balance = %v, want %v", got, want)
	}
	// The sub-accounts: an own-funded one with its own 2 EUR, a shared one that
	// reads (and spends) its parent's balance.
	for _, c := range []struct{ auth, want string }{
		{basic("shop-eu"), `{"balance":2,"currency":"EUR"}`},
		{"App test-key-shop-app-0123456789", `{"balance":10,"currency":"EUR"}`},
	} {
		r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": c.auth}, nil)
		if got := string(r.Body); r.Status != 200 || got != c.want {
			t.Errorf("sub-account balance with %.12s...: %d %s, want 200 %s", c.auth, r.Status, got, c.want)
		}
	}
	var subs struct {
		Accounts []struct{ ID, Funding string } `json:"accounts"`
	}
	s.MustAdmin(200, "GET", "/v1/accounts/acc_shop/sub-accounts", "", nil).JSON(t, &subs)
	if got, want := fmt.Sprint(subs.Accounts), "[{acc_shop_app shared} {acc_shop_eu own}]"; got != want {
		t.Errorf("acc_shop's sub-accounts = %s, want %s", got, want)
	}

	// The webhook, with the file's secret (never shown again by the API).
	var hooks struct {
		Webhooks []struct {
			ID, URL, AccountID string
			Types              []string
			WithChildren       bool
			Secret             string
		}
	}
	s.MustAdmin(200, "GET", "/v1/webhooks", "", nil).JSON(t, &hooks)
	if got, want := fmt.Sprintf("%+v", hooks.Webhooks), "[{ID:whk_shop_billing URL:http://127.0.0.1:9000/purse-events AccountID:acc_shop Types:[balance.low topup.requested] WithChildren:true Secret:}]"; got != want {
		t.Errorf("webhooks = %s, want %s", got, want)
	}
	if len(first.Webhooks) != 1 || first.Webhooks[0].Secret != "whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE=" {
		t.Errorf("stored webhooks %+v, want one with the file's secret", first.Webhooks)
	}

	var acc map[string]any
	s.MustAdmin(200, "GET", "/v1/accounts/acc_shop", "", nil).JSON(t, &acc)
	if acc["monthlyLimit"] != "500" || acc["freeMessages"] != 100.0 || acc["allowedMinus"] != "0" {
		t.Errorf("acc_shop settings: %v", acc)
	}
	for _, h := range []string{"App test-key-shop-0123456789", basic("shop")} {
		r := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": h}, nil)
		if got, want := string(r.Body), `{"balance":10,"currency":"EUR"}`; r.Status != 200 || got != want {
			t.Errorf("balance with %.10s...: %d %s, want 200 %s", h, r.Status, got, want)
		}
	}

	again, err := seed.Apply(context.Background(), f, s.Engine, s.Auth, s.Store, discard())
	if err != nil {
		t.Fatal(err)
	}
	if again != (seed.Applied{}) {
		t.Errorf("the second application did %+v, want nothing", again)
	}
	if diff := cmp.Diff(snap(t, s), first); diff != "" {
		t.Errorf("store after the second application (-got +want):\n%s", diff)
	}

	s.Close()
	restarted := testkit.Open(t, db, testkit.Options{Emulator: true, Seed: f})
	if diff := cmp.Diff(snap(t, restarted), first); diff != "" {
		t.Errorf("store after a restart with the same seed (-got +want):\n%s", diff)
	}

	// A spent balance is not refilled by a restart; a raised one tops up the difference.
	restarted.MustAdmin(201, "POST", "/v1/accounts/acc_shop/charges", `{"amount":"4"}`, testkit.Key("spend"))
	f.Accounts[0].Balance = "12"
	n, err := seed.Apply(context.Background(), f, restarted.Engine, restarted.Auth, restarted.Store, discard())
	if err != nil {
		t.Fatal(err)
	}
	if n != (seed.Applied{TopUps: 1}) || restarted.Balance("acc_shop")["balance"] != "8" {
		t.Errorf("balance raised to 12 after spending 4: %+v, balance %v; want one top-up of 2, balance 8", n, restarted.Balance("acc_shop")["balance"])
	}

	// A webhook whose secret the operator rotated is theirs now: the seed leaves it
	// (a never-rotated one with another secret is another subscription, an error).
	restarted.MustAdmin(200, "POST", "/v1/webhooks/whk_shop_billing/rotate-secret", `{"keepPreviousFor":0}`, nil)
	if n, err := seed.Apply(context.Background(), f, restarted.Engine, restarted.Auth, restarted.Store, discard()); err != nil || n != (seed.Applied{}) {
		t.Errorf("the seed after a rotation: %+v, %v; want nothing done", n, err)
	}
	clash := ledger.Subscription{ID: "whk_clash", URL: "http://127.0.0.1:9/other", Secret: "whsec_b3RoZXItc3Vic2NyaXB0aW9ucy1zZWNyZXQtdGVzdHM=",
		Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := restarted.Store.CreateSubscription(context.Background(), clash); err != nil {
		t.Fatal(err)
	}
	f.Webhooks = append(f.Webhooks, f.Webhooks[0])
	f.Webhooks[1].ID = "whk_clash"
	if _, err := seed.Apply(context.Background(), f, restarted.Engine, restarted.Auth, restarted.Store, discard()); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("a seed webhook whose id a never-rotated subscription with another secret holds: %v, want an error", err)
	}
}

// TestSeedSecretsNeedDemoOrEmulator: a seed with passwords, API keys or webhook
// signing secrets is refused
// on a store that is neither a demo nor an emulator, before the store is made;
// one without secrets is fine.
func TestSeedSecretsNeedDemoOrEmulator(t *testing.T) {
	f, err := seed.Load(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "purse.db")
	_, err = app.New(context.Background(), app.Config{DB: db, AdminToken: testkit.AdminToken, Seed: f})
	if !errors.Is(err, seed.ErrFixedSecrets) || !strings.Contains(err.Error(), "--demo or --emulator") {
		t.Errorf("app.New with a seed holding secrets: %v, want %v", err, seed.ErrFixedSecrets)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused start left a store behind: %v", err)
	}
	for i := range f.Accounts {
		f.Accounts[i].Users, f.Accounts[i].APIKeys = nil, nil
	}
	if !f.HasSecrets() { // the webhook's signing secret is one too
		t.Error("a seed with a webhook but no users or keys: HasSecrets false, want true")
	}
	f.Webhooks = nil
	s := testkit.Open(t, db, testkit.Options{Seed: f})
	if got := s.Balance("acc_bystander")["balance"]; got != "5" {
		t.Errorf("a seed without secrets, without --emulator: acc_bystander balance %v, want 5", got)
	}
}

// TestSeedBadFiles: a seed that cannot be applied is refused with the field it
// is about, before anything is written.
func TestSeedBadFiles(t *testing.T) {
	for _, tt := range []struct{ name, file, want string }{
		{"unknown field", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","colour":"red"}]}`, `unknown field "colour"`},
		{"bad id", `{"accounts":[{"id":"a b","name":"A","currency":"EUR"}]}`, `accounts[0]: id "a b"`},
		{"bad currency", `{"accounts":[{"id":"acc_a","name":"A","currency":"eur"}]}`, "currency"},
		{"bad balance", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","balance":"1.2.3"}]}`, "balance"},
		{"short password", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","users":[{"username":"u","password":"x"}]}]}`, "users[0].password"},
		{"short key", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","apiKeys":[{"id":"key_a","name":"k","key":"short"}]}]}`, "apiKeys[0]"},
		{"id twice", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR"},{"id":"acc_a","name":"B","currency":"EUR"}]}`, "given twice"},
		{"two objects", `{"accounts":[]} {}`, "more after"},
		{"parent later in the file", `{"accounts":[{"id":"acc_b","name":"B","currency":"EUR","parent":"acc_a"},{"id":"acc_a","name":"A","currency":"EUR"}]}`, `accounts[0]: parent "acc_a" is not an account given earlier`},
		{"two levels", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR"},{"id":"acc_b","name":"B","currency":"EUR","parent":"acc_a"},{"id":"acc_c","name":"C","currency":"EUR","parent":"acc_b"}]}`, "accounts[2]: parent \"acc_b\" is itself a sub-account"},
		{"parent's currency", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR"},{"id":"acc_b","name":"B","currency":"USD","parent":"acc_a"}]}`, "accounts[1]: currency USD differs"},
		{"bad funding", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR"},{"id":"acc_b","name":"B","currency":"EUR","parent":"acc_a","funding":"pooled"}]}`, `funding "pooled"`},
		{"funding without parent", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","funding":"own"}]}`, "funding is for sub-accounts"},
		{"bad allowedIPs", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","apiKeys":[{"id":"key_a","name":"k","key":"0123456789abcdef","allowedIPs":["10.0.0.1/8"]}]}]}`, "apiKeys[0]: allowedIPs"},
		{"bad validTo", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","apiKeys":[{"id":"key_a","name":"k","key":"0123456789abcdef","validTo":"tomorrow"}]}]}`, `apiKeys[0]: validTo "tomorrow"`},
		{"window backwards", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","apiKeys":[{"id":"key_a","name":"k","key":"0123456789abcdef","validFrom":"2030-01-01T00:00:00Z","validTo":"2029-01-01T00:00:00Z"}]}]}`, "validTo must be after validFrom"},
		{"enabled not a bool", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR","apiKeys":[{"id":"key_a","name":"k","key":"0123456789abcdef","enabled":"no"}]}]}`, "enabled"},
		{"webhook without a secret", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"http://127.0.0.1:9/x"}]}`, `webhooks[0]: secret: want "whsec_"`},
		{"webhook with a short secret", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"http://127.0.0.1:9/x","secret":"whsec_c2hvcnQ="}]}`, "webhooks[0]: secret"},
		{"webhook to ftp", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"ftp://example.com/x","secret":"whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE="}]}`, `webhooks[0]: url "ftp://example.com/x"`},
		{"webhook's unknown type", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"http://127.0.0.1:9/x","types":["balance.lowish"],"secret":"whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE="}]}`, `unknown event type "balance.lowish"`},
		{"webhook's unknown account", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"http://127.0.0.1:9/x","account":"acc_x","secret":"whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE="}]}`, `account "acc_x" is not an account of the file`},
		{"webhook id twice", `{"accounts":[],"webhooks":[{"id":"whk_a","url":"http://127.0.0.1:9/x","secret":"whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE="},{"id":"whk_a","url":"http://127.0.0.1:9/y","secret":"whsec_c2VlZC1zaWduaW5nLXNlY3JldC1mb3ItdGVzdHMtb25seSE="}]}`, "webhooks[1]: id whk_a is given twice"},
		{"shared with a balance", `{"accounts":[{"id":"acc_a","name":"A","currency":"EUR"},{"id":"acc_b","name":"B","currency":"EUR","parent":"acc_a","funding":"shared","balance":"1"}]}`, "accounts[1]: a shared sub-account spends its parent's money"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seed.Parse([]byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestReset: POST /v1/reset puts an emulator back to its seed in one call:
// movements, accounts and credentials made since are gone, the seed's are back,
// the fault rules are cleared, and the seed's secrets work again.
func TestReset(t *testing.T) {
	e := newEmulator(t)
	e.MustAdmin(201, "POST", "/v1/accounts/acc_shop/charges", `{"amount":"4"}`, testkit.Key("spend"))
	extra := e.CreateAccount("Made after the seed", "EUR")
	e.MustAdmin(201, "POST", "/v1/accounts/acc_shop/users", `{"username":"later","password":"later-password"}`, nil)
	e.addFault(`{"listener":"public","action":"delay","delay":"1ms"}`)

	var got map[string]bool
	e.MustAdmin(200, "POST", "/v1/reset", "", nil).JSON(t, &got)
	if !got["reset"] {
		t.Errorf("POST /v1/reset = %v, want reset true", got)
	}
	if b := e.Balance("acc_shop"); b["balance"] != "10" || b["sequence"] == nil {
		t.Errorf("acc_shop after reset: %v, want the seed's 10", b)
	}
	if r := e.AdminDo("GET", "/v1/accounts/"+extra, "", nil); r.Status != 404 {
		t.Errorf("an account made after the seed, after reset: %d, want 404", r.Status)
	}
	var users struct{ Users []map[string]any }
	e.MustAdmin(200, "GET", "/v1/accounts/acc_shop/users", "", nil).JSON(t, &users)
	if len(users.Users) != 1 || users.Users[0]["username"] != "shop" {
		t.Errorf("acc_shop's users after reset: %v, want only the seed's shop", users.Users)
	}
	var faults struct{ Faults []any }
	e.MustAdmin(200, "GET", "/v1/faults", "", nil).JSON(t, &faults)
	if len(faults.Faults) != 0 {
		t.Errorf("fault rules after reset: %v, want none", faults.Faults)
	}
	if got, _ := get(t, e.Public.URL, "shop", ""); got.Status != 200 || got.Body != shopBalance {
		t.Errorf("balance with the seed's password after reset: %+v", got)
	}
	var entries struct{ Entries []any }
	e.MustAdmin(200, "GET", "/v1/accounts/acc_shop/entries", "", nil).JSON(t, &entries)
	if len(entries.Entries) != 1 {
		t.Errorf("acc_shop's entries after reset: %d, want the seed's one top-up", len(entries.Entries))
	}
}

// TestSeedSubAccountNeverChanges: a seed whose sub-account's funding (or parent)
// differs from the store's is refused, not applied as a change: neither ever
// changes once the account exists.
func TestSeedSubAccountNeverChanges(t *testing.T) {
	f, err := seed.Load(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Emulator: true, Seed: f})
	for i := range f.Accounts {
		if f.Accounts[i].ID == "acc_shop_eu" {
			f.Accounts[i].Funding = "shared"
			f.Accounts[i].Balance = ""
		}
	}
	_, err = seed.Apply(context.Background(), f, s.Engine, s.Auth, s.Store, discard())
	if err == nil || !strings.Contains(err.Error(), `seed account acc_shop_eu: the store's account has parent "acc_shop" and funding "own"`) {
		t.Errorf("Apply with acc_shop_eu's funding changed: %v, want a refusal naming the store's funding", err)
	}
}

// TestSeedKeyRestrictions: a seeded key carries allowedIPs, validFrom/validTo
// and enabled as a customer's key does: each refusal is a wrong key's 401, the
// customer sees the restrictions over /settings/2/api-keys, and a second
// application (a restart) leaves a key the customer has changed as it is.
func TestSeedKeyRestrictions(t *testing.T) {
	f, err := seed.Parse([]byte(`{"accounts":[{"id":"acc_r","name":"R","currency":"EUR","balance":"3",
		"users":[{"username":"r","password":"password-r"}],
		"apiKeys":[
			{"id":"key_local","name":"local","key":"key-local-0123456789","allowedIPs":["127.0.0.1","::1"],"validFrom":"2020-01-01T00:00:00Z","validTo":"2100-01-01T00:00:00Z","enabled":true},
			{"id":"key_office","name":"office","key":"key-office-0123456789","allowedIPs":["192.0.2.0/24","2001:db8::/32"]},
			{"id":"key_later","name":"later","key":"key-later-0123456789","validFrom":"2100-01-01T00:00:00Z"},
			{"id":"key_expired","name":"expired","key":"key-expired-0123456789","validTo":"2020-01-01T00:00:00+01:00"},
			{"id":"key_off","name":"off","key":"key-off-0123456789","enabled":false}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "purse.db")
	s := testkit.Open(t, db, testkit.Options{Emulator: true, Seed: f})
	balance := func(s *testkit.Stack, key string) testkit.Response {
		return testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", map[string]string{"Authorization": "App " + key}, nil)
	}
	wrong := balance(s, "no-such-key-0123456789")
	for key, want := range map[string]int{"key-local-0123456789": 200, "key-office-0123456789": 401, "key-later-0123456789": 401,
		"key-expired-0123456789": 401, "key-off-0123456789": 401} {
		r := balance(s, key)
		if r.Status != want || want == 401 && string(r.Body) != string(wrong.Body) {
			t.Errorf("%s: %d %s, want %d (a wrong key's body when refused)", key, r.Status, r.Body, want)
		}
	}
	user := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("r:password-r"))}
	var list struct {
		APIKeys []struct {
			ID, ValidFrom, ValidTo string
			AllowedIPs             []string
			Enabled                bool
		}
	}
	testkit.Do(t, "GET", s.Public.URL+"/settings/2/api-keys?orderBy=name", user, nil).JSON(t, &list)
	got := map[string]string{}
	for _, k := range list.APIKeys {
		got[k.ID] = fmt.Sprintf("%v %s..%s %v", k.AllowedIPs, k.ValidFrom, k.ValidTo, k.Enabled)
	}
	for id, want := range map[string]string{
		"key_office":  "[192.0.2.0/24 2001:db8::/32]",
		"key_local":   "[127.0.0.1 ::1] 2020-01-01T00:00:00",
		"key_expired": "..2019-12-31T23:00:00",
		"key_off":     "false",
	} {
		if !strings.Contains(got[id], want) {
			t.Errorf("%s as the customer sees it: %q, want it to hold %q", id, got[id], want)
		}
	}
	// The customer turns the seeded key on; a restart with the same seed keeps it on.
	h := map[string]string{"Authorization": user["Authorization"], "Content-Type": "application/json"}
	if r := testkit.Do(t, "PUT", s.Public.URL+"/settings/2/api-keys/key_off", h, []byte(`{"enabled":true}`)); r.Status != 200 {
		t.Fatalf("enable the seeded key: %d %s", r.Status, r.Body)
	}
	s.Close()
	s = testkit.Open(t, db, testkit.Options{Emulator: true, Seed: f})
	if r := balance(s, "key-off-0123456789"); r.Status != 200 {
		t.Errorf("the key the customer enabled, after a restart with the seed: %d %s", r.Status, r.Body)
	}
	// docs/examples/seed.json's office key is refused from here (loopback is not its range).
	e := newEmulator(t)
	if r := balance(e.Stack, "test-key-shop-office-0123456789"); r.Status != 401 || balance(e.Stack, "test-key-shop-0123456789").Status != 200 {
		t.Errorf("the example's office-only key from loopback: %d %s", r.Status, r.Body)
	}
}
