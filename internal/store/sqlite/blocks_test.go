package sqlite

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

func TestBlockRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC)
	want := []ledger.Entry{
		{Seq: 7, MovementID: "mov_a", AccountID: "acc_x", Kind: ledger.EntryCharge, Amount: math.MinInt64 + 1, BalanceAfter: math.MaxInt64,
			Reference: "ref é \x00 |", IdempotencyKey: "k-1", CreatedAt: at, Metadata: map[string]string{"a": "1", "é": "\""}},
		{Seq: 9, MovementID: "mov_b", AccountID: "acc_x", Kind: ledger.EntryRefund, Amount: 5, BalanceAfter: -3,
			RelatedID: "mov_a", CreatedAt: at.Add(-time.Hour), FreeMessage: true}, // a clock step back still round-trips
		{Seq: 1 << 40, MovementID: "", AccountID: "acc_x", Kind: ledger.EntryTopUp, CreatedAt: at.Add(time.Microsecond)},
	}
	data := encodeBlock(nil, want)
	got, err := decodeBlock("acc_x", want[0].Seq, micros(want[0].CreatedAt), len(want), data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("decoded block differs (-got +want):\n%s", diff)
	}
	// Every truncation, a wrong count and trailing bytes are refused, never misread.
	for i := 0; i < len(data); i++ {
		if _, err := decodeBlock("acc_x", 7, micros(at), len(want), data[:i]); !errors.Is(err, errBadBlock) {
			t.Fatalf("block cut to %d of %d bytes: err = %v, want errBadBlock", i, len(data), err)
		}
	}
	if _, err := decodeBlock("acc_x", 7, micros(at), len(want)+1, data); !errors.Is(err, errBadBlock) {
		t.Errorf("one entry too many: err = %v", err)
	}
	if _, err := decodeBlock("acc_x", 7, micros(at), len(want), append(data, 0)); !errors.Is(err, errBadBlock) {
		t.Errorf("trailing byte: err = %v", err)
	}
}

// TestConvertEntries turns an old entries table (interleaved accounts, a range of
// sequences longer than one block run) into blocks and reads it back every way.
func TestConvertEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	accts := []ledger.Account{
		{ID: "acc_a", Kind: ledger.KindCustomer, Currency: "EUR", Status: ledger.StatusActive, CreatedAt: at, UpdatedAt: at},
		{ID: "acc_b", Kind: ledger.KindCustomer, Currency: "EUR", Status: ledger.StatusActive, CreatedAt: at, UpdatedAt: at},
	}
	if err := commitRecords(t, s, &ledger.Batch{Accounts: accts}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, movement_id TEXT, account_id TEXT, kind TEXT, amount INTEGER,
		balance_after INTEGER, reference TEXT, idempotency_key TEXT, created_at INTEGER, metadata TEXT DEFAULT '', related_id TEXT DEFAULT '',
		free_message INTEGER DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	legacy, err := s.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var want []ledger.Entry
	bal := map[string]ledger.Amount{}
	for i := int64(1); i <= 10000; i++ {
		acc := "acc_a"
		if i%3 == 0 {
			acc = "acc_b"
		}
		bal[acc] += ledger.Amount(i)
		// Ten consecutive entries share a time, as a batch's do; ids were named a
		// little after their batch's time, as before NewIDAt.
		created := at.Add(time.Duration(i/10) * time.Second)
		e := ledger.Entry{Seq: i * 2, MovementID: ledger.NewIDAt("mov", created.Add(time.Duration(i%7)*time.Millisecond)), AccountID: acc,
			Kind: ledger.EntryTopUp, Amount: ledger.Amount(i), BalanceAfter: bal[acc], CreatedAt: created}
		if i%1000 == 0 {
			e.Kind, e.Metadata = ledger.EntryAdjustment, map[string]string{"n": "x"}
		}
		want = append(want, e)
		if _, err := legacy.Exec(`INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?, '', 0)`, e.Seq, e.MovementID, acc, string(e.Kind),
			int64(e.Amount), int64(e.BalanceAfter), micros(e.CreatedAt), codec.Metadata(e.Metadata)); err != nil {
			t.Fatal(err)
		}
	}
	if err := legacy.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var all []ledger.Entry
	if err := s.EachEntry(ctx, func(e ledger.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, want); diff != "" {
		t.Fatalf("EachEntry after conversion differs (-got +want):\n%s", diff)
	}
	if last, err := s.LastSeq(ctx); err != nil || last != 20000 {
		t.Errorf("LastSeq = %d, %v; want 20000", last, err)
	}
	var wantB []ledger.Entry
	for _, e := range want {
		if e.AccountID == "acc_b" {
			wantB = append(wantB, e)
		}
	}
	gotB, err := s.Entries(ctx, "acc_b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gotB, wantB); diff != "" {
		t.Fatalf("Entries(acc_b) differs (-got +want):\n%s", diff)
	}
	var nBlocks int
	s.db.QueryRow(`SELECT count(*) FROM entry_blocks`).Scan(&nBlocks)
	// One block per account per second (the entries' shared time), split where a
	// run of 4,096 sequences ends: 1,000 seconds, two accounts, a few split.
	if nBlocks < 2000 || nBlocks > 2010 {
		t.Errorf("%d blocks, want about 2,000", nBlocks)
	}

	// Paging newest first across block boundaries, with a cursor and a kind.
	var paged []ledger.Entry
	before := int64(0)
	for {
		page, err := s.ListEntries(ctx, "acc_b", ledger.EntryFilter{BeforeSeq: before, Limit: 777})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].Seq
	}
	if len(paged) != len(wantB) || paged[0].Seq != wantB[len(wantB)-1].Seq || paged[len(paged)-1].Seq != wantB[0].Seq {
		t.Fatalf("paged %d entries (%d..%d), want %d", len(paged), paged[0].Seq, paged[len(paged)-1].Seq, len(wantB))
	}
	adj, err := s.ListEntries(ctx, "acc_a", ledger.EntryFilter{Kind: ledger.EntryAdjustment, Limit: 100})
	if err != nil || len(adj) != 7 { // i = 1000..10000 step 1000, minus 3000, 6000, 9000 (acc_b)
		t.Fatalf("adjustments of acc_a: %d, %v; want 7", len(adj), err)
	}
	from, to := at.Add(500*time.Second), at.Add(501*time.Second)
	window, err := s.ListEntries(ctx, "acc_a", ledger.EntryFilter{From: from, To: to, Limit: 100})
	if err != nil || len(window) != 7 { // i = 5000..5009 of second 500, not multiples of 3
		t.Fatalf("entries of acc_a in [500 s, 501 s): %d, %v; want 7", len(window), err)
	}
	e, err := s.LastEntryAt(ctx, "acc_b", at.Add(400*time.Second+time.Millisecond))
	if err != nil || e == nil || e.Seq != 8016 { // second 400 holds i = 4000..4009; acc_b's last is 4008
		t.Fatalf("LastEntryAt = %+v, %v; want i = 4008 (seq 8016)", e, err)
	}
	for _, x := range []ledger.Entry{wantB[0], wantB[500], wantB[len(wantB)-1]} {
		if kind, owner, err := s.MovementKind(ctx, "acc_b", x.MovementID); err != nil || kind != ledger.EntryTopUp || owner != "acc_b" {
			t.Errorf("MovementKind(%s) = %s, %s, %v", x.MovementID, kind, owner, err)
		}
		if _, _, err := s.MovementKind(ctx, "acc_a", x.MovementID); !errors.As(err, new(*ledger.NotFoundError)) {
			t.Errorf("acc_b's movement found on acc_a: %v", err)
		}
	}
	if _, _, err := s.MovementKind(ctx, "acc_b", "mov_nope"); !errors.As(err, new(*ledger.NotFoundError)) {
		t.Errorf("MovementKind of an unknown movement: %v", err)
	}
}
