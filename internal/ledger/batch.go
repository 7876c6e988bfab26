package ledger

// Batch is everything one engine cycle commits, in one transaction: the accounts it
// created or changed (their new state), the entries it appended, and the idempotency
// records of the requests it served. A store writes all of it or none of it.
type Batch struct {
	Accounts    []Account
	Entries     []Entry
	Idempotency []IdempotencyRecord
}

// Empty reports whether the batch has nothing to write.
func (b *Batch) Empty() bool {
	return len(b.Accounts) == 0 && len(b.Entries) == 0 && len(b.Idempotency) == 0
}
