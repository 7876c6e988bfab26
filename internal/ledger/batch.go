package ledger

import "time"

// Batch is everything one engine cycle commits, in one transaction: the accounts it
// created or changed (their new state), the entries it appended, and the idempotency
// records of the requests it served. A store writes all of it or none of it.
type Batch struct {
	Accounts    []Account
	Entries     []Entry
	Holds       []Hold   // new or changed holds (their new state)
	Charges     []Charge // new charges, or ones whose Refunded grew
	Idempotency []IdempotencyRecord
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
