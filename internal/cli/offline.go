package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
	"github.com/purse-ledger/purse/internal/storefiles"
)

// The offline commands open the store themselves: they take no connection flags,
// only the store they work on.

func storeFlag(what string) func(fs *flag.FlagSet, e Env) {
	return func(fs *flag.FlagSet, e Env) {
		fs.String("db", EnvOr(e, "PURSE_DB", "purse.db"), what+": an SQLite file or a postgres:// URL (env PURSE_DB)")
	}
}

func offlineCommands() []Command {
	return []Command{
		{Name: "check", Summary: "prove the ledger's invariants on a store",
			Help: `Opens the store read-only and proves the ledger's invariants: every currency's entries
sum to zero, every balance is the sum of its entries, every hold and charge adds up.
It never writes. On SQLite, purse serve must be stopped (check takes a shared lock).
It exits with status 1 and a report when an invariant is broken.`,
			Flags: storeFlag("the store to check"),
			Call:  checkStore, Print: text(printCheck)},
		{Name: "migrate", Summary: "copy the embedded store into an empty PostgreSQL database",
			Help: `Copies every table of the SQLite store into an empty PostgreSQL database in one
transaction, compares every table with its source (rows and checksum), commits only
an exact copy, then runs purse check on the target. Demo accounts are left out
unless --include-demo. purse serve must be stopped.`,
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("from", "purse.db", "the SQLite file to copy (purse serve must be stopped)")
				fs.String("to", "", "the PostgreSQL URL to copy into (an empty database)")
				fs.Bool("include-demo", false, "copy demo accounts too (their credentials, Aladdin / open sesame, are published)")
			}),
			Call: migrate},
		{Name: "admin-token reset", Summary: "put a new admin token in force when the one in force is lost",
			Help: `Writes a new admin token straight into the store (stop purse serve first on SQLite)
and to the token file: --admin-token-file, else DB.admin-token. A running PostgreSQL
cluster picks it up at once.`,
			Flags: func(fs *flag.FlagSet, e Env) {
				storeFlag("the store whose admin token to reset")(fs, e)
				fs.String("admin-token-file", EnvOr(e, "PURSE_ADMIN_TOKEN_FILE", ""), "write the new token to this file, mode 0600 (env PURSE_ADMIN_TOKEN_FILE); default: DB.admin-token")
			},
			Call: adminTokenReset, Print: text(printNewToken)},
		{Name: "oauth-key reset", Summary: "forget the OAuth2 token secret, before starting the nodes with a new --oauth-secret-file",
			Help:  "Every OAuth2 access token issued so far is then refused. Stop every node first.",
			Flags: storeFlag("the store whose OAuth2 token secret to forget"),
			Call:  oauthKeyReset,
			Print: text(func(w io.Writer, _ map[string]bool) {
				fmt.Fprintln(w, "OAuth2 token secret forgotten and a new key generation started: start every node with the same (new) --oauth-secret-file")
			})},
	}
}

// checkStore opens the store read-only and proves the ledger's invariants; it
// fails with the report printed when any is broken. A file that is not a purse
// store of this build's schema version is an error, not an empty ledger.
func checkStore(ctx context.Context, x *Inv) (any, error) {
	db := x.Str("db")
	var src interface {
		ledger.Records
		Close() error
	}
	var err error
	if postgres.IsURL(db) {
		src, err = postgres.Open(ctx, db, postgres.ReadOnly())
	} else {
		src, err = sqlite.Open(ctx, db, sqlite.ReadOnly())
		if errors.Is(err, sqlite.ErrLocked) {
			err = fmt.Errorf("%w; stop purse serve first", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer src.Close()
	rep, err := ledger.Check(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	if rep.OK() {
		return rep, nil
	}
	if err := x.Output(rep); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("check: %d problem(s) found", len(rep.Problems))
}

func printCheck(w io.Writer, rep *ledger.CheckReport) {
	fmt.Fprintf(w, "%d accounts, %d entries, %d active holds, %d charges\n", rep.Accounts, rep.Entries, rep.Holds, rep.Charges)
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "PROBLEM:", term(fmt.Sprint(p)))
	}
	if rep.OK() {
		fmt.Fprintln(w, "ok: every invariant holds")
	}
}

// offlineStore is what the offline commands write to: the store contract.
type offlineStore = ledger.Store

// openExisting opens a store that must exist: a typo in --db must not create a
// new, empty one.
func openExisting(ctx context.Context, db string) (offlineStore, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	st, err := sqlite.Open(ctx, db, sqlite.Existing())
	if errors.Is(err, sqlite.ErrLocked) {
		return nil, fmt.Errorf("%w; stop purse serve first", err)
	}
	return st, err
}

func adminTokenReset(ctx context.Context, x *Inv) (any, error) {
	st, err := openExisting(ctx, x.Str("db"))
	if err != nil {
		return nil, err
	}
	t, _, err := auth.NewAdminToken(ctx, st, "")
	var tok string
	if err == nil {
		tok, err = t.Rotate(ctx)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return writeToken(tok, x.Str("admin-token-file"), x.Str("db"))
}

// writeToken keeps the token file current: path, else the one beside the store.
func writeToken(tok, path, db string) (newToken, error) {
	if path == "" {
		path = storefiles.AdminTokenPath(db)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return newToken{}, fmt.Errorf("new token in force, but writing %s failed: %w (token: %s)", path, err, tok)
	}
	return newToken{Token: tok, Written: path}, nil
}

func oauthKeyReset(ctx context.Context, x *Inv) (any, error) {
	st, err := openExisting(ctx, x.Str("db"))
	if err != nil {
		return nil, err
	}
	err = auth.ResetTokenKey(ctx, st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return map[string]bool{"reset": true}, err
}
