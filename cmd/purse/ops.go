package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// Operations on a store itself: check, migrate, admin-token.

// checkCmd opens the store read-only and proves the ledger's invariants; it fails
// with a report when any is broken. It never migrates or writes: a file that is not
// a purse store of this build's schema version is an error, not an empty ledger.
// On SQLite, purse serve must be stopped (it owns the file; check takes a shared lock).
func checkCmd(ctx context.Context, args []string, e env) error {
	c := newCLI("check", e)
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 0, "no arguments"); err != nil {
		return err
	}
	var src interface {
		ledger.Records
		Close() error
	}
	if postgres.IsURL(c.db) {
		src, err = postgres.Open(ctx, c.db, postgres.ReadOnly())
	} else {
		src, err = sqlite.Open(ctx, c.db, sqlite.ReadOnly())
		if errors.Is(err, sqlite.ErrLocked) {
			err = fmt.Errorf("%w; stop purse serve first", err)
		}
	}
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer src.Close()
	rep, err := ledger.Check(ctx, src)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if c.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		fmt.Fprintf(e.stdout, "%d accounts, %d entries, %d active holds, %d charges\n", rep.Accounts, rep.Entries, rep.Holds, rep.Charges)
		for _, p := range rep.Problems {
			fmt.Fprintln(e.stdout, "PROBLEM:", term(fmt.Sprint(p)))
		}
		if rep.OK() {
			fmt.Fprintln(e.stdout, "ok: every invariant holds")
		}
	}
	if !rep.OK() {
		return fmt.Errorf("check: %d problem(s) found", len(rep.Problems))
	}
	return nil
}

// adminTokenCmd rotates the admin token through the admin API, or (reset) writes a
// new one straight into the store when the one in force is lost.
func adminTokenCmd(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "reset") {
		return usagef("want purse admin-token rotate|reset")
	}
	sub := args[0]
	c := newCLI("admin-token "+sub, e)
	pos, err := parseInterleaved(c.fs, args[1:])
	if err != nil {
		return err
	}
	if err := need(pos, 0, "no arguments"); err != nil {
		return err
	}
	var tok string
	if sub == "rotate" {
		cl, err := c.admin()
		if err != nil {
			return err
		}
		if tok, err = cl.RotateAdminToken(ctx); err != nil {
			return err
		}
	} else {
		// An existing store only: a typo in --db must not create a new, empty one.
		st, err := openStore(ctx, c.db, sqlite.Existing())
		if err != nil {
			return err
		}
		t, _, err := adminapi.NewToken(ctx, st, "")
		if err == nil {
			tok, err = t.Rotate(ctx)
		}
		st.Close()
		if err != nil {
			return err
		}
	}
	// Keep the token file current when that is where the token lives.
	path := adminTokenPath(c.db)
	if c.tokenFile != "" {
		path = c.tokenFile
	}
	if c.adminToken == "" {
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			return fmt.Errorf("new token in force, but writing %s failed: %w (token: %s)", path, err, tok)
		}
	}
	return c.print(map[string]string{"token": tok}, func(w io.Writer) {
		fmt.Fprintf(w, "new admin token in force on every node: %s\n", tok)
		if c.adminToken == "" {
			fmt.Fprintf(w, "written to %s\n", path)
		}
	})
}
