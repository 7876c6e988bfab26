package ledger

import (
	"context"
	"time"
)

// Batch is everything one engine cycle commits, in one transaction: the accounts it
// created or changed (their new state), the entries it appended, and the idempotency
// records of the requests it served. A store writes all of it or none of it.
type Batch struct {
	Accounts    []Account
	Created     map[string]bool // ids in Accounts that this batch creates
	Entries     []Entry
	Holds       []Hold   // new or changed holds (their new state)
	Charges     []Charge // charges whose Refunded grew (a new charge is its entry)
	Idempotency []IdempotencyRecord
	// Events are what the batch tells the world (the outbox), written in the same
	// transaction as the effects they describe; the store gives them their
	// sequence numbers, in this order.
	Events []Event
}

// Empty reports whether the batch has nothing to write.
func (b *Batch) Empty() bool {
	return len(b.Accounts) == 0 && len(b.Entries) == 0 && len(b.Holds) == 0 && len(b.Charges) == 0 && len(b.Idempotency) == 0
}

// EntryFilter selects a page of an account's entries, newest first.
type EntryFilter struct {
	BeforeSeq int64     // only entries older than this sequence (the cursor); 0: from the newest
	From, To  time.Time // created at >= From and < To; zero: unbounded
	Kind      EntryKind // "" for every kind
	Limit     int
}

// ChargeRef names a charge and the account a request says it belongs to.
type ChargeRef struct{ ID, AccountID string }

// BatchTx is one engine batch's store transaction. The Lock methods return
// committed rows; a shared store keeps them locked until Commit or Rollback. Ids
// come sorted, so every node takes its locks in the same order.
type BatchTx interface {
	LockAccounts(ctx context.Context, ids []string) ([]Account, error)
	HoldAccounts(ctx context.Context, holdIDs []string) (map[string]string, error)
	LockHolds(ctx context.Context, ids []string) ([]Hold, error)
	// LockCharges returns the charges named (sorted by id), each with the account
	// the request says it belongs to; one of another account is not returned.
	LockCharges(ctx context.Context, refs []ChargeRef) ([]Charge, error)
	Idempotency(ctx context.Context, keys []string) ([]IdempotencyRecord, error)
	// Prefetch takes a batch's first reads in one round trip: it locks accounts,
	// then platform, as two LockAccounts calls would, reads the idempotency records
	// of keys, and reserves about seqs sequence numbers that later ReserveSeqs
	// calls hand out first (the ones left unused are skipped). A shared store over
	// a network saves a round trip per call with it.
	Prefetch(ctx context.Context, accounts, platform, keys []string, seqs int) (locked, lockedPlatform []Account, recs []IdempotencyRecord, err error)
	// ReserveSeqs returns n new entry sequence numbers, ascending, each above every
	// sequence already committed for the accounts this transaction locked.
	ReserveSeqs(ctx context.Context, n int) ([]int64, error)
	Commit(ctx context.Context, b *Batch) error
	Rollback(ctx context.Context)
}
