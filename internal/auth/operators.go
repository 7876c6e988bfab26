package auth

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Operators are the people who run purse (the console's users, and the holders
// of personal admin API tokens), each with a role. Passwords are argon2id like
// customer users'; a personal token is 256 random bits kept as its SHA-256, like
// an API key. Failed logins are limited per name and per client address with the
// same buckets as the public API's (Limits).
type Operators struct {
	store     ledger.Operators
	cost      argonCost
	dummyHash string
	byUser    *failures
	byIP      *failures
	now       func() time.Time
	argon     chan struct{}
}

// NewOperators returns the operators of store. opts are read as for New: Limits,
// Now and CheapPasswordHashes.
func NewOperators(store ledger.Operators, opts ...Options) (*Operators, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Limits == nil {
		l := DefaultLimits
		o.Limits = &l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cost := defaultCost
	if o.CheapPasswordHashes {
		cost = cheapCost
	}
	dummy, err := hashPassword("purse-dummy-operator-password", cost)
	if err != nil {
		return nil, err
	}
	return &Operators{store: store, cost: cost, dummyHash: dummy, now: o.Now, argon: make(chan struct{}, runtime.GOMAXPROCS(0)),
		byUser: newFailures(o.Limits.PerUser, o.Limits.UserBurst, o.Now), byIP: newFailures(o.Limits.PerIP, o.Limits.IPBurst, o.Now)}, nil
}

// OperatorActor is how the audit log names an operator, for the console and the
// admin API alike.
func OperatorActor(name string) string { return "operator:" + name }

func checkNew(name string, role ledger.Role, password string) error {
	v := &ledger.ValidationError{}
	if err := ValidateUsername(name); err != nil {
		v.Add("name", err.Error())
	}
	if !role.Valid() {
		v.Add("role", "must be viewer, operator or admin")
	}
	if err := ValidatePassword(password); err != nil {
		v.Add("password", err.Error())
	}
	return v.Err()
}

// Add makes an operator.
func (o *Operators) Add(ctx context.Context, name string, role ledger.Role, password string) (ledger.Operator, error) {
	if err := checkNew(name, role, password); err != nil {
		return ledger.Operator{}, err
	}
	hash, err := hashPassword(password, o.cost)
	if err != nil {
		return ledger.Operator{}, err
	}
	op := ledger.Operator{Name: name, Role: role, PasswordHash: hash, CreatedAt: o.now().UTC().Truncate(time.Microsecond)}
	return op, o.store.InsertOperator(ctx, op)
}

// List lists the operators.
func (o *Operators) List(ctx context.Context) ([]ledger.Operator, error) {
	return o.store.ListOperators(ctx)
}

// Get returns one operator.
func (o *Operators) Get(ctx context.Context, name string) (ledger.Operator, error) {
	return o.store.Operator(ctx, name)
}

// Remove deletes an operator: their sessions end at their next request (the
// console reads the operator on every request) and their token stops working.
func (o *Operators) Remove(ctx context.Context, name string) error {
	return o.store.DeleteOperator(ctx, name)
}

// SetPassword replaces an operator's password.
func (o *Operators) SetPassword(ctx context.Context, name, password string) error {
	if err := ValidatePassword(password); err != nil {
		return ledger.Invalid("password", err.Error())
	}
	op, err := o.store.Operator(ctx, name)
	if err != nil {
		return err
	}
	if op.PasswordHash, err = hashPassword(password, o.cost); err != nil {
		return err
	}
	return o.store.UpdateOperator(ctx, op)
}

// IssueToken gives an operator a new personal admin API token (replacing any
// previous one) and returns it: the only time it exists in clear.
func (o *Operators) IssueToken(ctx context.Context, name string) (string, error) {
	op, err := o.store.Operator(ctx, name)
	if err != nil {
		return "", err
	}
	clear, hash, err := NewAPIKey()
	if err != nil {
		return "", err
	}
	op.TokenHash = hash
	return "op_" + clear, o.store.UpdateOperator(ctx, op)
}

// ByToken returns the holder of a personal admin token; ok is false for a token
// nobody holds.
func (o *Operators) ByToken(ctx context.Context, token string) (op ledger.Operator, ok bool, err error) {
	if len(token) < 4 || token[:3] != "op_" || len(token) > MaxHeaderLen {
		return op, false, nil
	}
	op, err = o.store.OperatorByToken(ctx, HashAPIKey(token[3:]))
	if errors.Is(err, ledger.ErrNotFound) {
		return op, false, nil
	}
	return op, err == nil, err
}

// Login checks an operator's password from a client address, spending the
// name's and the address's allowance of failures: ErrUnauthorized for a wrong
// name or password (the same time either way), a TooManyAttemptsError when
// either allowance is spent.
func (o *Operators) Login(ctx context.Context, name, password, client string) (ledger.Operator, error) {
	if d := max(o.byIP.wait(client), o.byUser.wait(name)); d > 0 {
		return ledger.Operator{}, &TooManyAttemptsError{RetryAfter: d}
	}
	op, err := o.store.Operator(ctx, name)
	hash := op.PasswordHash
	if errors.Is(err, ledger.ErrNotFound) {
		hash = o.dummyHash
	} else if err != nil {
		return ledger.Operator{}, err
	}
	select {
	case o.argon <- struct{}{}:
	case <-ctx.Done():
		return ledger.Operator{}, ctx.Err()
	}
	good, verr := VerifyPassword(hash, password)
	<-o.argon
	if err != nil || verr != nil || !good {
		o.byIP.fail(client)
		o.byUser.fail(name)
		return ledger.Operator{}, ErrUnauthorized
	}
	return op, nil
}

type operatorKey struct{}

// WithOperator marks a request's context as acting for an operator the console
// has authenticated: the admin API then serves it with that operator's role and
// name, with no token. Only code in this process can set it.
func WithOperator(ctx context.Context, op ledger.Operator) context.Context {
	return context.WithValue(ctx, operatorKey{}, op)
}

// OperatorFrom returns the operator WithOperator put in ctx.
func OperatorFrom(ctx context.Context) (ledger.Operator, bool) {
	op, ok := ctx.Value(operatorKey{}).(ledger.Operator)
	return op, ok
}
