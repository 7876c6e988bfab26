package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/testkit"
)

func TestClientAgainstRealServer(t *testing.T) {
	s := testkit.New(t)
	ctx := context.Background()
	admin, err := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := admin.CreateAccount(ctx, "Client", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddUser(ctx, acc.ID, "Aladdin", "open sesame"); err != nil {
		t.Fatal(err)
	}
	m, err := admin.TopUp(ctx, acc.ID, "47.79134", client.TopUpOptions{Reference: "r", IdempotencyKey: "k"})
	if err != nil || m.BalanceAfter != "47.79134" || m.Amount != "47.79134" {
		t.Fatalf("TopUp = %+v, %v", m, err)
	}
	again, err := admin.TopUp(ctx, acc.ID, "47.79134", client.TopUpOptions{Reference: "r", IdempotencyKey: "k"})
	if err != nil || !reflect.DeepEqual(again, m) {
		t.Errorf("replayed TopUp = %+v, %v; want %+v", again, err, m)
	}
	key, err := admin.CreateAPIKey(ctx, acc.ID, "k", nil)
	if err != nil || key.Key == "" || len(key.Scopes) != 1 {
		t.Fatalf("CreateAPIKey = %+v, %v", key, err)
	}

	for name, opt := range map[string]client.Option{
		"basic": client.WithBasicAuth("Aladdin", "open sesame"),
		"app":   client.WithAPIKey(key.Key),
	} {
		pub, _ := client.New(s.Public.URL, opt)
		b, err := pub.Balance(ctx)
		if err != nil || b.Balance != "47.79134" || b.Currency != "EUR" {
			t.Errorf("%s: Balance = %+v, %v", name, b, err)
		}
	}

	sess, _ := client.New(s.Public.URL)
	if tok, err := sess.CreateSession(ctx, "Aladdin", "open sesame"); err != nil || tok == "" {
		t.Fatalf("CreateSession: %q %v", tok, err)
	}
	if b, err := sess.Balance(ctx); err != nil || b.Balance != "47.79134" {
		t.Errorf("Balance with IBSSO: %+v %v", b, err)
	}
	if err := sess.DeleteSession(ctx); err != nil {
		t.Errorf("DeleteSession: %v", err)
	}
	if _, err := sess.Balance(ctx); !client.IsMessageID(err, "UNAUTHORIZED") {
		t.Errorf("after DeleteSession: %v", err)
	}
	oc, err := admin.CreateOAuthClient(ctx, acc.ID, "svc", nil)
	if err != nil || oc.ClientSecret == "" {
		t.Fatalf("CreateOAuthClient = %+v, %v", oc, err)
	}
	ocl, _ := client.New(s.Public.URL)
	if at, err := ocl.OAuthToken(ctx, oc.ClientID, oc.ClientSecret); err != nil || at.ExpiresIn != 3600 {
		t.Fatalf("OAuthToken = %+v, %v", at, err)
	}
	if b, err := ocl.Balance(ctx); err != nil || b.Balance != "47.79134" {
		t.Errorf("Balance with Bearer: %+v %v", b, err)
	}
	if list, err := admin.ListOAuthClients(ctx, acc.ID); err != nil || len(list) != 1 {
		t.Errorf("ListOAuthClients = %+v, %v", list, err)
	}
	if err := admin.RevokeOAuthClient(ctx, acc.ID, oc.ClientID); err != nil {
		t.Error(err)
	}
	bad, _ := client.New(s.Public.URL, client.WithBasicAuth("Aladdin", "wrong"))
	_, err = bad.Balance(ctx)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 401 || ce.MessageID != "UNAUTHORIZED" || ce.Text != "Invalid login details" {
		t.Errorf("wrong password: %#v", err)
	}
	_, err = admin.TopUp(ctx, acc.ID, "1.0000001", client.TopUpOptions{})
	if !errors.As(err, &ce) || ce.MessageID != "BAD_REQUEST" || len(ce.ValidationErrors["amount"]) == 0 {
		t.Errorf("too precise: %#v", err)
	}
	if _, err := admin.GetAccount(ctx, "acc_missing"); !client.IsMessageID(err, "NOT_FOUND") {
		t.Errorf("missing account: %v", err)
	}
	page, err := admin.ListAccounts(ctx, "", 1)
	if err != nil || len(page.Accounts) != 1 {
		t.Errorf("ListAccounts = %+v, %v", page, err)
	}
	if ap, err := admin.Audit(ctx, "", 2); err != nil || len(ap.Records) != 2 || ap.Records[0].Action == "" || ap.NextCursor == "" {
		t.Errorf("Audit = %+v, %v", ap, err)
	}
	if _, err := client.New("ftp://x"); err == nil {
		t.Error("ftp base URL accepted")
	}
}

func TestClientLedger(t *testing.T) {
	s := testkit.New(t)
	ctx := context.Background()
	admin, _ := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	acc, _ := admin.CreateAccount(ctx, "L", "USD")
	if _, err := admin.TopUp(ctx, acc.ID, "10", client.TopUpOptions{Metadata: map[string]string{"invoice": "7"}}); err != nil {
		t.Fatal(err)
	}
	ch, err := admin.Charge(ctx, acc.ID, "1.5", client.ChargeOptions{Reference: "m1", Metadata: map[string]string{"to": "x"}})
	if err != nil || ch.Amount != "-1.5" || ch.Metadata["to"] != "x" {
		t.Fatalf("Charge = %+v, %v", ch, err)
	}
	if _, err := admin.Charge(ctx, acc.ID, "100", client.ChargeOptions{}); !client.IsMessageID(err, "INSUFFICIENT_FUNDS") {
		t.Errorf("overdraft: %v", err)
	}
	// A refusal is final under its key: the retry is told so, even with funds now.
	_, first := admin.Charge(ctx, acc.ID, "9", client.ChargeOptions{IdempotencyKey: "refused-once", ServiceType: "VOICE"})
	if _, err := admin.TopUp(ctx, acc.ID, "10", client.TopUpOptions{}); err != nil {
		t.Fatal(err)
	}
	_, again := admin.Charge(ctx, acc.ID, "9", client.ChargeOptions{IdempotencyKey: "refused-once", ServiceType: "VOICE"})
	var e1, e2 *client.Error
	if !errors.As(first, &e1) || !errors.As(again, &e2) || e1.Replayed || !e2.Replayed || e1.Text != e2.Text || e2.MessageID != "INSUFFICIENT_FUNDS" {
		t.Errorf("refused charge and its retry: %v / %v", first, again)
	}
	if _, err := admin.Adjust(ctx, acc.ID, "-10", "undo the top-up", ""); err != nil {
		t.Fatal(err)
	}
	rf, err := admin.Refund(ctx, acc.ID, ch.ID, "", "")
	if err != nil || rf.Amount != "1.5" || rf.ChargeID != ch.ID {
		t.Errorf("Refund = %+v, %v", rf, err)
	}
	if _, err := admin.Adjust(ctx, acc.ID, "-1", "fee", ""); err != nil {
		t.Error(err)
	}
	h, err := admin.CreateHold(ctx, acc.ID, "2", time.Minute, "job", "")
	if err != nil || h.Status != "active" {
		t.Fatalf("CreateHold = %+v, %v", h, err)
	}
	if got, err := admin.GetHold(ctx, h.ID); err != nil || got.Amount != "2" {
		t.Errorf("GetHold = %+v, %v", got, err)
	}
	cp, err := admin.CaptureHold(ctx, h.ID, "0.5", "")
	if err != nil || cp.Hold.Status != "captured" || cp.Entry.Amount != "-0.5" {
		t.Errorf("CaptureHold = %+v, %v", cp, err)
	}
	h2, _ := admin.CreateHold(ctx, acc.ID, "1", 0, "", "")
	if v, err := admin.VoidHold(ctx, h2.ID, ""); err != nil || v.Status != "voided" {
		t.Errorf("VoidHold = %+v, %v", v, err)
	}
	limit, free := "20", int64(1)
	if _, err := admin.UpdateAccount(ctx, acc.ID, client.AccountUpdate{MonthlyLimit: &limit, FreeMessages: &free}); err != nil {
		t.Fatal(err)
	}
	b, err := admin.AccountBalance(ctx, acc.ID)
	if err != nil || b.Balance != "8.5" || b.MonthlySpent != "0.5" || b.MonthlyLimit == nil || *b.MonthlyLimit != "20" || b.FreeMessages != 1 {
		t.Errorf("AccountBalance = %+v, %v", b, err)
	}
	page, err := admin.Entries(ctx, acc.ID, client.EntryQuery{Kind: "charge"})
	if err != nil || len(page.Entries) != 1 {
		t.Errorf("Entries = %+v, %v", page, err)
	}
	at, err := admin.AccountBalanceAt(ctx, acc.ID, time.Now())
	if err != nil || at.Balance != "8.5" {
		t.Errorf("AccountBalanceAt = %+v, %v", at, err)
	}
	if _, err := admin.AddUser(ctx, acc.ID, "luser", "password1"); err != nil {
		t.Fatal(err)
	}
	pub, _ := client.New(s.Public.URL, client.WithBasicAuth("luser", "password1"))
	tb, err := pub.TotalBalance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := client.TotalBalance{Balance: "8.5", AllowedMinus: "0", MonthlyLimit: "20", MonthlyBalance: "19.5",
		Currency:     client.Currency{ID: 840, Code: "USD", CurrencyName: "US Dollar", Symbol: "$"},
		FreeMessages: map[string]int64{"SMS": 1}}
	if diff := cmp.Diff(tb, want); diff != "" {
		t.Errorf("TotalBalance (-got +want):\n%s", diff)
	}
	if n, err := pub.FreeMessages(ctx); err != nil || n != 1 {
		t.Errorf("FreeMessages = %d, %v", n, err)
	}
	// Without a monthly limit the server leaves both monthly fields out.
	if _, err := admin.UpdateAccount(ctx, acc.ID, client.AccountUpdate{ClearMonthlyLimit: true}); err != nil {
		t.Fatal(err)
	}
	tb, err = pub.TotalBalance(ctx)
	want.MonthlyLimit, want.MonthlyBalance = "", ""
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tb, want); diff != "" {
		t.Errorf("TotalBalance without a monthly limit (-got +want):\n%s", diff)
	}
	br, err := admin.Batch(ctx, false, []client.BatchOp{
		{Op: "charge", AccountID: acc.ID, Amount: "0.5"}, {Op: "charge", AccountID: acc.ID, Amount: "1000"},
	}, "")
	if err != nil || !br.Committed || br.Results[0].Status != 201 || br.Results[1].Error == nil || br.Results[1].Error.MessageID != "INSUFFICIENT_FUNDS" {
		t.Errorf("Batch = %+v, %v", br, err)
	}
}

// TestRotateOAuthKey: after RotateOAuthKey, a token issued before is refused with
// 401 and a new one works.
func TestRotateOAuthKey(t *testing.T) {
	s := testkit.New(t)
	ctx := context.Background()
	admin, err := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := admin.CreateAccount(ctx, "Rotated", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := admin.CreateOAuthClient(ctx, acc.ID, "backend", nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := client.New(s.Public.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.OAuthToken(ctx, oc.ClientID, oc.ClientSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Balance(ctx); err != nil {
		t.Fatalf("Balance before the rotation: %v", err)
	}
	if err := admin.RotateOAuthKey(ctx); err != nil {
		t.Fatalf("RotateOAuthKey: %v", err)
	}
	if _, err := pub.Balance(ctx); !client.IsMessageID(err, "UNAUTHORIZED") {
		t.Errorf("Balance with a token from before the rotation: %v, want UNAUTHORIZED", err)
	}
	if _, err := pub.OAuthToken(ctx, oc.ClientID, oc.ClientSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Balance(ctx); err != nil {
		t.Errorf("Balance with a new token: %v", err)
	}
}

// TestRetryHonoursRetryAfter: a 503 that names a wait (a purse shedding load) is
// retried after it, with the same Idempotency-Key, not after the short backoff.
// The server here only answers 503 then 201: the policy under test is the client's.
func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls []time.Time
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, time.Now())
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if len(calls) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":"mov_1","amount":"-1"}`))
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithAdminToken("t"))
	if _, err := c.Charge(context.Background(), "acc_1", "1", client.ChargeOptions{IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || keys[0] != "k" || keys[1] != "k" {
		t.Fatalf("calls %d, keys %q", len(calls), keys)
	}
	if gap := calls[1].Sub(calls[0]); gap < time.Second {
		t.Errorf("retried after %v, want at least the 1 s Retry-After", gap)
	}
}
