package sqlite

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// BenchmarkCommitChargeBatch commits what the engine commits for a batch of 16
// charges to one account (target 2 of the benchmark): the account and the revenue
// account, 16 charge entries and one revenue entry, 16 idempotency records with
// their response bodies. No fsync: that is Sync's. Run with
// go test -run - -bench CommitChargeBatch ./internal/store/sqlite
func BenchmarkCommitChargeBatch(b *testing.B) {
	const charges = 16
	ctx := context.Background()
	s := openTemp(b)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	cust := ledger.Account{ID: "acc_hot", Kind: ledger.KindCustomer, Name: "hot", Currency: "EUR", Status: ledger.StatusActive,
		Balance: 1 << 50, SpentMonth: 202611, CreatedAt: at, UpdatedAt: at}
	rev := ledger.Account{ID: "sys_revenue_EUR", Kind: ledger.KindRevenue, Currency: "EUR", Status: ledger.StatusActive,
		SpentMonth: 202611, CreatedAt: at, UpdatedAt: at}
	tx, err := s.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx, &ledger.Batch{Accounts: []ledger.Account{cust, rev}, Created: map[string]bool{cust.ID: true, rev.ID: true}}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"chg_06h1e2ywxe04gmqs4qfm6bj1fg","account_id":"acc_hot","amount":"0.000001","currency":"EUR","balance_after":"1125899906.842623","reference":"","created_at":"2026-11-26T10:00:00.000000Z","refunded":"0"}`)
	seq, n := int64(0), 0
	for b.Loop() {
		tx, err := s.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		bt := &ledger.Batch{}
		for i := 0; i < charges; i++ {
			n++
			seq++
			cust.Balance--
			key := "admin:bench-" + strconv.Itoa(n)
			bt.Entries = append(bt.Entries, ledger.Entry{Seq: seq, MovementID: "chg_" + strconv.Itoa(n), AccountID: cust.ID,
				Kind: ledger.EntryCharge, Amount: -1, BalanceAfter: cust.Balance, IdempotencyKey: key, CreatedAt: at})
			bt.Idempotency = append(bt.Idempotency, ledger.IdempotencyRecord{Key: key, RequestHash: "3f2a9c0d1e4b5a6978877665544332211ffeeddccbbaa99887766554433221100",
				Status: 201, Body: body, CreatedAt: at})
		}
		seq++
		rev.Balance += charges
		bt.Entries = append(bt.Entries, ledger.Entry{Seq: seq, MovementID: "set_" + strconv.Itoa(n), AccountID: rev.ID,
			Kind: ledger.EntrySettlement, Amount: charges, BalanceAfter: rev.Balance, CreatedAt: at})
		cust.Seq, rev.Seq = seq-1, seq
		cust.Version++
		rev.Version++
		bt.Accounts = []ledger.Account{cust, rev}
		if err := tx.Commit(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/charges, "ns/charge")
}
