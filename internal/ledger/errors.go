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
)

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
