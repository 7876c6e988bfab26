package ledger

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors of the domain. The api packages map each to one status.
var (
	ErrNotFound             = errors.New("not found")
	ErrConflict             = errors.New("conflict")
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	ErrUnavailable          = errors.New("store unavailable")
	// ErrDuplicateIdempotencyKey is a store's answer when another request committed
	// the same Idempotency-Key first; the caller replays that request's record.
	ErrDuplicateIdempotencyKey = errors.New("idempotency key already committed")
	// ErrOverloaded is the engine's answer to a request it sheds: the writer's
	// queue has stood above its delay target, and this request would wait longer
	// than the target. The request never reached the ledger; a retry with the same
	// Idempotency-Key may succeed later. The api packages answer 503 with
	// Retry-After.
	ErrOverloaded = errors.New("overloaded: the writer's queue is past its delay target")
	// ErrRetry is a shared store's answer when a batch lost a race with another
	// node (a unique violation, a deadlock); the engine runs the batch again.
	ErrRetry = errors.New("batch conflicted with another writer; retry")
)

// Rule errors: a money request that the ledger's rules refuse. Each changes
// nothing; the admin API answers 402 for the first three and 409 for the rest.
// Each is a final business answer (see Final): it depends on the ledger's state,
// and a client told "refused" must not be charged by a later retry.
var (
	ErrInsufficientFunds    = errors.New("insufficient funds")
	ErrMonthlyLimitExceeded = errors.New("monthly limit exceeded")
	ErrNoFreeMessages       = errors.New("no free messages left")
	ErrAccountNotActive     = errors.New("account is not active")
	ErrHoldExpired          = errors.New("hold has expired")
	ErrHoldCaptured         = errors.New("hold is already captured")
	ErrHoldVoided           = errors.New("hold is voided")
	ErrRefundExceedsCharge  = errors.New("refund exceeds what is left of the charge")
	ErrNotACharge           = errors.New("movement is not a charge")
	// ErrAmountOutOfRange refuses a movement that would take a balance (the
	// customer's, or its currency's platform funding or revenue account) or a
	// month's spending out of the range of an Amount. The admin API answers 409.
	ErrAmountOutOfRange = errors.New("amount out of range")
)

// RuleError is a rule refusal with the detail a caller needs ("available 3.5, asked
// 4"). errors.Is matches its Err.
type RuleError struct {
	Err    error
	Detail string
}

func (e *RuleError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap exposes the sentinel.
func (e *RuleError) Unwrap() error { return e.Err }

// Refuse returns a RuleError with a formatted detail.
func Refuse(err error, format string, a ...any) error {
	return &RuleError{Err: err, Detail: fmt.Sprintf(format, a...)}
}

// NotFoundError says which thing was not found; it matches ErrNotFound.
type NotFoundError struct {
	What string // "account", "user", "api key", ...
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.What, e.ID) }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError explains a request that contradicts the current state; it matches
// ErrConflict.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ValidationError lists what is wrong with a request, field by field.
type ValidationError struct {
	Fields map[string][]string
}

// Add records a problem with one field.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Err returns e when it holds a problem and nil otherwise.
func (e *ValidationError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(e.Fields[k], "; "))
	}
	return "invalid request: " + strings.Join(parts, ", ")
}

// Invalid returns a ValidationError for one field.
func Invalid(field, msg string) error {
	v := &ValidationError{}
	v.Add(field, msg)
	return v
}
