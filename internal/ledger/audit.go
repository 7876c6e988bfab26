package ledger

import "time"

// AuditRecord is one operator action on the admin API: who (which admin token, by
// a short fingerprint), what (method and route), on what (the path), from where,
// when, and the result (the HTTP status). Records are only ever appended.
type AuditRecord struct {
	Seq    int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Remote string
	Status int
}

// AuditFilter pages the audit log, newest first.
type AuditFilter struct {
	BeforeSeq int64
	Limit     int
	Actor     string // only this actor's records; "" for all
	Action    string // only records whose action starts with this; "" for all
}
