package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// sub makes a sub-account of parent.
func (e *env) sub(parent, name string, funding ledger.FundingMode) string {
	e.t.Helper()
	return e.must(engine.CreateAccount{Name: name, Parent: parent, Funding: funding}).(ledger.Account).ID
}

// testSubAccounts: sub-accounts are kept with their parent and funding, are one
// level deep in their parent's currency, and are listed by parent.
func testSubAccounts(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	main := e.account("main", "EUR")
	own := e.sub(main, "own", ledger.FundingOwn)
	shared := e.sub(main, "shared", ledger.FundingShared)
	e.refused(engine.CreateAccount{Name: "deep", Parent: own, Funding: ledger.FundingOwn}, ledger.ErrConflict)
	e.refused(engine.CreateAccount{Name: "usd", Parent: main, Funding: ledger.FundingOwn, Currency: "USD"}, ledger.ErrConflict)
	e.refused(engine.CreateAccount{Name: "nofunding", Parent: main}, nil)
	e.refused(engine.CreateAccount{Name: "fundingonly", Currency: "EUR", Funding: ledger.FundingOwn}, nil)
	e.refused(engine.CreateAccount{Name: "orphan", Parent: "acc_missing", Funding: ledger.FundingOwn}, ledger.ErrNotFound)
	e.must(engine.UpdateSubAccount{ID: shared, Owner: main, Enabled: ptr(false), Name: ptr("renamed")})
	e.refused(engine.UpdateSubAccount{ID: shared, Owner: own, Enabled: ptr(true)}, ledger.ErrNotFound)
	e.refused(engine.UpdateSubAccount{ID: main, Owner: main, Enabled: ptr(true)}, ledger.ErrNotFound)
	e.stop()
	e = start(t, open, c)
	got, ok := e.eng.Account(shared)
	if !ok || got.ParentID != main || got.Funding != ledger.FundingShared || !got.Disabled || got.Name != "renamed" || got.Currency != "EUR" {
		t.Fatalf("after reopen: %+v", got)
	}
	subs, err := e.store.SubAccounts(context.Background(), main)
	if err != nil || len(subs) != 2 {
		t.Fatalf("SubAccounts = %+v, %v", subs, err)
	}
	for _, s := range subs {
		want := map[string]ledger.FundingMode{own: ledger.FundingOwn, shared: ledger.FundingShared}[s.ID]
		if s.ParentID != main || s.Funding != want || s.Disabled != (s.ID == shared) {
			t.Errorf("listed %+v", s)
		}
	}
	if subs, err := e.store.SubAccounts(context.Background(), own); err != nil || len(subs) != 0 {
		t.Errorf("a sub-account's sub-accounts = %+v, %v", subs, err)
	}
	e.check()
}

// testTransfers: money moves between a parent and its own-funded sub-account in
// both directions, checked against the payer's available funds, exactly once
// under an Idempotency-Key (a refusal too), and the transfer's two entries
// balance.
func testTransfers(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	ctx := context.Background()
	main := e.account("main", "EUR")
	own := e.sub(main, "own", ledger.FundingOwn)
	shared := e.sub(main, "shared", ledger.FundingShared)
	other := e.account("other", "EUR")
	e.must(engine.TopUp{AccountID: main, Amount: amt("10")})
	e.must(engine.UpdateAccount{ID: main, AllowedMinus: ptr(amt("1"))})

	down := engine.Transfer{From: main, To: own, Amount: amt("4"), Reference: "budget"}
	r1, err := e.eng.Do(ctx, down, idem("t1", "h1"))
	if err != nil || r1.Outcome == nil || r1.Outcome.Entry == nil || r1.Outcome.Entry.Kind != ledger.EntryTransfer {
		t.Fatalf("transfer: %+v %v", r1, err)
	}
	e.replayed("transfer retried", down, idem("t1", "h1"), r1.Outcome)
	if e.balance(main) != amt("6") || e.balance(own) != amt("4") {
		t.Fatalf("after a transfer retried: main %s, own %s; want 6 and 4 (moved once)", e.balance(main), e.balance(own))
	}
	e.must(engine.Transfer{From: own, To: main, Amount: amt("1.5")})
	// A refusal for funds is final under its key: still refused after a top-up.
	big := engine.Transfer{From: own, To: main, Amount: amt("3")}
	r2, err := e.eng.Do(ctx, big, idem("t2", "h2"))
	if err != nil || r2.Outcome == nil || r2.Outcome.Refusal == nil || r2.Outcome.Refusal.Code != ledger.RefusedInsufficientFunds {
		t.Fatalf("transfer beyond funds: %+v %v", r2, err)
	}
	e.must(engine.Transfer{From: main, To: own, Amount: amt("8.5")}) // uses main's allowed minus: 7.5 + 1
	e.replayed("refused transfer retried after funds arrived", big, idem("t2", "h2"), r2.Outcome)
	e.refused(engine.Transfer{From: main, To: own, Amount: amt("0.01")}, ledger.ErrInsufficientFunds)
	e.refused(engine.Transfer{From: main, To: shared, Amount: amt("1")}, ledger.ErrConflict)
	e.refused(engine.Transfer{From: main, To: other, Amount: amt("1")}, ledger.ErrConflict)
	e.refused(engine.Transfer{From: own, To: own, Amount: amt("1")}, ledger.ErrConflict)
	e.refused(engine.Transfer{From: main, To: own, Amount: 0}, nil)
	if e.balance(main) != amt("-1") || e.balance(own) != amt("11") {
		t.Fatalf("main %s, own %s; want -1 and 11", e.balance(main), e.balance(own))
	}
	es, err := e.store.Entries(ctx, own)
	if err != nil || len(es) != 3 || es[0].RelatedID != main || es[0].Amount != amt("4") {
		t.Fatalf("own's entries: %+v %v", es, err)
	}
	e.stop()
	e = start(t, open, c)
	e.replayed("transfer after reopen", down, idem("t1", "h1"), r1.Outcome)
	e.check()
}

// testSharedFunding: a shared sub-account's charges and holds take its parent's
// money and limits, and its entries name it; a disabled sub-account's charges and
// holds are refused, finally.
func testSharedFunding(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	ctx := context.Background()
	main := e.account("main", "EUR")
	shared := e.sub(main, "shared", ledger.FundingShared)
	e.must(engine.TopUp{AccountID: main, Amount: amt("10")})
	e.must(engine.UpdateAccount{ID: main, MonthlyLimit: ptr(amt("8"))})
	ch := e.must(engine.Charge{AccountID: shared, Amount: amt("3")}).(ledger.Entry)
	if ch.AccountID != main || ch.SubAccountID != shared || ch.BalanceAfter != amt("7") {
		t.Fatalf("shared charge: %+v", ch)
	}
	h := e.must(engine.CreateHold{AccountID: shared, Amount: amt("2"), ExpiresIn: time.Minute}).(ledger.Hold)
	if a, _ := e.eng.Account(main); a.Held != amt("2") {
		t.Fatalf("parent's held %s, want 2", a.Held)
	}
	e.refused(engine.Charge{AccountID: shared, Amount: amt("4")}, ledger.ErrMonthlyLimitExceeded) // 3 spent + 2 held + 4 > 8
	capt := e.must(engine.CaptureHold{HoldID: h.ID, Amount: ptr(amt("1"))}).(engine.CaptureResult)
	if capt.Entry.AccountID != main || capt.Entry.SubAccountID != shared {
		t.Fatalf("capture: %+v", capt.Entry)
	}
	e.must(engine.Refund{AccountID: main, ChargeID: ch.MovementID, Amount: ptr(amt("1"))})
	// Its money is its parent's: nothing is booked on it, and its parent's limits
	// are changed on the parent.
	e.refused(engine.TopUp{AccountID: shared, Amount: amt("1")}, ledger.ErrConflict)
	e.refused(engine.Adjust{AccountID: shared, Amount: amt("1"), Reason: "x"}, ledger.ErrConflict)
	e.refused(engine.Refund{AccountID: shared, ChargeID: ch.MovementID}, ledger.ErrNotFound)
	e.refused(engine.UpdateAccount{ID: shared, AllowedMinus: ptr(amt("1"))}, ledger.ErrConflict)
	if e.balance(main) != amt("7") || e.balance(shared) != 0 {
		t.Fatalf("main %s, shared %s; want 7 and 0", e.balance(main), e.balance(shared))
	}
	// Disabled by its parent: refused, and the refusal is kept under its key.
	e.must(engine.UpdateSubAccount{ID: shared, Owner: main, Enabled: ptr(false)})
	off := engine.Charge{AccountID: shared, Amount: amt("1")}
	r, err := e.eng.Do(ctx, off, idem("off", "h"))
	if err != nil || r.Outcome == nil || r.Outcome.Refusal == nil || r.Outcome.Refusal.Code != ledger.RefusedAccountNotActive {
		t.Fatalf("charge of a disabled sub-account: %+v %v", r, err)
	}
	e.refused(engine.CreateHold{AccountID: shared, Amount: amt("1"), ExpiresIn: time.Minute}, ledger.ErrAccountNotActive)
	e.must(engine.UpdateSubAccount{ID: shared, Owner: main, Enabled: ptr(true)})
	e.replayed("disabled refusal after re-enabling", off, idem("off", "h"), r.Outcome)
	e.must(engine.Charge{AccountID: shared, Amount: amt("1")})
	// The operator's suspension of the parent stops the shared sub-account too.
	e.must(engine.UpdateAccount{ID: main, Status: ptr(ledger.StatusSuspended)})
	e.refused(engine.Charge{AccountID: shared, Amount: amt("1")}, ledger.ErrAccountNotActive)
	es, err := e.store.Entries(ctx, main)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, x := range es {
		if x.SubAccountID == shared {
			named++
		}
	}
	if named != 3 {
		t.Errorf("%d of main's entries name the shared sub-account, want 3 (charge, capture, charge)", named)
	}
	e.stop()
	e = start(t, open, c)
	e.check()
}

// testSubAccountsConcurrent: charges on a parent, its shared sub-account and its
// own-funded one at once, with transfers between them, are exact: each account
// ends where the accepted operations put it, and check passes.
func testSubAccountsConcurrent(t *testing.T, open func() Store) {
	c := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	e := start(t, open, c)
	main := e.account("main", "EUR")
	shared := e.sub(main, "shared", ledger.FundingShared)
	own := e.sub(main, "own", ledger.FundingOwn)
	e.must(engine.TopUp{AccountID: main, Amount: amt("50")})
	e.must(engine.Transfer{From: main, To: own, Amount: amt("20")})
	ok := ConcurrentSubAccountLoad(t, []*engine.Engine{e.eng}, main, shared, own)
	if got, want := e.balance(main), amt("30")-ok.main-ok.shared-ok.moved; got != want {
		t.Errorf("main %s, want %s", got, want)
	}
	if got, want := e.balance(own), amt("20")-ok.own+ok.moved; got != want {
		t.Errorf("own %s, want %s", got, want)
	}
	e.check()
}

// Accepted sums what the concurrent load's accepted operations took.
type Accepted struct{ main, shared, own, moved ledger.Amount }

// ConcurrentSubAccountLoad charges main, shared and own 0.1 each, holds 0.1 on
// shared and captures it (the hold names the sub-account, the capture locks its
// parent), and transfers 0.1 from main to own, from many goroutines spread over
// the engines (one per node), until funds run out; it returns what was accepted.
// Only refusals for funds are expected.
func ConcurrentSubAccountLoad(t *testing.T, engines []*engine.Engine, main, shared, own string) Accepted {
	t.Helper()
	var mu sync.Mutex
	var acc Accepted
	var wg sync.WaitGroup
	step := amt("0.1")
	ops := []struct {
		name string
		sum  func(*Accepted) *ledger.Amount
		run  func(eng *engine.Engine) error
	}{
		{"main", func(a *Accepted) *ledger.Amount { return &a.main }, func(eng *engine.Engine) error {
			_, err := eng.Do(context.Background(), engine.Charge{AccountID: main, Amount: step}, nil)
			return err
		}},
		{"shared", func(a *Accepted) *ledger.Amount { return &a.shared }, func(eng *engine.Engine) error {
			_, err := eng.Do(context.Background(), engine.Charge{AccountID: shared, Amount: step}, nil)
			return err
		}},
		{"own", func(a *Accepted) *ledger.Amount { return &a.own }, func(eng *engine.Engine) error {
			_, err := eng.Do(context.Background(), engine.Charge{AccountID: own, Amount: step}, nil)
			return err
		}},
		{"transfer", func(a *Accepted) *ledger.Amount { return &a.moved }, func(eng *engine.Engine) error {
			_, err := eng.Do(context.Background(), engine.Transfer{From: main, To: own, Amount: step}, nil)
			return err
		}},
		{"shared hold", func(a *Accepted) *ledger.Amount { return &a.shared }, func(eng *engine.Engine) error {
			r, err := eng.Do(context.Background(), engine.CreateHold{AccountID: shared, Amount: step, ExpiresIn: time.Hour}, nil)
			if err != nil {
				return err
			}
			_, err = eng.Do(context.Background(), engine.CaptureHold{HoldID: r.Value.(ledger.Hold).ID}, nil)
			if errors.Is(err, ledger.ErrInsufficientFunds) {
				return fmt.Errorf("capture refused for funds: %w", err) // a hold's funds are reserved
			}
			return err
		}},
	}
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			eng := engines[g%len(engines)]
			for i := 0; i < 40; i++ {
				op := ops[(g+i)%len(ops)]
				err := op.run(eng)
				if errors.Is(err, ledger.ErrInsufficientFunds) && !strings.HasPrefix(err.Error(), "capture") {
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", op.name, err)
					return
				}
				mu.Lock()
				*op.sum(&acc) += step
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	return acc
}
