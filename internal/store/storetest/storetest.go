// Package storetest is the contract every purse store must keep (ledger.Store):
// one suite of tests, run against a real SQLite file and a real PostgreSQL
// database, covering the ledger's rules through the engine, idempotency, holds,
// history, credentials, settings, the audit log and the change feed, each through
// the contract alone. A store passes when Run passes. It depends on ledger and
// engine and the two stores, never on an API package.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// Store is everything purse asks of a store: the contract under test.
type Store = ledger.Store

// SQLite opens stores on a temp file.
func SQLite(t *testing.T) func() Store {
	path := filepath.Join(t.TempDir(), "purse.db")
	return func() Store {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// PostgresURL is the server under test (PURSE_TEST_POSTGRES). Tests skip without
// it outside CI; in CI (CI set) its absence fails them.
func PostgresURL(t testing.TB) string {
	u := os.Getenv("PURSE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PURSE_TEST_POSTGRES is not set in CI")
		}
		t.Skip("PURSE_TEST_POSTGRES not set")
	}
	return u
}

// FreshSchema makes an empty schema for one test on the PURSE_TEST_POSTGRES server,
// drops it when the test ends, and returns a URL that uses it.
func FreshSchema(t testing.TB) string {
	base := PostgresURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "purse_t_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens stores on a fresh schema.
func Postgres(t *testing.T) func() Store { return postgresAt(t, FreshSchema(t)) }

// postgresAt opens stores on the schema of URL u.
func postgresAt(t *testing.T, u string) func() Store {
	return func() Store {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// clock is the tests' settable clock (safe to read from the engine's goroutine).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// env is one open store with an engine.
type env struct {
	t     *testing.T
	store Store
	eng   *engine.Engine
}

func start(t *testing.T, open func() Store, c *clock) *env {
	t.Helper()
	st := open()
	eng, err := engine.Open(context.Background(), st, engine.Options{Now: c.Now, ExpiryInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, eng: eng}
	t.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	if e.eng != nil {
		e.eng.Close()
		e.store.Close()
		e.eng = nil
	}
}

func (e *env) do(cmd engine.Command) (any, error) {
	r, err := e.eng.Do(context.Background(), cmd, nil)
	return r.Value, err
}

func (e *env) must(cmd engine.Command) any {
	e.t.Helper()
	v, err := e.do(cmd)
	if err != nil {
		e.t.Fatalf("%T: %v", cmd, err)
	}
	return v
}

func (e *env) refused(cmd engine.Command, want error) {
	e.t.Helper()
	_, err := e.do(cmd)
	var v *ledger.ValidationError
	if want == nil && errors.As(err, &v) {
		return
	}
	if want == nil || !errors.Is(err, want) {
		e.t.Fatalf("%T: err = %v, want %v", cmd, err, want)
	}
}

func (e *env) account(name, cur string) string {
	e.t.Helper()
	return e.must(engine.CreateAccount{Name: name, Currency: cur}).(ledger.Account).ID
}

func (e *env) balance(id string) ledger.Amount {
	e.t.Helper()
	a, ok := e.eng.Account(id)
	if !ok {
		e.t.Fatalf("account %s missing", id)
	}
	return a.Balance
}

func (e *env) check() {
	e.t.Helper()
	rep, err := ledger.Check(context.Background(), e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	if !rep.OK() {
		e.t.Fatalf("check: %v", rep.Problems)
	}
}

func amt(s string) ledger.Amount { return ledger.MustParseAmount(s) }

func ptr[T any](v T) *T { return &v }

// Run runs the contract against stores made by newStore (a fresh one per subtest).
func Run(t *testing.T, newStore func(t *testing.T) func() Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() Store)
	}{
		{"accounts persist", testAccounts},
		{"money rules", testMoney},
		{"limits and free messages", testLimits},
		{"holds", testHolds},
		{"idempotency", testIdempotency},
		{"history", testHistory},
		{"users", testUsers},
		{"api keys", testAPIKeys},
		{"api key restrictions", testAPIKeyRestrictions},
		{"customer audit log", testCustomerAudit},
		{"audit log", testAudit},
		{"sessions", testSessions},
		{"oauth2 clients", testOAuthClients},
		{"settings", testSettings},
		{"change feed", testFeed},
		{"sequence numbers", testSeqs},
		{"sub-accounts", testSubAccounts},
		{"transfers", testTransfers},
		{"shared funding", testSharedFunding},
		{"sub-accounts concurrent", testSubAccountsConcurrent},
		{"operators", testOperators},
		{"balance series", testBalanceSeries},
		{"console reads", testConsoleReads},
		{"low-balance list", testLowBalanceList},
		{"events", testEvents},
		{"low balance", testLowBalance},
		{"monthly alerts", testMonthlyAlerts},
		{"top-up requests", testTopUpRequests},
		{"webhooks", testWebhooks},
		{"webhook log paging and pruning", testWebhookLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testAccounts(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	for i := 0; i < 5; i++ {
		e.account("a", "EUR")
	}
	first := e.account("limits", "USD")
	e.must(engine.UpdateAccount{ID: first, AllowedMinus: ptr(amt("2.5")), MonthlyLimit: ptr(amt("100")), FreeMessages: ptr(int64(7)), Name: ptr("renamed")})
	e.refused(engine.CreateAccount{Name: "x", Currency: "XYZ"}, nil)
	e.stop()
	e = start(t, open, c)
	got, ok := e.eng.Account(first)
	if !ok || got.Name != "renamed" || got.AllowedMinus != amt("2.5") || !got.HasMonthlyLimit || got.MonthlyLimit != amt("100") || got.FreeMessages != 7 || got.Currency != "USD" {
		t.Fatalf("after reopen: %+v", got)
	}
	var listed []string
	after := ""
	for {
		page, err := e.store.ListAccounts(context.Background(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			listed = append(listed, a.ID)
		}
		after = page[len(page)-1].ID
	}
	if len(listed) != 6 {
		t.Errorf("listed %d customer accounts, want 6", len(listed))
	}
}

func testMoney(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("m", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("10")})
	ch := e.must(engine.Charge{AccountID: a, Amount: amt("4")}).(ledger.Entry)
	e.refused(engine.Charge{AccountID: a, Amount: amt("6.000001")}, ledger.ErrInsufficientFunds)
	e.must(engine.Refund{AccountID: a, ChargeID: ch.MovementID, Amount: ptr(amt("1"))})
	e.refused(engine.Refund{AccountID: a, ChargeID: ch.MovementID, Amount: ptr(amt("3.000001"))}, ledger.ErrRefundExceedsCharge)
	e.must(engine.Refund{AccountID: a, ChargeID: ch.MovementID})
	top := e.must(engine.TopUp{AccountID: a, Amount: amt("1")}).(ledger.Entry)
	e.refused(engine.Refund{AccountID: a, ChargeID: top.MovementID}, ledger.ErrNotACharge)
	e.must(engine.Adjust{AccountID: a, Amount: amt("-0.5"), Reason: "fix"})
	e.refused(engine.Adjust{AccountID: a, Amount: amt("-100"), Reason: "too much"}, ledger.ErrInsufficientFunds)
	if got := e.balance(a); got != amt("10.5") {
		t.Errorf("balance %s, want 10.5", got)
	}
	e.must(engine.UpdateAccount{ID: a, Status: ptr(ledger.StatusSuspended)})
	e.refused(engine.Charge{AccountID: a, Amount: amt("1")}, ledger.ErrAccountNotActive)
	e.stop()
	e = start(t, open, c)
	if got := e.balance(a); got != amt("10.5") {
		t.Errorf("balance after reopen %s, want 10.5", got)
	}
	// A partly refunded charge keeps what is left to refund across a restart, and
	// only its own account can refund it.
	e.must(engine.UpdateAccount{ID: a, Status: ptr(ledger.StatusActive)})
	ch2 := e.must(engine.Charge{AccountID: a, Amount: amt("3")}).(ledger.Entry)
	e.must(engine.Refund{AccountID: a, ChargeID: ch2.MovementID, Amount: ptr(amt("1"))})
	e.stop()
	e = start(t, open, c)
	other := e.account("other", "EUR")
	e.must(engine.TopUp{AccountID: other, Amount: amt("5")})
	e.refused(engine.Refund{AccountID: other, ChargeID: ch2.MovementID}, ledger.ErrNotFound)
	e.refused(engine.Refund{AccountID: a, ChargeID: ch2.MovementID, Amount: ptr(amt("2.000001"))}, ledger.ErrRefundExceedsCharge)
	e.must(engine.Refund{AccountID: a, ChargeID: ch2.MovementID})
	if got := e.balance(a); got != amt("10.5") {
		t.Errorf("balance after the second refund %s, want 10.5", got)
	}
	e.check()
}

func testLimits(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("l", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("50")})
	e.must(engine.UpdateAccount{ID: a, MonthlyLimit: ptr(amt("10")), AllowedMinus: ptr(amt("1")), FreeMessages: ptr(int64(1))})
	e.must(engine.Charge{AccountID: a, Amount: amt("9")})
	e.refused(engine.Charge{AccountID: a, Amount: amt("1.5")}, ledger.ErrMonthlyLimitExceeded)
	c.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	e.must(engine.Charge{AccountID: a, Amount: amt("1.5")})
	free := e.must(engine.Charge{AccountID: a, Amount: amt("1"), UseFreeMessage: true}).(ledger.Entry)
	if !free.FreeMessage || free.Amount != 0 {
		t.Errorf("free charge %+v", free)
	}
	e.refused(engine.Charge{AccountID: a, Amount: amt("1"), UseFreeMessage: true}, ledger.ErrNoFreeMessages)
	acc, _ := e.eng.Account(a)
	if acc.SpentIn(c.Now()) != amt("1.5") || acc.FreeMessages != 0 {
		t.Errorf("spent %s, free %d", acc.SpentIn(c.Now()), acc.FreeMessages)
	}
	e.check()
}

func testHolds(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("h", "EUR")
	e.must(engine.TopUp{AccountID: a, Amount: amt("10")})
	h1 := e.must(engine.CreateHold{AccountID: a, Amount: amt("4"), ExpiresIn: time.Minute}).(ledger.Hold)
	h2 := e.must(engine.CreateHold{AccountID: a, Amount: amt("3"), ExpiresIn: time.Minute}).(ledger.Hold)
	h3 := e.must(engine.CreateHold{AccountID: a, Amount: amt("2"), ExpiresIn: time.Second}).(ledger.Hold)
	e.refused(engine.Charge{AccountID: a, Amount: amt("1.000001")}, ledger.ErrInsufficientFunds)
	cap := e.must(engine.CaptureHold{HoldID: h1.ID, Amount: ptr(amt("2.5"))}).(engine.CaptureResult)
	if cap.Entry.Amount != amt("-2.5") || cap.Hold.Status != ledger.HoldCaptured || cap.Entry.Seq <= 0 {
		t.Errorf("capture %+v", cap)
	}
	e.refused(engine.CaptureHold{HoldID: h1.ID}, ledger.ErrHoldCaptured)
	e.must(engine.VoidHold{HoldID: h2.ID})
	e.refused(engine.VoidHold{HoldID: h2.ID}, ledger.ErrHoldVoided)
	c.Advance(time.Second)
	e.refused(engine.CaptureHold{HoldID: h3.ID}, ledger.ErrHoldExpired)
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := e.eng.Hold(context.Background(), h3.ID)
		if err == nil && h.Status == ledger.HoldExpired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hold never expired: %+v %v", h, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.refused(engine.CaptureHold{HoldID: "hold_missing"}, ledger.ErrNotFound)
	// An active hold survives a restart with its reservation.
	h4 := e.must(engine.CreateHold{AccountID: a, Amount: amt("1"), ExpiresIn: time.Hour}).(ledger.Hold)
	e.stop()
	e = start(t, open, c)
	if acc, _ := e.eng.Account(a); acc.Held != amt("1") || acc.Balance != amt("7.5") {
		t.Errorf("after reopen: held %s balance %s", acc.Held, acc.Balance)
	}
	e.must(engine.CaptureHold{HoldID: h4.ID})
	// A capture is a charge: it can be refunded, up to what was captured.
	e.refused(engine.Refund{AccountID: a, ChargeID: cap.Entry.MovementID, Amount: ptr(amt("2.500001"))}, ledger.ErrRefundExceedsCharge)
	e.must(engine.Refund{AccountID: a, ChargeID: cap.Entry.MovementID, Amount: ptr(amt("0.5"))})
	if acc, _ := e.eng.Account(a); acc.Balance != amt("7") {
		t.Errorf("after refunding a capture: balance %s, want 7", acc.Balance)
	}
	e.check()
}

func testIdempotency(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("i", "EUR")
	r1, err := e.eng.Do(context.Background(), engine.TopUp{AccountID: a, Amount: amt("5")}, idem("k1", "h1"))
	if err != nil || r1.Replayed || r1.Outcome == nil || r1.Outcome.Entry == nil {
		t.Fatalf("first: %+v %v", r1, err)
	}
	e.replayed("replay", engine.TopUp{AccountID: a, Amount: amt("5")}, idem("k1", "h1"), r1.Outcome)
	if _, err := e.eng.Do(context.Background(), engine.TopUp{AccountID: a, Amount: amt("6")}, idem("k1", "h2")); !errors.Is(err, ledger.ErrIdempotencyKeyReused) {
		t.Fatalf("reuse: %v", err)
	}
	// A refusal is kept like a success: once refused for lack of funds, a charge
	// stays refused after a top-up, with the same detail.
	c1, err := e.eng.Do(context.Background(), engine.Charge{AccountID: a, Amount: amt("7")}, idem("k2", "h"))
	if err != nil || c1.Outcome == nil || c1.Outcome.Refusal == nil || c1.Outcome.Refusal.Code != ledger.RefusedInsufficientFunds {
		t.Fatalf("refused charge: %+v %v", c1, err)
	}
	e.must(engine.TopUp{AccountID: a, Amount: amt("10")})
	e.replayed("refused charge retried after a top-up", engine.Charge{AccountID: a, Amount: amt("7")}, idem("k2", "h"), c1.Outcome)
	e.stop()
	e = start(t, open, c)
	e.replayed("replay after reopen", engine.TopUp{AccountID: a, Amount: amt("5")}, idem("k1", "h1"), r1.Outcome)
	e.replayed("refused charge after reopen", engine.Charge{AccountID: a, Amount: amt("7")}, idem("k2", "h"), c1.Outcome)
	if got := e.balance(a); got != amt("15") {
		t.Errorf("balance %s, want 15", got)
	}
}

func idem(key, hash string) *engine.Idempotency {
	return &engine.Idempotency{Key: key, RequestHash: hash}
}

// replayed runs cmd again under an Idempotency-Key already used and fails the test
// unless the engine answers with the first outcome, marked as a replay.
func (e *env) replayed(what string, cmd engine.Command, key *engine.Idempotency, want *ledger.Outcome) {
	e.t.Helper()
	r, err := e.eng.Do(context.Background(), cmd, key)
	if err != nil || !r.Replayed || !cmp.Equal(r.Outcome, want) {
		e.t.Fatalf("%s: %+v %v\n%s", what, r, err, cmp.Diff(r.Outcome, want))
	}
}

func testHistory(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("hist", "EUR")
	var entries []ledger.Entry
	for i := 0; i < 7; i++ {
		c.Advance(time.Minute)
		entries = append(entries, e.must(engine.TopUp{AccountID: a, Amount: amt("1"), Metadata: map[string]string{"i": string(rune('a' + i))}}).(ledger.Entry))
	}
	ctx := context.Background()
	page, err := e.store.ListEntries(ctx, a, ledger.EntryFilter{Limit: 3})
	if err != nil || len(page) != 3 || page[0].Seq != entries[6].Seq || page[0].Metadata["i"] != "g" {
		t.Fatalf("first page %+v %v", page, err)
	}
	page, _ = e.store.ListEntries(ctx, a, ledger.EntryFilter{Limit: 10, BeforeSeq: page[2].Seq})
	if len(page) != 4 {
		t.Errorf("second page has %d", len(page))
	}
	page, _ = e.store.ListEntries(ctx, a, ledger.EntryFilter{Limit: 10, From: entries[2].CreatedAt, To: entries[4].CreatedAt, Kind: ledger.EntryTopUp})
	if len(page) != 2 {
		t.Errorf("time window has %d", len(page))
	}
	at, err := e.store.LastEntryAt(ctx, a, entries[3].CreatedAt)
	if err != nil || at == nil || at.Seq != entries[3].Seq || at.BalanceAfter != amt("4") {
		t.Errorf("LastEntryAt = %+v %v", at, err)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Seq <= entries[i-1].Seq {
			t.Errorf("sequences not increasing: %d then %d", entries[i-1].Seq, entries[i].Seq)
		}
	}
	e.check()
}

func testUsers(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("cred", "EUR")
	st := e.store
	ctx := context.Background()
	at := c.Now()
	u := ledger.User{Username: "alice", AccountID: a, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: at}
	if err := st.InsertUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertUser(ctx, ledger.User{Username: "alice", AccountID: a, PasswordHash: "other", CreatedAt: at}, nil); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("duplicate user: %v", err)
	}
	got, err := st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, u); diff != "" {
		t.Errorf("UserByName (-got +want):\n%s", diff)
	}
	if users, err := st.UsersOf(ctx, a); err != nil || len(users) != 1 || users[0].Username != "alice" {
		t.Errorf("UsersOf = %+v, %v", users, err)
	}
	if err := st.DeleteUser(ctx, a, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserByName(ctx, "alice"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("removed user: %v", err)
	}
	if err := st.DeleteUser(ctx, a, "alice", nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
}

func testAPIKeys(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("keys", "EUR")
	st := e.store
	ctx := context.Background()
	at := c.Now()
	k := ledger.APIKey{ID: "key_1", AccountID: a, Name: "k", Hash: "ab12", Scopes: []string{"account-management:manage"}, CreatedAt: at}
	if err := st.InsertAPIKey(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := st.APIKeyByHash(ctx, "ab12"); err != nil || got.ID != k.ID || got.RevokedAt != nil {
		t.Fatalf("APIKeyByHash = %+v, %v", got, err)
	}
	rec := &ledger.IdempotencyRecord{Key: "cred-key", RequestHash: "h", Status: 204, Body: []byte("answer"), CreatedAt: at}
	if err := st.RevokeAPIKey(ctx, a, k.ID, at.Add(time.Minute), rec); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeAPIKey(ctx, a, k.ID, at.Add(2*time.Minute), rec); !errors.Is(err, ledger.ErrDuplicateIdempotencyKey) {
		t.Errorf("second use of a committed key: %v", err)
	}
	if stored, err := st.Idempotency(ctx, "cred-key"); err != nil || stored == nil || stored.RequestHash != "h" || string(stored.Body) != "answer" {
		t.Errorf("the revocation's record = %+v, %v", stored, err)
	}
	if err := st.RevokeAPIKey(ctx, a, "key_missing", at, nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("revoke a missing key: %v", err)
	}
	keys, err := st.APIKeysOf(ctx, a)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil || !keys[0].RevokedAt.Equal(at.Add(time.Minute)) || !cmp.Equal(keys[0].Scopes, k.Scopes) {
		t.Errorf("keys %+v %v", keys, err)
	}
}

// testAPIKeyRestrictions: a key's addresses, validity and enabled flag persist,
// an update replaces them (with its idempotency record in the same commit), and
// a key stored without them reads back unrestricted.
func testAPIKeyRestrictions(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("rules", "EUR")
	st := e.store
	ctx := context.Background()
	at := c.Now()
	plain := ledger.APIKey{ID: "key_plain", AccountID: a, Name: "plain", Hash: "p1", Scopes: []string{"account-management:manage"}, CreatedAt: at}
	from, to := at.Add(-time.Hour), at.Add(24*time.Hour)
	ruled := ledger.APIKey{ID: "key_ruled", AccountID: a, Name: "ruled", Hash: "r1", Scopes: []string{"sms:send", "audit-logs:read"},
		AllowedIPs: []string{"192.0.2.0/24", "2001:db8::1/128"}, ValidFrom: &from, ValidTo: &to, Disabled: true, CreatedAt: at}
	for _, k := range []ledger.APIKey{plain, ruled} {
		if err := st.InsertAPIKey(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []ledger.APIKey{plain, ruled} {
		got, err := st.APIKeyByID(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("APIKeyByID(%s) (-got +want)\n%s", want.ID, d)
		}
	}
	if _, err := st.APIKeyByID(ctx, "key_none"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("APIKeyByID of no key: %v", err)
	}
	upd := ruled
	upd.Name, upd.AllowedIPs, upd.ValidFrom, upd.ValidTo, upd.Disabled, upd.Scopes = "renamed", nil, nil, nil, false, []string{"account-management:manage"}
	rec := &ledger.IdempotencyRecord{Key: "upd-key", RequestHash: "h", Body: []byte("o"), CreatedAt: at}
	if err := st.UpdateAPIKey(ctx, upd, rec); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateAPIKey(ctx, upd, rec); !errors.Is(err, ledger.ErrDuplicateIdempotencyKey) {
		t.Errorf("second update under one key: %v", err)
	}
	got, err := st.APIKeyByHash(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, upd); d != "" {
		t.Errorf("after update (-got +want)\n%s", d)
	}
	other := upd
	other.AccountID = e.account("rules-other", "EUR")
	if err := st.UpdateAPIKey(ctx, other, nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("update through another account: %v", err)
	}
	// Sessions keep their address and unsafe flag.
	if err := st.InsertUser(ctx, ledger.User{Username: "ru", AccountID: a, PasswordHash: "x", CreatedAt: at}, nil); err != nil {
		t.Fatal(err)
	}
	for _, se := range []ledger.Session{{Hash: "sb", AccountID: a, Username: "ru", CreatedAt: at, LastUsed: at, Address: "192.0.2.7"},
		{Hash: "su", AccountID: a, Username: "ru", CreatedAt: at, LastUsed: at, Unsafe: true}} {
		if err := st.InsertSession(ctx, se); err != nil {
			t.Fatal(err)
		}
		got, err := st.SessionByHash(ctx, se.Hash)
		if err != nil || got.Address != se.Address || got.Unsafe != se.Unsafe {
			t.Errorf("session %s = %+v, %v", se.Hash, got, err)
		}
	}
}

// testCustomerAudit: a customer's records are its account's and its
// sub-accounts' (by main account), filtered as Infobip's /audit/1/logs filters.
func testCustomerAudit(t *testing.T, open func() Store) {
	st := open()
	defer st.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	recs := []ledger.CustomerAuditRecord{
		{ID: "aud_1", At: at, AccountID: "acc_a", MainAccountID: "acc_a", Action: "Login", Item: "User", Description: "User 'alice' logged in", Username: "alice", IPAddress: "192.0.2.1"},
		{ID: "aud_2", At: at.Add(time.Second), AccountID: "acc_sub", MainAccountID: "acc_a", Action: "Create", Item: "ApiKey", Description: "API key 'ci' created", Username: "alice", IPAddress: "192.0.2.1"},
		{ID: "aud_3", At: at.Add(2 * time.Second), AccountID: "acc_b", MainAccountID: "acc_b", Action: "Login", Item: "User", Description: "User 'bob' logged in", Username: "bob", IPAddress: "198.51.100.1"},
		{ID: "aud_4", At: at.Add(3 * time.Second), AccountID: "acc_a", MainAccountID: "acc_a", Action: "Update", Item: "ApiKey", Description: "API key 'ci' updated", Username: "key:key_1", IPAddress: "2001:db8::1"},
	}
	if err := st.AppendCustomerAudit(ctx, recs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendCustomerAudit(ctx, recs[2:]); err != nil {
		t.Fatal(err)
	}
	ids := func(f ledger.CustomerAuditFilter) []string {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		got, err := st.ListCustomerAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got {
			out = append(out, r.ID)
		}
		return out
	}
	from, to := at.Add(time.Second), at.Add(3*time.Second)
	for _, c := range []struct {
		f    ledger.CustomerAuditFilter
		want []string
	}{
		{ledger.CustomerAuditFilter{Account: "acc_a"}, []string{"aud_1", "aud_2", "aud_4"}},
		{ledger.CustomerAuditFilter{Account: "acc_sub"}, []string{"aud_2"}},
		{ledger.CustomerAuditFilter{Account: "acc_b"}, []string{"aud_3"}},
		{ledger.CustomerAuditFilter{Account: "acc_none"}, nil},
		{ledger.CustomerAuditFilter{Account: "acc_a", Action: "Login"}, []string{"aud_1"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", Item: "ApiKey"}, []string{"aud_2", "aud_4"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", IPAddress: "2001:db8::1"}, []string{"aud_4"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", Username: "alice"}, []string{"aud_1", "aud_2"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", Description: "'ci'"}, []string{"aud_2", "aud_4"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", From: &from, To: &to}, []string{"aud_2"}},
		{ledger.CustomerAuditFilter{Account: "acc_a", Limit: 2}, []string{"aud_1", "aud_2"}},
	} {
		if got := ids(c.f); !cmp.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
		}
	}
	got, err := st.ListCustomerAudit(ctx, ledger.CustomerAuditFilter{Account: "acc_a", Limit: 1})
	if err != nil || len(got) != 1 || !cmp.Equal(got[0], recs[0]) {
		t.Errorf("a whole record: %+v, %v", got, err)
	}
}

func testAudit(t *testing.T, open func() Store) {
	st := open()
	defer st.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var recs []ledger.AuditRecord
	for i := 0; i < 5; i++ {
		recs = append(recs, ledger.AuditRecord{At: at.Add(time.Duration(i) * time.Second), Actor: "token:abc", Action: "POST /v1/accounts",
			Target: "/v1/accounts", Remote: "127.0.0.1", Status: 201 + i})
	}
	if err := st.AppendAudit(ctx, recs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(ctx, recs[2:]); err != nil {
		t.Fatal(err)
	}
	page, err := st.ListAudit(ctx, ledger.AuditFilter{Limit: 3})
	if err != nil || len(page) != 3 || page[0].Status != 205 || !page[0].At.Equal(recs[4].At) || page[0].Seq <= page[1].Seq {
		t.Fatalf("first page %+v %v", page, err)
	}
	rest, err := st.ListAudit(ctx, ledger.AuditFilter{Limit: 10, BeforeSeq: page[2].Seq})
	if err != nil || len(rest) != 2 || rest[1].Status != 201 {
		t.Errorf("second page %+v %v", rest, err)
	}
	if err := st.AppendAudit(ctx, []ledger.AuditRecord{{At: at, Actor: "operator:ann", Action: "PATCH /v1/accounts/{id}", Target: "/v1/accounts/a", Status: 200}}); err != nil {
		t.Fatal(err)
	}
	mine, err := st.ListAudit(ctx, ledger.AuditFilter{Limit: 10, Actor: "operator:ann"})
	if err != nil || len(mine) != 1 || mine[0].Actor != "operator:ann" {
		t.Errorf("by actor %+v %v", mine, err)
	}
	posts, err := st.ListAudit(ctx, ledger.AuditFilter{Limit: 10, Action: "POST "})
	if err != nil || len(posts) != 5 {
		t.Errorf("by action %d %v", len(posts), err)
	}
}

func testSessions(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("sess", "EUR")
	ctx := context.Background()
	if err := e.store.InsertUser(ctx, ledger.User{Username: "s", AccountID: a, PasswordHash: "x", CreatedAt: c.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	at := c.Now()
	se := ledger.Session{Hash: "h1", AccountID: a, Username: "s", CreatedAt: at, LastUsed: at}
	if err := e.store.InsertSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	if err := e.store.TouchSession(ctx, "h1", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := e.store.TouchSession(ctx, "h1", at.Add(time.Second)); err != nil { // never back in time
		t.Fatal(err)
	}
	got, err := e.store.SessionByHash(ctx, "h1")
	if err != nil || got.AccountID != a || !got.LastUsed.Equal(at.Add(time.Minute)) {
		t.Fatalf("session = %+v, %v", got, err)
	}
	if err := e.store.DeleteSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SessionByHash(ctx, "h1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	// A user's sessions go with the user.
	if err := e.store.InsertSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DeleteUser(ctx, a, "s", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SessionByHash(ctx, "h1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("session of a removed user: %v", err)
	}
}

func testOAuthClients(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("oauth", "EUR")
	st := e.store
	ctx := context.Background()
	at := c.Now()
	oc := ledger.APIKey{ID: "oc_1", AccountID: a, Name: "backend", Hash: "cd34", Scopes: []string{"account-management:manage"}, CreatedAt: at}
	rec := &ledger.IdempotencyRecord{Key: "oauth-key", RequestHash: "h", Status: 201, Body: []byte("answer"), CreatedAt: at}
	if err := st.InsertOAuthClient(ctx, oc, rec); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertOAuthClient(ctx, ledger.APIKey{ID: "oc_2", AccountID: a, Name: "again", Hash: "ef56", CreatedAt: at}, rec); !errors.Is(err, ledger.ErrDuplicateIdempotencyKey) {
		t.Errorf("second use of a committed key: %v", err)
	}
	got, err := st.OAuthClient(ctx, oc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, oc); diff != "" {
		t.Errorf("OAuthClient (-got +want):\n%s", diff)
	}
	if _, err := st.OAuthClient(ctx, "oc_missing"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("missing client: %v", err)
	}
	if err := st.RevokeOAuthClient(ctx, a, oc.ID, at.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	list, err := st.OAuthClientsOf(ctx, a)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Errorf("clients %+v %v", list, err)
	}
}

// testSettings: settings are shared by every node; onlyIfUnset is how the first
// node's value wins.
func testSettings(t *testing.T, open func() Store) {
	st := open()
	defer st.Close()
	ctx := context.Background()
	steps := []struct {
		value       string
		onlyIfUnset bool
		want        string
	}{
		{"first", true, "first"},
		{"second", true, "first"},
		{"third", false, "third"},
	}
	if v, err := st.Setting(ctx, "k"); err != nil || v != "" {
		t.Fatalf("unset setting = %q, %v", v, err)
	}
	for _, s := range steps {
		if err := st.SetSetting(ctx, "k", s.value, s.onlyIfUnset); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Setting(ctx, "k"); err != nil || got != s.want {
			t.Errorf("after SetSetting(%q, onlyIfUnset %v): %q, %v; want %q", s.value, s.onlyIfUnset, got, err, s.want)
		}
	}
}

// testFeed: every store has a change feed, so a node runs one code path: Follow
// says the caches are current (a shared store after Reload), returns when its
// context ends, and AccountsByID reads what a change names.
func testFeed(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	a := e.account("feed", "EUR")
	ctx, cancel := context.WithCancel(context.Background())
	resynced := make(chan struct{}, 1)
	h := ledger.ChangeHandlers{
		Accounts: func([]string) error { return nil }, Credentials: func() {}, Token: func() {}, Lost: func() {},
		Reload:   func(context.Context) error { return nil },
		Resynced: func() { resynced <- struct{}{} },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.store.Follow(ctx, h, slog.New(slog.DiscardHandler))
	}()
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow never reported the caches current")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return when its context ended")
	}
	accts, err := e.store.AccountsByID(context.Background(), []string{a, "acc_missing"})
	if err != nil || len(accts) != 1 || accts[0].ID != a || accts[0].Name != "feed" {
		t.Errorf("AccountsByID = %+v, %v", accts, err)
	}
	if err := e.store.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testSeqs: sequence numbers come ascending and never twice, also when a store
// reserved some ahead (Prefetch) and a batch takes fewer or more than that.
func testSeqs(t *testing.T, open func() Store) {
	s := open()
	defer s.Close()
	ctx := context.Background()
	var last int64
	take := func(tx ledger.BatchTx, n int) {
		t.Helper()
		seqs, err := tx.ReserveSeqs(ctx, n)
		if err != nil || len(seqs) != n {
			t.Fatalf("ReserveSeqs(%d) = %v, %v", n, seqs, err)
		}
		for _, v := range seqs {
			if v <= last {
				t.Fatalf("sequence %d after %d", v, last)
			}
			last = v
		}
	}
	for _, plan := range [][]int{{2, 4}, {3}, {1, 1, 5}} {
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := tx.Prefetch(ctx, nil, nil, nil, 3); err != nil {
			t.Fatal(err)
		}
		for _, n := range plan {
			take(tx, n)
		}
		if err := tx.Commit(ctx, &ledger.Batch{}); err != nil {
			t.Fatal(err)
		}
	}
}
