package adminapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

type entry struct {
	ID           string
	Sequence     int64
	AccountID    string
	Kind         string
	Amount       string
	BalanceAfter string
	ChargeID     string
	HoldID       string
	FreeMessage  bool
	CreatedAt    string
}

type hold struct {
	ID, Status, Amount, Captured, ChargeID string
}

func messageID(t *testing.T, r testkit.Response) string {
	t.Helper()
	var env envelope
	r.JSON(t, &env)
	return env.RequestError.ServiceException.MessageID
}

func mustCheck(t *testing.T, s *testkit.Stack) {
	t.Helper()
	rep, err := ledger.Check(t.Context(), s.Ledger) // either store
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("purse check: %v", rep.Problems)
	}
}

func funded(t *testing.T, s *testkit.Stack, amount string) string {
	t.Helper()
	acc := s.CreateAccount("L", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"`+amount+`"}`, testkit.Key("fund-"+acc))
	return acc
}

func TestChargeRefundAdjust(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "10")
	var ch entry
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"3.5","reference":"msg-1","metadata":{"to":"+385"}}`, testkit.Key("c1")).JSON(t, &ch)
	if ch.Kind != "charge" || ch.Amount != "-3.5" || ch.BalanceAfter != "6.5" {
		t.Fatalf("charge entry = %+v", ch)
	}
	r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"6.500001"}`, testkit.Key("c2"))
	if id := messageID(t, r); id != "INSUFFICIENT_FUNDS" {
		t.Errorf("overdraft: %s", r.Body)
	}
	// Refunds: partial, then beyond what is left, then the rest.
	var rf entry
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/refunds", `{"chargeId":"`+ch.ID+`","amount":"1"}`, testkit.Key("r1")).JSON(t, &rf)
	if rf.Kind != "refund" || rf.Amount != "1" || rf.ChargeID != ch.ID || rf.BalanceAfter != "7.5" {
		t.Fatalf("refund = %+v", rf)
	}
	r = s.MustAdmin(409, "POST", "/v1/accounts/"+acc+"/refunds", `{"chargeId":"`+ch.ID+`","amount":"2.500001"}`, testkit.Key("r2"))
	if id := messageID(t, r); id != "REFUND_EXCEEDS_CHARGE" {
		t.Errorf("refund beyond: %s", r.Body)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/refunds", `{"chargeId":"`+ch.ID+`"}`, testkit.Key("r3")).JSON(t, &rf)
	if rf.Amount != "2.5" || rf.BalanceAfter != "10" {
		t.Fatalf("refund of the rest = %+v", rf)
	}
	r = s.MustAdmin(409, "POST", "/v1/accounts/"+acc+"/refunds", `{"chargeId":"`+ch.ID+`","amount":"0.000001"}`, testkit.Key("r4"))
	if id := messageID(t, r); id != "REFUND_EXCEEDS_CHARGE" {
		t.Errorf("refund of a fully refunded charge: %s", r.Body)
	}
	// Adjustments of either sign; a debit may not overdraw.
	var adj entry
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/adjustments", `{"amount":"-4","reason":"duplicate top-up"}`, testkit.Key("a1")).JSON(t, &adj)
	if adj.Amount != "-4" || adj.BalanceAfter != "6" {
		t.Errorf("adjustment = %+v", adj)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/adjustments", `{"amount":"0.25","reason":"goodwill"}`, testkit.Key("a2"))
	r = s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/adjustments", `{"amount":"-7","reason":"x"}`, testkit.Key("a3"))
	if id := messageID(t, r); id != "INSUFFICIENT_FUNDS" {
		t.Errorf("overdrawing adjustment: %s", r.Body)
	}
	if b := s.Balance(acc); b["balance"] != "6.25" {
		t.Errorf("balance = %v", b)
	}
	mustCheck(t, s)
}

func TestAllowedMinusAndHoldsInAvailable(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "5")
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"allowedMinus":"2"}`, nil)
	var h hold
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"4","expiresIn":600}`, testkit.Key("h1")).JSON(t, &h)
	b := s.Balance(acc)
	if b["balance"] != "5" || b["held"] != "4" || b["available"] != "3" || b["allowedMinus"] != "2" {
		t.Fatalf("balance with hold = %v", b)
	}
	if r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"3.000001"}`, testkit.Key("c1")); messageID(t, r) != "INSUFFICIENT_FUNDS" {
		t.Errorf("charge past available: %s", r.Body)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"3"}`, testkit.Key("c2"))
	if b := s.Balance(acc); b["balance"] != "2" || b["available"] != "0" {
		t.Fatalf("after charge = %v", b)
	}
	// Capture part of the hold: the rest goes back, the balance may dip to -allowedMinus.
	var cap struct {
		Hold  hold
		Entry entry
	}
	s.MustAdmin(200, "POST", "/v1/holds/"+h.ID+"/capture", `{"amount":"3.5"}`, testkit.Key("cap")).JSON(t, &cap)
	if cap.Hold.Status != "captured" || cap.Hold.Captured != "3.5" || cap.Entry.Kind != "capture" || cap.Entry.Amount != "-3.5" || cap.Entry.HoldID != h.ID {
		t.Fatalf("capture = %+v", cap)
	}
	if b := s.Balance(acc); b["balance"] != "-1.5" || b["held"] != "0" || b["available"] != "0.5" {
		t.Fatalf("after capture = %v", b)
	}
	if r := s.MustAdmin(409, "PATCH", "/v1/accounts/"+acc, `{"allowedMinus":"1"}`, nil); messageID(t, r) != "CONFLICT" {
		t.Errorf("lowering allowedMinus below the balance: %s", r.Body)
	}
	// The capture is a charge: it can be refunded.
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/refunds", `{"chargeId":"`+cap.Entry.ID+`","amount":"0.5"}`, testkit.Key("r"))
	if b := s.Balance(acc); b["balance"] != "-1" {
		t.Errorf("after refund of capture = %v", b)
	}
	mustCheck(t, s)
}

func TestHoldLifecycle(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := funded(t, s, "10")
	var h1, h2, h3 hold
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"2","expiresIn":"30s","reference":"job-1"}`, testkit.Key("h1")).JSON(t, &h1)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"3","expiresIn":60}`, testkit.Key("h2")).JSON(t, &h2)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"4"}`, testkit.Key("h3")).JSON(t, &h3)
	if b := s.Balance(acc); b["held"] != "9" || b["available"] != "1" {
		t.Fatalf("held = %v", b)
	}
	var v hold
	s.MustAdmin(200, "POST", "/v1/holds/"+h2.ID+"/void", "", nil).JSON(t, &v)
	if v.Status != "voided" {
		t.Errorf("void = %+v", v)
	}
	if r := s.MustAdmin(409, "POST", "/v1/holds/"+h2.ID+"/void", "", nil); messageID(t, r) != "HOLD_VOIDED" {
		t.Errorf("second void: %s", r.Body)
	}
	if r := s.MustAdmin(409, "POST", "/v1/holds/"+h2.ID+"/capture", "", testkit.Key("c2")); messageID(t, r) != "HOLD_VOIDED" {
		t.Errorf("capture of voided: %s", r.Body)
	}
	// At exactly its expiry time a hold can no longer be captured, and it is released once.
	clock.Advance(30 * time.Second)
	if r := s.MustAdmin(409, "POST", "/v1/holds/"+h1.ID+"/capture", "", testkit.Key("c1")); messageID(t, r) != "HOLD_EXPIRED" {
		t.Errorf("capture at expiry: %s", r.Body)
	}
	var got hold
	s.MustAdmin(200, "GET", "/v1/holds/"+h1.ID, "", nil).JSON(t, &got)
	if got.Status != "expired" {
		t.Errorf("hold after expiry = %+v", got)
	}
	if b := s.Balance(acc); b["held"] != "4" || b["balance"] != "10" {
		t.Fatalf("after expiry = %v", b)
	}
	if r := s.MustAdmin(400, "POST", "/v1/holds/"+h3.ID+"/capture", `{"amount":"4.000001"}`, testkit.Key("c3")); messageID(t, r) != "BAD_REQUEST" {
		t.Errorf("capture above hold: %s", r.Body)
	}
	// Expiry happens without any request: the engine's ticker releases it.
	clock.Advance(10 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for s.Balance(acc)["held"] != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("hold never expired: %v", s.Balance(acc))
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, _ := s.Store.Entries(t.Context(), acc)
	if len(entries) != 1 {
		t.Errorf("holds that were never captured made entries: %+v", entries)
	}
	mustCheck(t, s)
}

// TestCaptureRacingExpiry fires captures at holds just as they expire, with the real
// clock: each hold ends exactly one way, captured (with one charge entry) or
// expired (with none), and the held amount returns to zero.
func TestCaptureRacingExpiry(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "1000")
	const n = 40
	holds := make([]hold, n)
	for i := range holds {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1","expiresIn":1}`, testkit.Key(fmt.Sprint("h", i))).JSON(t, &holds[i])
	}
	exp, _ := time.Parse(time.RFC3339Nano, func() string {
		var h struct{ ExpiresAt string }
		s.MustAdmin(200, "GET", "/v1/holds/"+holds[n/2].ID, "", nil).JSON(t, &h)
		return h.ExpiresAt
	}())
	time.Sleep(time.Until(exp) - 30*time.Millisecond)
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range holds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 1500 * time.Microsecond) // spread across the expiry instant
			statuses[i] = s.AdminDo("POST", "/v1/holds/"+holds[i].ID+"/capture", "", testkit.Key(fmt.Sprint("c", i))).Status
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	captured := 0
	for i, h := range holds {
		var got hold
		s.MustAdmin(200, "GET", "/v1/holds/"+h.ID, "", nil).JSON(t, &got)
		switch {
		case statuses[i] == 200 && got.Status == "captured":
			captured++
		case statuses[i] == 409 && got.Status == "expired":
		default:
			t.Errorf("hold %d: capture status %d, hold %+v", i, statuses[i], got)
		}
	}
	b := s.Balance(acc)
	if b["held"] != "0" || b["balance"] != fmt.Sprint(1000-captured) {
		t.Errorf("after the race: %v with %d captured", b, captured)
	}
	t.Logf("%d of %d captures beat the expiry", captured, n)
	mustCheck(t, s)
}

func TestMonthlyLimitAcrossMonthBoundary(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := funded(t, s, "100")
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"monthlyLimit":"10"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"8"}`, testkit.Key("c1"))
	if r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"2.000001"}`, testkit.Key("c2")); messageID(t, r) != "MONTHLY_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: %s", r.Body)
	}
	if r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"3"}`, testkit.Key("h1")); messageID(t, r) != "MONTHLY_LIMIT_EXCEEDED" {
		t.Errorf("hold over the limit: %s", r.Body)
	}
	if b := s.Balance(acc); b["monthlySpent"] != "8" || b["monthlyLimit"] != "10" || b["balance"] != "92" {
		t.Errorf("November: %v", b)
	}
	clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if b := s.Balance(acc); b["monthlySpent"] != "0" {
		t.Errorf("December before any charge: %v", b)
	}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"9"}`, testkit.Key("c3"))
	if r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1.5"}`, testkit.Key("c4")); messageID(t, r) != "MONTHLY_LIMIT_EXCEEDED" {
		t.Errorf("December over the limit: %s", r.Body)
	}
	if b := s.Balance(acc); b["monthlySpent"] != "9" || b["balance"] != "83" {
		t.Errorf("December: %v", b)
	}
	// Removing the limit lifts it.
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"monthlyLimit":null}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"50"}`, testkit.Key("c5"))
	mustCheck(t, s)
}

func TestFreeMessages(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "1")
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"freeMessages":2}`, nil)
	var e entry
	for i := 0; i < 2; i++ {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"0.4","useFreeMessage":true,"fallbackToMoney":false}`, testkit.Key(fmt.Sprint("f", i))).JSON(t, &e)
		if !e.FreeMessage || e.Amount != "0" || e.BalanceAfter != "1" {
			t.Fatalf("free charge %d = %+v", i, e)
		}
	}
	if r := s.MustAdmin(402, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"0.4","useFreeMessage":true,"fallbackToMoney":false}`, testkit.Key("f2")); messageID(t, r) != "NO_FREE_MESSAGES" {
		t.Errorf("no free messages left: %s", r.Body)
	}
	e = entry{}
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"0.4","useFreeMessage":true}`, testkit.Key("f3")).JSON(t, &e)
	if e.FreeMessage || e.Amount != "-0.4" {
		t.Errorf("fallback to money = %+v", e)
	}
	r := testkit.Do(t, "GET", s.Public.URL+"/account/1/free-messages", nil, nil)
	if r.Status != 401 {
		t.Errorf("free-messages without credentials: %d", r.Status)
	}
	mustCheck(t, s)
}

// TestBalanceAtMatchesEntries asks for the balance at the time of every entry and
// expects exactly the running balance recorded on it.
func TestBalanceAtMatchesEntries(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := s.CreateAccount("At", "EUR")
	ops := []struct{ path, body string }{
		{"top-ups", `{"amount":"10"}`}, {"charges", `{"amount":"0.123456"}`}, {"charges", `{"amount":"1"}`},
		{"adjustments", `{"amount":"-0.5","reason":"fix"}`}, {"top-ups", `{"amount":"2.2"}`}, {"charges", `{"amount":"3"}`},
	}
	for i, op := range ops {
		clock.Advance(time.Minute)
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/"+op.path, op.body, testkit.Key(fmt.Sprint("k", i)))
	}
	clock.Advance(time.Minute)
	var page struct{ Entries []entry }
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/entries?limit=100", "", nil).JSON(t, &page)
	if len(page.Entries) != len(ops) {
		t.Fatalf("%d entries, want %d", len(page.Entries), len(ops))
	}
	for _, e := range page.Entries {
		var b map[string]any
		s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/balance?at="+e.CreatedAt, "", nil).JSON(t, &b)
		if b["balance"] != e.BalanceAfter || b["sequence"] != float64(e.Sequence) {
			t.Errorf("at %s: %v, want balance %s sequence %d", e.CreatedAt, b, e.BalanceAfter, e.Sequence)
		}
		// A microsecond earlier is the entry before it.
		at, _ := time.Parse(time.RFC3339Nano, e.CreatedAt)
		s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/balance?at="+at.Add(-time.Microsecond).Format(time.RFC3339Nano), "", nil).JSON(t, &b)
		if b["sequence"] == float64(e.Sequence) {
			t.Errorf("just before %s still shows sequence %d", e.CreatedAt, e.Sequence)
		}
	}
	var b map[string]any
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/balance?at=2026-10-01T00:00:00Z", "", nil).JSON(t, &b)
	if b["balance"] != "0" {
		t.Errorf("before the first entry: %v", b)
	}
}

func TestEntriesPagesAndFilters(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "100")
	for i := 0; i < 9; i++ {
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1"}`, testkit.Key(fmt.Sprint("c", i)))
	}
	var seqs []int64
	cursor := ""
	for {
		var page struct {
			Entries    []entry
			NextCursor string
		}
		s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/entries?limit=4&cursor="+cursor, "", nil).JSON(t, &page)
		for _, e := range page.Entries {
			seqs = append(seqs, e.Sequence)
		}
		// New entries arriving between pages must not shift the pages.
		s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("late-"+cursor))
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seqs) != 10 {
		t.Fatalf("paged %d entries, want 10: %v", len(seqs), seqs)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Fatalf("not newest first: %v", seqs)
		}
	}
	var page struct{ Entries []entry }
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/entries?kind=top_up&limit=500", "", nil).JSON(t, &page)
	for _, e := range page.Entries {
		if e.Kind != "top_up" {
			t.Errorf("kind filter let through %+v", e)
		}
	}
	if len(page.Entries) != 4 {
		t.Errorf("%d top-ups, want 4", len(page.Entries))
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	s.MustAdmin(200, "GET", "/v1/accounts/"+acc+"/entries?from="+future, "", nil).JSON(t, &page)
	if len(page.Entries) != 0 {
		t.Errorf("from the future: %d entries", len(page.Entries))
	}
}

func TestReplayAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s := testkit.Open(t, path, testkit.Options{})
	acc := funded(t, s, "5")
	first := s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1.25"}`, testkit.Key("once"))
	var h hold
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1"}`, testkit.Key("hold-once")).JSON(t, &h)
	s.Close()

	s2 := testkit.Open(t, path, testkit.Options{})
	again := s2.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1.25"}`, testkit.Key("once"))
	if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay after restart = %s, want %s", again.Body, first.Body)
	}
	if r := s2.MustAdmin(409, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1.26"}`, testkit.Key("once")); messageID(t, r) != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("reuse after restart: %s", r.Body)
	}
	// The active hold came back from the store with its reservation.
	if b := s2.Balance(acc); b["balance"] != "3.75" || b["held"] != "1" {
		t.Errorf("after restart: %v", b)
	}
	s2.MustAdmin(200, "POST", "/v1/holds/"+h.ID+"/capture", "", testkit.Key("cap"))
	mustCheck(t, s2)
}

// TestClientHangUpIsNoError: a client that hangs up while its charge waits for
// the writer is logged below ERROR (it is not purse's fault), and the charge, once
// queued, still commits: a retry with the same key gets its outcome.
func TestClientHangUpIsNoError(t *testing.T) {
	var logs testkit.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Log: log})
	acc := funded(t, s, "100")
	handler := s.Admin.Config.Handler
	// The request as the admin listener hands it on: to its own address (the
	// handler answers no other Host).
	local, err := net.ResolveTCPAddr("tcp", strings.TrimPrefix(s.Admin.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), http.LocalAddrContextKey, local))
		cancel() // the client is gone by the time purse answers
		req := httptest.NewRequestWithContext(ctx, "POST", s.Admin.URL+"/v1/accounts/"+acc+"/charges", strings.NewReader(`{"amount":"1"}`))
		req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("gone-%d", i))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code == adminapi.StatusClientClosed {
			closed++
		}
	}
	if closed == 0 {
		t.Fatal("no request saw its client hang up")
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("a hang-up was logged as an error:\n%s", out)
	}
	if !strings.Contains(out, "client closed the request") {
		t.Errorf("the hang-up was not logged at all:\n%s", out)
	}
	// Every charge that reached the writer committed, and its key answers with it;
	// the others commit on their retry: each key charges exactly once.
	charged := 0
	for i := 0; i < 50; i++ {
		r := s.AdminDo("POST", "/v1/accounts/"+acc+"/charges", `{"amount":"1"}`, testkit.Key(fmt.Sprintf("gone-%d", i)))
		if r.Status != 201 {
			t.Fatalf("retry of gone-%d: %d %s", i, r.Status, r.Body)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			charged++
		}
	}
	if b := s.Balance(acc); b["balance"] != "50" {
		t.Errorf("balance after 50 keys of 1 each: %v, want 50", b["balance"])
	}
	t.Logf("%d of 50 requests saw the hang-up; %d charges had committed before their retry", closed, charged)
	mustCheck(t, s)
}

// TestChargeServiceType: a charge names what it pays for; free messages are SMS
// messages, so a VOICE charge finds none while SMS has some, and an unknown type
// is refused before anything moves.
func TestChargeServiceType(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "10")
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"freeMessages":2}`, nil)
	free := `"useFreeMessage":true,"fallbackToMoney":false`
	for _, tc := range []struct {
		name, body string
		status     int
		messageID  string
	}{
		{"unknown type", `{"amount":"1","serviceType":"FAX"}`, 400, "BAD_REQUEST"},
		{"lower case", `{"amount":"1","serviceType":"sms"}`, 400, "BAD_REQUEST"},
		{"voice has no free messages", `{"amount":"1","serviceType":"VOICE",` + free + `}`, 402, "NO_FREE_MESSAGES"},
		{"sms by name", `{"amount":"1","serviceType":"SMS",` + free + `}`, 201, ""},
		{"sms by default", `{"amount":"1",` + free + `}`, 201, ""},
		{"none left", `{"amount":"1",` + free + `}`, 402, "NO_FREE_MESSAGES"},
		{"voice pays money", `{"amount":"1.5","serviceType":"VOICE","useFreeMessage":true}`, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.AdminDo("POST", "/v1/accounts/"+acc+"/charges", tc.body, testkit.Key("svc-"+strings.ReplaceAll(tc.name, " ", "-")))
			if r.Status != tc.status || (tc.messageID != "" && messageID(t, r) != tc.messageID) {
				t.Fatalf("%s: %d %s, want %d %s", tc.body, r.Status, r.Body, tc.status, tc.messageID)
			}
		})
	}
	if b := s.Balance(acc); b["balance"] != "8.5" || b["freeMessages"] != float64(0) {
		t.Errorf("after the charges: %v, want balance 8.5 and no free message left", b)
	}
	// The batch route takes the same field.
	r := s.MustAdmin(200, "POST", "/v1/batch", `{"operations":[{"op":"charge","accountId":"`+acc+`","amount":"1","serviceType":"WHATSAPP"},
		{"op":"charge","accountId":"`+acc+`","amount":"1","serviceType":"PIGEON"}]}`, testkit.Key("svc-batch"))
	if !strings.Contains(string(r.Body), `"status":201`) || !strings.Contains(string(r.Body), `"status":400`) {
		t.Errorf("batch with service types: %s", r.Body)
	}
	mustCheck(t, s)
}

// TestCredentialReplayAfterClose: a credential created under a key stays that
// key's answer after the account is closed (the closed check comes after the
// replay).
func TestCredentialReplayAfterClose(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("C", "EUR")
	user := s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"closing","password":"a long secret"}`, testkit.Key("u1"))
	key := s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/api-keys", `{"name":"k"}`, testkit.Key("k1"))
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"status":"closed"}`, nil)
	again := s.AdminDo("POST", "/v1/accounts/"+acc+"/users", `{"username":"closing","password":"a long secret"}`, testkit.Key("u1"))
	if again.Status != 201 || string(again.Body) != string(user.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("user replay after close: %d %s", again.Status, again.Body)
	}
	k := s.AdminDo("POST", "/v1/accounts/"+acc+"/api-keys", `{"name":"k"}`, testkit.Key("k1"))
	if k.Status != 201 || k.Header.Get("Idempotent-Replayed") != "true" || strings.Contains(string(k.Body), `"key"`) {
		t.Errorf("key replay after close: %d %s (first %s)", k.Status, k.Body, key.Body)
	}
	if r := s.AdminDo("POST", "/v1/accounts/"+acc+"/users", `{"username":"late","password":"a long secret"}`, testkit.Key("u2")); r.Status != 409 {
		t.Errorf("a new user on a closed account: %d %s", r.Status, r.Body)
	}
}
