package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/check"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// Operations on a store itself: check, migrate, admin-token.

// checkCmd opens the store and proves the ledger's invariants; it fails with a
// report when any is broken. On SQLite, purse serve must be stopped (it owns the file).
func checkCmd(ctx context.Context, args []string, e env) error {
	c := newCLI("check", e)
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 0, "no arguments"); err != nil {
		return err
	}
	if !postgres.IsURL(c.db) {
		if _, err := os.Stat(c.db); err != nil {
			return fmt.Errorf("check: %w", err)
		}
	}
	st, _, err := openStore(ctx, c.db)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer st.Close()
	src, ok := st.(check.Source)
	if !ok {
		return errors.New("check: this store cannot be checked")
	}
	rep, err := check.Run(ctx, src)
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

// migrateCmd copies an embedded store into an empty PostgreSQL database, in one
// transaction, then checks the target.
func migrateCmd(ctx context.Context, args []string, e env) error {
	c := newCLI("migrate", e)
	from := c.fs.String("from", "purse.db", "the SQLite file to copy (purse serve must be stopped)")
	to := c.fs.String("to", "", "the PostgreSQL URL to copy into (an empty database)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 0, "no arguments"); err != nil {
		return err
	}
	if !postgres.IsURL(*to) {
		return usagef("--to must be a postgres:// URL")
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	src, err := sqlite.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	dump, err := src.Export(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	entries := 0
	err = dst.Import(ctx, dump, func(fn func(ledger.Entry) error) error {
		return src.EachEntry(ctx, func(en ledger.Entry) error { entries++; return fn(en) })
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rep, err := check.Run(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate: check the target: %w", err)
	}
	fmt.Fprintf(e.stdout, "copied %d accounts, %d entries, %d holds, %d charges, %d users, %d API keys, %d idempotency records\n",
		len(dump.Accounts), entries, len(dump.Holds), len(dump.Charges), len(dump.Users), len(dump.APIKeys), len(dump.Idempotency))
	if !rep.OK() {
		return fmt.Errorf("migrate: the target fails check: %s", strings.Join(rep.Problems, "; "))
	}
	fmt.Fprintln(e.stdout, "ok: the target passes purse check")
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
		st, _, err := openStore(ctx, c.db)
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
