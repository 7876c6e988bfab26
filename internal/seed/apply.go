package seed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Store is what applying a seed reads and writes beside the engine.
type Store interface {
	ledger.History
	ledger.Credentials
	ledger.Webhooks
	LastEventSeq(ctx context.Context) (int64, error)
}

// Applied counts what one application created or changed; the zero value means
// the store already held the seed.
type Applied struct {
	Accounts, Updates, TopUps, Users, APIKeys, Webhooks int
}

// Apply makes the store hold f. Everything is written through the engine and
// the authenticator (or, for keys with fixed secrets, the store), so another
// node's caches learn of it as of any other change; top-ups carry deterministic
// Idempotency-Keys ("seed:ACCOUNT:BALANCE"), so two nodes starting at once top up
// once.
func Apply(ctx context.Context, f *File, eng *engine.Engine, authn *auth.Authenticator, store Store, log *slog.Logger) (Applied, error) {
	var n Applied
	for _, a := range f.Accounts {
		if err := applyAccount(ctx, a, eng, authn, store, &n); err != nil {
			return n, fmt.Errorf("seed account %s: %w", a.ID, err)
		}
	}
	for _, w := range f.Webhooks {
		if err := ensureWebhook(ctx, w, store, eng.Now().UTC(), &n); err != nil {
			return n, fmt.Errorf("seed webhook %s: %w", w.ID, err)
		}
	}
	if n != (Applied{}) {
		log.Info("seed applied", "accounts", n.Accounts, "updates", n.Updates, "topUps", n.TopUps, "users", n.Users, "apiKeys", n.APIKeys,
			"webhooks", n.Webhooks)
	} else {
		log.Info("seed already in the store; nothing changed", "accounts", len(f.Accounts))
	}
	return n, nil
}

func applyAccount(ctx context.Context, a Account, eng *engine.Engine, authn *auth.Authenticator, store Store, n *Applied) error {
	acc, created, err := ensureAccount(ctx, a, eng)
	if err != nil {
		return err
	}
	if created {
		n.Accounts++
	}
	if upd, ok := settings(a, acc, created); ok {
		if _, err := eng.Do(ctx, upd, nil); err != nil {
			return err
		}
		n.Updates++
	}
	if err := topUp(ctx, a, eng, store, n); err != nil {
		return err
	}
	for _, u := range a.Users {
		if err := ensureUser(ctx, a.ID, u, authn, n); err != nil {
			return err
		}
	}
	for _, k := range a.APIKeys {
		if err := ensureKey(ctx, a.ID, k, authn, store, n); err != nil {
			return err
		}
	}
	return nil
}

// ensureAccount finds the account or creates it.
func ensureAccount(ctx context.Context, a Account, eng *engine.Engine) (ledger.Account, bool, error) {
	created := false
	if _, ok := eng.Account(a.ID); !ok {
		_, err := eng.Do(ctx, engine.CreateAccount{ID: a.ID, Name: a.Name, Currency: a.Currency, Parent: a.Parent, Funding: a.funding()}, nil)
		var c *ledger.ConflictError
		if err != nil && !errors.As(err, &c) { // a conflict: another node made it first
			return ledger.Account{}, false, err
		}
		created = err == nil
	}
	acc, ok := eng.Account(a.ID)
	switch {
	case !ok:
		return acc, false, errors.New("not found after creating it")
	case acc.Kind != ledger.KindCustomer:
		return acc, false, errors.New("the id is a platform account's")
	case acc.Currency != a.Currency:
		return acc, false, fmt.Errorf("the store's account is in %s, the seed's in %s; a currency never changes: use another id", acc.Currency, a.Currency)
	case acc.Status == ledger.StatusClosed:
		return acc, false, errors.New("the account is closed in this store; a closed account never opens again: use another id or a new store")
	case acc.ParentID != a.Parent || acc.Funding != a.funding():
		return acc, false, fmt.Errorf("the store's account has parent %q and funding %q, the seed's %q and %q; neither ever changes: use another id",
			acc.ParentID, acc.Funding, a.Parent, a.funding())
	}
	return acc, created, nil
}

// funding is the account's funding mode: "" for a main account, own by default
// for a sub-account.
func (a Account) funding() ledger.FundingMode {
	switch {
	case a.Parent == "":
		return ""
	case a.Funding == "":
		return ledger.FundingOwn
	}
	return ledger.FundingMode(a.Funding)
}

// settings is the update that puts the seed's settings in force, if one is needed.
func settings(a Account, acc ledger.Account, created bool) (engine.UpdateAccount, bool) {
	upd := engine.UpdateAccount{ID: a.ID}
	changed := false
	if a.Name != acc.Name {
		upd.Name, changed = &a.Name, true
	}
	if a.AllowedMinus != "" {
		if m := ledger.MustParseAmount(a.AllowedMinus); m != acc.AllowedMinus {
			upd.AllowedMinus, changed = &m, true
		}
	}
	if a.MonthlyLimit != nil {
		if l := ledger.MustParseAmount(*a.MonthlyLimit); !acc.HasMonthlyLimit || l != acc.MonthlyLimit {
			upd.MonthlyLimit, changed = &l, true
		}
	}
	if a.FreeMessages > 0 && created {
		upd.FreeMessages, changed = &a.FreeMessages, true
	}
	if a.Status != "" && ledger.AccountStatus(a.Status) != acc.Status {
		st := ledger.AccountStatus(a.Status)
		upd.Status, changed = &st, true
	}
	return upd, changed
}

// topUp tops the account up until the seed's top-ups add up to Balance.
func topUp(ctx context.Context, a Account, eng *engine.Engine, store Store, n *Applied) error {
	if a.Balance == "" {
		return nil
	}
	want := ledger.MustParseAmount(a.Balance)
	have, err := seeded(ctx, store, a.ID)
	if err != nil {
		return err
	}
	if want <= have {
		return nil
	}
	diff, err := want.Sub(have)
	if err != nil {
		return err
	}
	key := "seed:" + a.ID + ":" + want.String()
	if _, err := eng.Do(ctx, engine.TopUp{AccountID: a.ID, Amount: diff, Reference: "seed", IdempotencyKey: key},
		&engine.Idempotency{Key: "internal:" + key, RequestHash: key + "+" + diff.String()}); err != nil {
		return err
	}
	n.TopUps++
	return nil
}

// seeded is the sum of the account's top-ups made by seeds: those whose
// Idempotency-Key starts "seed:ACCOUNT:". It reads the entries, not the
// idempotency records, which the embedded store forgets after a day.
func seeded(ctx context.Context, store Store, id string) (ledger.Amount, error) {
	var sum ledger.Amount
	f := ledger.EntryFilter{Kind: ledger.EntryTopUp, Limit: 500}
	prefix := "seed:" + id + ":"
	for {
		page, err := store.ListEntries(ctx, id, f)
		if err != nil {
			return 0, err
		}
		for _, e := range page {
			if strings.HasPrefix(e.IdempotencyKey, prefix) {
				if sum, err = sum.Add(e.Amount); err != nil {
					return 0, err
				}
			}
		}
		if len(page) < f.Limit {
			return sum, nil
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
}

// ensureUser adds a Basic user the account lacks. A user already there keeps
// its password: a changed password in the file does not reach a running store
// (remove the user, or use a new store).
func ensureUser(ctx context.Context, accountID string, u User, authn *auth.Authenticator, n *Applied) error {
	users, err := authn.Users(ctx, accountID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(users, func(x ledger.User) bool { return x.Username == u.Username }) {
		return nil
	}
	if _, err := authn.AddUser(ctx, accountID, u.Username, u.Password, nil); err != nil {
		var c *ledger.ConflictError
		if errors.As(err, &c) {
			return fmt.Errorf("username %s belongs to another account", u.Username)
		}
		return err
	}
	n.Users++
	return nil
}

// ensureKey adds an API key with the file's secret, unless the store holds it.
func ensureKey(ctx context.Context, accountID string, k APIKey, authn *auth.Authenticator, store Store, n *Applied) error {
	hash := auth.HashAPIKey(k.Key)
	have, err := store.APIKeyByHash(ctx, hash)
	switch {
	case err == nil && (have.AccountID != accountID || have.ID != k.ID):
		return fmt.Errorf("api key %s: its secret is already key %s of account %s", k.ID, have.ID, have.AccountID)
	case err == nil:
		return nil // revoked or not, it is the seed's key; a revoked key stays revoked
	case !errors.Is(err, ledger.ErrNotFound):
		return err
	}
	keys, err := store.APIKeysOf(ctx, accountID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(keys, func(x ledger.APIKey) bool { return x.ID == k.ID }) {
		return fmt.Errorf("api key %s exists with another secret; revoke it and give the new one another id", k.ID)
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{auth.ScopeAccountManage}
	}
	allowed, from, to, err := k.rules() // checked by Parse; a File built in code is checked here
	if err != nil {
		return fmt.Errorf("api key %s: %w", k.ID, err)
	}
	key := ledger.APIKey{ID: k.ID, AccountID: accountID, Name: k.Name, Hash: hash, Scopes: scopes, CreatedAt: time.Now().UTC(),
		AllowedIPs: allowed, ValidFrom: from, ValidTo: to, Disabled: k.Enabled != nil && !*k.Enabled}
	if err := store.InsertAPIKey(ctx, key, nil); err != nil {
		return err
	}
	authn.Invalidate()
	n.APIKeys++
	return nil
}
