// Package seed applies a declarative seed file (purse serve --seed) to a store:
// accounts with ids of the file's choosing, their limits, free messages and
// balance, Basic users and API keys with fixed secrets. Applying it is
// idempotent: a second application (a restart with the same file) changes
// nothing, so the file can live in git beside the tests or the configuration
// that need it.
//
// The file is JSON: YAML would need a dependency, and a seed is short enough to
// write as JSON by hand. A sub-account names its parent, which comes earlier in
// the file; webhooks come with their signing secrets. OAuth2 clients have no
// place in it (purse makes their secrets).
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
)

// File is a seed file.
type File struct {
	// Accounts are created in this order.
	Accounts []Account `json:"accounts"`
	// Webhooks are subscriptions with fixed signing secrets (webhooks.go).
	Webhooks []Webhook `json:"webhooks,omitempty"`
}

// Account is one account of a seed and what it holds.
type Account struct {
	// ID is the account's id, chosen in the file so tests can name it: "acc_" and
	// then letters, digits, '_' or '-'.
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	// Parent, when set, makes a sub-account of that account (given earlier in the
	// file), paid as Funding says: "own" (the default) or "shared"
	// (docs/subaccounts.md). Neither changes once the account exists.
	Parent  string `json:"parent,omitempty"`
	Funding string `json:"funding,omitempty"`
	// Balance is the money the seed puts in, as a decimal string: the first
	// application tops the account up by it; a later one with a higher Balance
	// tops up the difference; a lower one changes nothing (purse never takes
	// money back without a movement someone asked for). Movements made since do
	// not count: a restart does not refill a spent balance.
	Balance string `json:"balance,omitempty"`
	// AllowedMinus, MonthlyLimit and the rest are the account's settings, put in
	// force at every application (the file is the configuration).
	AllowedMinus string  `json:"allowedMinus,omitempty"`
	MonthlyLimit *string `json:"monthlyLimit,omitempty"`
	// FreeMessages are granted when the seed creates the account; later
	// applications leave the count alone (messages used stay used).
	FreeMessages int64 `json:"freeMessages,omitempty"`
	// Status, when set, is "active" or "suspended".
	Status string `json:"status,omitempty"`

	Users   []User   `json:"users,omitempty"`
	APIKeys []APIKey `json:"apiKeys,omitempty"`
}

// User is a Basic (and IBSSO) login with a fixed password.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// APIKey is an App key with a fixed secret: Authorization: App <Key>. Its
// restrictions are the ones customers set over /settings/2/api-keys
// (docs/api.md), so an emulator user can seed a key that is refused: used from
// another address, outside its window, or while disabled, it gets a wrong key's
// 401. Like FreeMessages they are set when the seed makes the key; later
// applications leave the key as it is (its customer may have changed it over
// the API, and a restart must not undo that).
type APIKey struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Key    string   `json:"key"`
	Scopes []string `json:"scopes,omitempty"` // default account-management:manage
	// AllowedIPs are addresses and CIDR ranges, IPv4 or IPv6; none: any address.
	AllowedIPs []string `json:"allowedIPs,omitempty"`
	// ValidFrom and ValidTo bound the key's validity, RFC 3339; none: no bound.
	ValidFrom string `json:"validFrom,omitempty"`
	ValidTo   string `json:"validTo,omitempty"`
	// Enabled false makes the key disabled; left out, it is enabled.
	Enabled *bool `json:"enabled,omitempty"`
}

// rules returns the key's restrictions as the store keeps them.
func (k APIKey) rules() (allowed []string, from, to *time.Time, err error) {
	if allowed, err = auth.CanonicalPrefixes(k.AllowedIPs); err != nil {
		return nil, nil, nil, fmt.Errorf("allowedIPs: %w", err)
	}
	for _, b := range []struct {
		name, v string
		at      **time.Time
	}{{"validFrom", k.ValidFrom, &from}, {"validTo", k.ValidTo, &to}} {
		if b.v == "" {
			continue
		}
		t, perr := time.Parse(time.RFC3339Nano, b.v)
		if perr != nil {
			return nil, nil, nil, fmt.Errorf("%s %q: want RFC 3339, such as 2026-01-01T00:00:00Z", b.name, b.v)
		}
		t = t.UTC().Truncate(time.Microsecond)
		*b.at = &t
	}
	if from != nil && to != nil && !to.After(*from) {
		return nil, nil, nil, errors.New("validTo must be after validFrom")
	}
	return allowed, from, to, nil
}

// ErrFixedSecrets is Check's refusal of a seed with passwords, API keys or webhook secrets in a
// store that is not a demo or an emulator.
var ErrFixedSecrets = errors.New("the seed holds fixed secrets (passwords, API keys or webhook signing secrets written in the file); " +
	"they are allowed only with --demo or --emulator, so that no store with real money holds a secret that sits in a file")

// Load reads and checks a seed file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", path, err)
	}
	return f, nil
}

// Parse reads and checks a seed: one JSON object, known fields only.
func Parse(b []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a seed file: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a seed file: more after the JSON object")
	}
	if err := f.check(); err != nil {
		return &f, err
	}
	return &f, f.checkWebhooks()
}

// HasSecrets reports whether the seed holds a password, an API key or a
// webhook's signing secret.
func (f *File) HasSecrets() bool {
	if len(f.Webhooks) > 0 {
		return true
	}
	for _, a := range f.Accounts {
		if len(a.Users) > 0 || len(a.APIKeys) > 0 {
			return true
		}
	}
	return false
}

// Check refuses fixed secrets unless allowed (--demo or --emulator).
func (f *File) Check(secretsAllowed bool) error {
	if f.HasSecrets() && !secretsAllowed {
		return ErrFixedSecrets
	}
	return nil
}

// check validates what can be checked without a store.
func (f *File) check() error {
	ids, users, keys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	parents := map[string]Account{}
	for i, a := range f.Accounts {
		at := fmt.Sprintf("accounts[%d]", i)
		if err := checkAccount(a); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if ids[a.ID] {
			return fmt.Errorf("%s: id %s is given twice", at, a.ID)
		}
		if err := checkParent(a, parents); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		ids[a.ID] = true
		parents[a.ID] = a
		for j, u := range a.Users {
			if err := auth.ValidateUsername(u.Username); err != nil {
				return fmt.Errorf("%s.users[%d].username: %w", at, j, err)
			}
			if err := auth.ValidatePassword(u.Password); err != nil {
				return fmt.Errorf("%s.users[%d].password: %w", at, j, err)
			}
			if users[u.Username] {
				return fmt.Errorf("%s.users[%d]: username %s is given twice", at, j, u.Username)
			}
			users[u.Username] = true
		}
		for j, k := range a.APIKeys {
			if err := checkKey(k); err != nil {
				return fmt.Errorf("%s.apiKeys[%d]: %w", at, j, err)
			}
			if keys[k.ID] || keys["\x00"+k.Key] {
				return fmt.Errorf("%s.apiKeys[%d]: id or key given twice", at, j)
			}
			keys[k.ID], keys["\x00"+k.Key] = true, true
		}
	}
	return nil
}

func checkAccount(a Account) error {
	if !validID(a.ID, "acc_") {
		return fmt.Errorf(`id %q: want "acc_" then up to 60 letters, digits, '_' or '-'`, a.ID)
	}
	if a.Name == "" {
		return errors.New("name is required")
	}
	if _, ok := ledger.LookupCurrency(a.Currency); !ok {
		return fmt.Errorf("currency %q is not an active ISO 4217 code (upper case, such as EUR)", a.Currency)
	}
	for field, v := range map[string]string{"balance": a.Balance, "allowedMinus": a.AllowedMinus} {
		if v == "" {
			continue
		}
		amt, err := ledger.ParseAmount(v)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if amt < 0 {
			return fmt.Errorf("%s must not be negative", field)
		}
	}
	if a.MonthlyLimit != nil {
		if _, err := ledger.ParseAmount(*a.MonthlyLimit); err != nil {
			return fmt.Errorf("monthlyLimit: %w", err)
		}
	}
	if a.FreeMessages < 0 {
		return errors.New("freeMessages must not be negative")
	}
	if a.Status != "" && a.Status != string(ledger.StatusActive) && a.Status != string(ledger.StatusSuspended) {
		return errors.New(`status must be "active" or "suspended"`)
	}
	return nil
}

// checkParent checks a sub-account against the accounts before it: its parent
// is one of them, a main account in the same currency, and a shared sub-account
// holds no money or limits of its own (it spends its parent's).
func checkParent(a Account, before map[string]Account) error {
	if a.Parent == "" {
		if a.Funding != "" {
			return errors.New("funding is for sub-accounts: give parent too")
		}
		return nil
	}
	p, ok := before[a.Parent]
	switch {
	case !ok:
		return fmt.Errorf("parent %q is not an account given earlier in the file", a.Parent)
	case p.Parent != "":
		return fmt.Errorf("parent %q is itself a sub-account (one level only)", a.Parent)
	case p.Currency != a.Currency:
		return fmt.Errorf("currency %s differs from the parent's %s", a.Currency, p.Currency)
	case a.Funding != "" && !ledger.FundingMode(a.Funding).Valid():
		return fmt.Errorf(`funding %q: want "own" or "shared"`, a.Funding)
	case a.Funding == string(ledger.FundingShared) && (a.Balance != "" || a.AllowedMinus != "" || a.MonthlyLimit != nil || a.FreeMessages != 0):
		return errors.New("a shared sub-account spends its parent's money: give it no balance, allowedMinus, monthlyLimit or freeMessages")
	}
	return nil
}

func checkKey(k APIKey) error {
	if !validID(k.ID, "key_") {
		return fmt.Errorf(`id %q: want "key_" then up to 60 letters, digits, '_' or '-'`, k.ID)
	}
	if k.Name == "" || len(k.Name) > 200 {
		return errors.New("name is required (at most 200 bytes)")
	}
	if len(k.Key) < 16 || len(k.Key) > 200 {
		return errors.New("key must be 16 to 200 characters")
	}
	for _, r := range k.Key {
		if r < 0x21 || r > 0x7e {
			return errors.New("key must be printable ASCII without spaces")
		}
	}
	for _, s := range k.Scopes {
		if !auth.ValidScope(s) {
			return fmt.Errorf("unknown scope %q (known: %s)", s, strings.Join(auth.KnownScopes, ", "))
		}
	}
	_, _, _, err := k.rules()
	return err
}

func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(rest) > 60 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
