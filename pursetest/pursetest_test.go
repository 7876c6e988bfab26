package pursetest_test

import (
	"context"
	"errors"
	"github.com/purse-ledger/purse/internal/testkit"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/pursetest"
)

// TestAccount: one call makes an account with its balance, limits and
// credentials, and the code under test sees it over Infobip's API with each of
// the credentials returned.
func TestAccount(t *testing.T) {
	srv := pursetest.New(t)
	tests := []struct {
		name string
		spec pursetest.AccountSpec
		want client.TotalBalance
		user bool // the spec makes a Basic user
	}{
		{"the documentation's", pursetest.AccountSpec{Currency: "EUR", Balance: "47.79134", Username: "Aladdin", Password: "open sesame"},
			client.TotalBalance{Balance: "47.79134", AllowedMinus: "0", Currency: eur, FreeMessages: map[string]int64{"SMS": 0}}, true},
		{"defaults: EUR, no money, no user", pursetest.AccountSpec{},
			client.TotalBalance{Balance: "0", AllowedMinus: "0", Currency: eur, FreeMessages: map[string]int64{"SMS": 0}}, false},
		{"limits", pursetest.AccountSpec{Currency: "USD", Balance: "10", AllowedMinus: "5", MonthlyLimit: "100", FreeMessages: 3, Username: "limited"},
			client.TotalBalance{Balance: "10", AllowedMinus: "5", MonthlyLimit: "100", MonthlyBalance: "100",
				Currency: client.Currency{ID: 840, Code: "USD", CurrencyName: "US Dollar", Symbol: "$"}, FreeMessages: map[string]int64{"SMS": 3}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := srv.Account(t, tt.spec)
			if got, want := acc.Currency, tt.want.Currency.Code; got != want {
				t.Errorf("Currency = %q, want %q", got, want)
			}
			creds := map[string]client.Option{"App": client.WithAPIKey(acc.APIKey)}
			if tt.user {
				if acc.Username != tt.spec.Username || acc.Password == "" || (tt.spec.Password != "" && acc.Password != tt.spec.Password) {
					t.Errorf("user %q password %q, want %q and the spec's password or a random one", acc.Username, acc.Password, tt.spec.Username)
				}
				creds["Basic"] = client.WithBasicAuth(acc.Username, acc.Password)
			} else if acc.Username != "" || acc.Password != "" || acc.Basic != "" {
				t.Errorf("a spec without a user got user %q password %q Basic %q", acc.Username, acc.Password, acc.Basic)
			}
			for scheme, cred := range creds {
				c, err := client.New(srv.PublicURL, cred)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.TotalBalance(context.Background())
				if err != nil {
					t.Fatalf("%s: %v", scheme, err)
				}
				if diff := cmp.Diff(got, tt.want); diff != "" {
					t.Errorf("%s: total balance (-got +want):\n%s", scheme, diff)
				}
			}
			// The header values are what the credentials say.
			for _, h := range []string{acc.Basic, acc.App} {
				if h == "" {
					continue
				}
				if got := status(t, srv.PublicURL+"/account/1/balance", h); got != http.StatusOK {
					t.Errorf("Authorization: %.10s…: %d, want 200", h, got)
				}
			}
		})
	}
}

var eur = client.Currency{ID: 978, Code: "EUR", CurrencyName: "Euro", Symbol: "€"}

// status sends GET url with an Authorization header and returns the status.
func status(t *testing.T, url, authorization string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAccountRefused: a spec purse refuses is an error naming the part refused,
// with purse's answer inside, not a half-made account passed off as made.
func TestAccountRefused(t *testing.T) {
	srv := pursetest.New(t)
	srv.Account(t, pursetest.AccountSpec{Username: "taken"})
	tests := []struct {
		name      string
		spec      pursetest.AccountSpec
		wantText  string
		wantIDSet bool // the account itself was made before the refusal
	}{
		{"currency", pursetest.AccountSpec{Currency: "EURO"}, "create account", false},
		{"balance", pursetest.AccountSpec{Balance: "1.0000001"}, "balance", true},
		{"username taken", pursetest.AccountSpec{Username: "taken"}, `user "taken"`, true},
		{"short password", pursetest.AccountSpec{Username: "short", Password: "x"}, `user "short"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, err := srv.CreateAccount(context.Background(), tt.spec)
			var e *client.Error
			if !errors.As(err, &e) || e.StatusCode >= 500 || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v, want purse's 4xx answer naming %q", err, tt.wantText)
			}
			if got := acc.ID != ""; got != tt.wantIDSet {
				t.Errorf("account id %q returned: %v, want %v", acc.ID, got, tt.wantIDSet)
			}
			if acc.APIKey != "" || acc.Basic != "" {
				t.Errorf("credentials returned with an error: %+v", acc)
			}
		})
	}
}

// TestCleanupCloses: when the test that made it ends, the server stops serving
// and its store goes with the test's temp directory.
func TestCleanupCloses(t *testing.T) {
	var srv *pursetest.Server
	t.Run("user", func(t *testing.T) {
		srv = pursetest.New(t)
		srv.Account(t, pursetest.AccountSpec{Balance: "1"})
	})
	for _, u := range []string{srv.PublicURL, srv.AdminURL} {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the test ended", u)
		}
	}
	if _, err := os.Stat(srv.DB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store %s after the test ended: %v, want it gone", srv.DB, err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// TestStartClose: a Server from Start (an Example's) removes its own directory.
func TestStartClose(t *testing.T) {
	srv, err := pursetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	if got := status(t, srv.PublicURL+"/account/1/balance", "App nokey"); got != http.StatusUnauthorized {
		t.Errorf("an unknown key: %d, want 401", got)
	}
	for range 2 {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(srv.DB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store %s after Close: %v, want it gone", srv.DB, err)
	}
}

// TestIndependent: two servers in one test share nothing: not ports, admin
// tokens, accounts, usernames or balances.
func TestIndependent(t *testing.T) {
	a, b := pursetest.New(t), pursetest.New(t)
	if a.PublicURL == b.PublicURL || a.AdminURL == b.AdminURL || a.AdminToken == b.AdminToken || a.DB == b.DB {
		t.Fatalf("two servers share a URL, token or store: %+v %+v", a, b)
	}
	spec := pursetest.AccountSpec{Balance: "5", Username: "same", Password: "password1"}
	accA, accB := a.Account(t, spec), b.Account(t, spec) // the same username in each
	if _, err := a.Admin.Charge(context.Background(), accA.ID, "2", client.ChargeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		srv  *pursetest.Server
		acc  pursetest.Account
		want string
	}{{a, accA, "3"}, {b, accB, "5"}} {
		c, _ := client.New(s.srv.PublicURL, client.WithBasicAuth("same", "password1"))
		got, err := c.Balance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != s.want {
			t.Errorf("%s: balance %s, want %s", s.srv.PublicURL, got.Balance, s.want)
		}
	}
	if got := status(t, b.PublicURL+"/account/1/balance", accA.App); got != http.StatusUnauthorized {
		t.Errorf("a's API key at b: %d, want 401", got)
	}
	other, _ := client.New(b.AdminURL, client.WithAdminToken(a.AdminToken))
	if _, err := other.ListAccounts(context.Background(), "", 0); !client.IsMessageID(err, "UNAUTHORIZED") {
		t.Errorf("a's admin token at b: %v, want UNAUTHORIZED", err)
	}
}

// TestWithClock: purse reads the test's clock, for monthly limits and hold
// expiry.
func TestWithClock(t *testing.T) {
	clock := pursetest.NewClock(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
	srv := pursetest.New(t, pursetest.WithClock(clock.Now))
	ctx := context.Background()
	acc := srv.Account(t, pursetest.AccountSpec{Balance: "10", MonthlyLimit: "3"})

	if _, err := srv.Admin.Charge(ctx, acc.ID, "3", client.ChargeOptions{}); err != nil {
		t.Fatal(err)
	}
	var e *client.Error
	if _, err := srv.Admin.Charge(ctx, acc.ID, "1", client.ChargeOptions{}); !errors.As(err, &e) || e.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("a second charge in January: %v, want 402 (the monthly limit)", err)
	}
	clock.Advance(2 * time.Hour) // February
	if _, err := srv.Admin.Charge(ctx, acc.ID, "1", client.ChargeOptions{}); err != nil {
		t.Errorf("a charge in February: %v, want the monthly limit renewed", err)
	}

	hold, err := srv.Admin.CreateHold(ctx, acc.ID, "2", 10*time.Minute, "", "")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	deadline := time.Now().Add(5 * time.Second) // purse checks idle holds every 50 ms
	for {
		h, err := srv.Admin.GetHold(ctx, hold.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Status == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hold %s is %s 11 minutes (of the test's clock) after it was made for 10", h.ID, h.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWithDemo: the documentation's example account and its curl line.
func TestWithDemo(t *testing.T) {
	srv := pursetest.New(t, pursetest.WithDemo(), pursetest.WithTestLog())
	c, _ := client.New(srv.PublicURL, client.WithBasicAuth("Aladdin", "open sesame"))
	got, err := c.Balance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, client.Balance{Balance: "47.79134", Currency: "EUR"}); diff != "" {
		t.Errorf("demo balance (-got +want):\n%s", diff)
	}
}

// TestWithLogger: purse's log lines reach the logger, one per request.
func TestWithLogger(t *testing.T) {
	var buf syncBuffer
	srv, err := pursetest.Start(pursetest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	status(t, srv.PublicURL+"/account/1/balance", "App nokey")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"purse serving", "path=/account/1/balance", "status=401"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// syncBuffer is testkit.SyncBuffer.
type syncBuffer = testkit.SyncBuffer
