package ledger

import (
	"errors"
	"time"
)

// Outcome is a request's first business answer, kept under its Idempotency-Key in
// the same commit as its effect: a success (what it made or changed) or a refusal
// by the ledger's rules. Every later request with that key and the same request is
// answered from it, on every node and after restarts and upgrades.
//
// It is a domain value, not a rendered response: the api packages render it at the
// edge, by the format version it was stored in (internal/codec), so a change to the
// JSON of new answers cannot change the replay of an old key. Answers that never
// reached the ledger, or that a retry may fix (validation, credentials, a reused
// key, overload, an unavailable store), are never outcomes: see Final.
type Outcome struct {
	Op      Op
	Refusal *Refusal // set when the ledger refused the request; then nothing else is

	Entry   *Entry   // top-ups, charges, refunds, adjustments, captures
	Hold    *Hold    // holds made, captured or voided
	Account *Account // accounts made or changed
	User    *User    // users added (never their password hash)
	APIKey  *APIKey  // API keys and OAuth2 clients made (never their hash)
	Batch   *BatchOutcome
}

// Op names what a request asked for; the edge picks the answer's shape and status
// by it.
type Op string

// Ops that keep outcomes.
const (
	OpTopUp             Op = "top_up"
	OpCharge            Op = "charge"
	OpRefund            Op = "refund"
	OpAdjust            Op = "adjustment"
	OpHold              Op = "hold"
	OpCapture           Op = "capture"
	OpVoid              Op = "void"
	OpBatch             Op = "batch"
	OpCreateAccount     Op = "create_account"
	OpUpdateAccount     Op = "update_account"
	OpAddUser           Op = "add_user"
	OpRemoveUser        Op = "remove_user"
	OpCreateAPIKey      Op = "create_api_key"
	OpRevokeAPIKey      Op = "revoke_api_key"
	OpUpdateAPIKey      Op = "update_api_key"
	OpCreateOAuthClient Op = "create_oauth_client"
	OpRevokeOAuthClient Op = "revoke_oauth_client"
	OpTransfer          Op = "transfer"
	OpUpdateSubAccount  Op = "update_sub_account"
)

// BatchOutcome is a /v1/batch answer: one outcome per operation, and whether the
// batch committed (an atomic batch with a failure did not).
type BatchOutcome struct {
	Committed bool
	Results   []Outcome
}

// RefusalCode names a refusal in a stored outcome. The codes are part of the
// stored format: never rename one.
type RefusalCode string

// Refusal codes: the rule errors, then the other shapes of refusal.
const (
	RefusedInsufficientFunds   RefusalCode = "insufficient_funds"
	RefusedMonthlyLimit        RefusalCode = "monthly_limit_exceeded"
	RefusedNoFreeMessages      RefusalCode = "no_free_messages"
	RefusedAccountNotActive    RefusalCode = "account_not_active"
	RefusedHoldExpired         RefusalCode = "hold_expired"
	RefusedHoldCaptured        RefusalCode = "hold_captured"
	RefusedHoldVoided          RefusalCode = "hold_voided"
	RefusedRefundExceedsCharge RefusalCode = "refund_exceeds_charge"
	RefusedNotACharge          RefusalCode = "not_a_charge"
	RefusedAmountOutOfRange    RefusalCode = "amount_out_of_range"
	RefusedNotFound            RefusalCode = "not_found"
	RefusedConflict            RefusalCode = "conflict"
	// The three below occur only inside a batch's results: a batch is answered as
	// a whole, so its operations' failures are part of its one final answer.
	RefusedInvalid      RefusalCode = "invalid"
	RefusedBatchAborted RefusalCode = "batch_aborted"
	RefusedError        RefusalCode = "error"
)

var ruleCodes = []struct {
	code RefusalCode
	err  error
}{
	{RefusedInsufficientFunds, ErrInsufficientFunds},
	{RefusedMonthlyLimit, ErrMonthlyLimitExceeded},
	{RefusedNoFreeMessages, ErrNoFreeMessages},
	{RefusedAccountNotActive, ErrAccountNotActive},
	{RefusedHoldExpired, ErrHoldExpired},
	{RefusedHoldCaptured, ErrHoldCaptured},
	{RefusedHoldVoided, ErrHoldVoided},
	{RefusedRefundExceedsCharge, ErrRefundExceedsCharge},
	{RefusedNotACharge, ErrNotACharge},
	{RefusedAmountOutOfRange, ErrAmountOutOfRange},
}

// Refusal is a refused request as the ledger said it: the code and its
// parameters. Err gives back the very error the ledger returned, so a replay is
// rendered by the same table as the first answer.
type Refusal struct {
	Code     RefusalCode
	What, ID string              // RefusedNotFound: what was not found, and its id
	Detail   string              // a rule's detail ("available 3.5, asked 4"), a conflict's reason
	Fields   map[string][]string // RefusedInvalid: the fields and what is wrong with each
}

// ErrBatchAborted marks the operations of an atomic batch undone by another's failure.
var ErrBatchAborted = errors.New("not applied: another operation of this atomic batch failed")

// Final returns the refusal that err is when err is a final business answer of the
// ledger (a rule, an unknown hold, charge or account, a conflict with the state),
// which an Idempotency-Key keeps; ok is false for every other error (validation,
// a reused key, an unavailable store, a closed engine), which a retry may fix.
func Final(err error) (r Refusal, ok bool) {
	var rule *RuleError
	var nf *NotFoundError
	var c *ConflictError
	switch {
	case errors.As(err, &rule):
		for _, rc := range ruleCodes {
			if rule.Err == rc.err {
				return Refusal{Code: rc.code, Detail: rule.Detail}, true
			}
		}
		return Refusal{}, false
	case errors.As(err, &nf):
		return Refusal{Code: RefusedNotFound, What: nf.What, ID: nf.ID}, true
	case errors.As(err, &c):
		return Refusal{Code: RefusedConflict, Detail: c.Reason}, true
	}
	return Refusal{}, false
}

// RefusalOf is Final for an operation inside a batch, where every failure is part
// of the batch's answer: validation, an abort, and anything else too.
func RefusalOf(err error) Refusal {
	if r, ok := Final(err); ok {
		return r
	}
	var v *ValidationError
	switch {
	case errors.As(err, &v):
		return Refusal{Code: RefusedInvalid, Fields: v.Fields}
	case errors.Is(err, ErrBatchAborted):
		return Refusal{Code: RefusedBatchAborted}
	}
	return Refusal{Code: RefusedError}
}

// errRefused stands for a refusal whose code this version does not know (a record
// from a newer purse): it renders as a general error rather than a guess.
var errRefused = errors.New("refused")

// Err is the error the refusal was made from.
func (r Refusal) Err() error {
	for _, rc := range ruleCodes {
		if r.Code == rc.code {
			return &RuleError{Err: rc.err, Detail: r.Detail}
		}
	}
	switch r.Code {
	case RefusedNotFound:
		return &NotFoundError{What: r.What, ID: r.ID}
	case RefusedConflict:
		return &ConflictError{Reason: r.Detail}
	case RefusedInvalid:
		return &ValidationError{Fields: r.Fields}
	case RefusedBatchAborted:
		return ErrBatchAborted
	}
	return errRefused
}

// IdempotencyRecord is a stored Idempotency-Key: the request's fingerprint and its
// outcome, written in the same commit as the effect so a retry can never apply it
// twice.
//
// Body holds the outcome in internal/codec's encoding, with Status 0. A record
// written before outcomes existed has the HTTP status it answered with in Status
// and the response (or the admin API's compact batch form) in Body; it is
// replayed as it is.
type IdempotencyRecord struct {
	Key         string // scoped by the caller (for example "admin:<key>")
	RequestHash string // hex SHA-256 of method, path and body
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyRequest makes one mutating request exactly-once. Key is unique per
// caller; RequestHash fingerprints the request so the same key with another request
// is refused.
type IdempotencyRequest struct {
	Key         string
	RequestHash string
}
