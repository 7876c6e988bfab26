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

// CustomerAuditRecord is one thing done on a customer's account that the
// customer may read back through Infobip's /audit/1/logs: a login, a logout, an
// API key created or changed, a sub-account created or changed, a transfer. It is a sibling of AuditRecord rather than an extension of it: the
// operator's log is keyed by admin token and route and must never be shown to a
// customer, while these records are keyed by account and carry Infobip's
// vocabulary (Action, Item), so one table per audience keeps "whose records may
// this caller read" a plain WHERE on account.
//
// Action and Item take values of the spec's Action and Item enums ("Login",
// "Create", "Update", "ApiKey", "User", "Account"...).
type CustomerAuditRecord struct {
	ID            string // "aud_..." unique; the spec's id
	At            time.Time
	AccountID     string // the account acted on
	MainAccountID string // its parent, or AccountID itself for a main account: who else may read it
	Action        string
	Item          string
	Description   string
	Username      string // the user, key id or OAuth2 client that acted
	IPAddress     string
}

// CustomerAuditFilter selects a customer's audit records, oldest first. Account
// is required: records of that account and of the accounts whose MainAccountID
// it is. Empty strings and nil times do not filter; Description matches a
// substring, the rest exactly.
type CustomerAuditFilter struct {
	Account     string
	Action      string
	Item        string
	IPAddress   string
	Username    string
	Description string
	From, To    *time.Time // From inclusive, To exclusive
	Limit       int        // at most this many (the caller checks the range)
}
