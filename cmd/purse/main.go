// Command purse is a prepaid account-balance service that speaks Infobip's
// "Get account balance" API, and the command line that manages it.
//
//	purse serve [--demo] [--db purse.db] [--listen :8080] [--admin-listen 127.0.0.1:8081]
//	purse accounts create|list|get ...
//	purse users add|remove|list ...
//	purse api-keys create|list|revoke ...
//	purse top-up ACCOUNT AMOUNT
//	purse balance [ACCOUNT]
//
// Configuration is read here only: flags, each with a PURSE_* environment fallback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is everything run needs from the outside world, so tests can call run with
// their own streams, environment and a hook that learns the listeners' addresses.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	// ready, when set, is called by serve once both listeners accept connections.
	ready func(publicAddr, adminAddr string)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		setServeProcs(os.Getenv) // procs.go
	}
	err := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv})
	if err != nil {
		var u usageError
		if !errors.As(err, &u) || u.msg != "" {
			fmt.Fprintln(os.Stderr, "purse:", term(err.Error()))
		}
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

const usage = `purse: a prepaid account-balance service with Infobip's account API

Usage:
  purse serve [--demo] [--db FILE|postgres://...] [--create] [--listen ADDR] [--admin-listen ADDR]
  purse accounts create --name NAME --currency CODE
  purse accounts list [--limit N] [--cursor C]
  purse accounts get ACCOUNT
  purse accounts update ACCOUNT [--name NAME] [--status active|suspended|closed]
                 [--allowed-minus AMOUNT] [--monthly-limit AMOUNT|none] [--free-messages N]
  purse users add ACCOUNT --username NAME [--password PW]   (PURSE_PASSWORD, else stdin)
  purse users list ACCOUNT
  purse users remove ACCOUNT USERNAME
  purse api-keys create ACCOUNT --name NAME [--scope SCOPE]...
  purse api-keys list ACCOUNT
  purse api-keys revoke ACCOUNT KEY_ID
  purse oauth-clients create ACCOUNT --name NAME [--scope SCOPE]...
  purse oauth-clients list ACCOUNT
  purse oauth-clients revoke ACCOUNT CLIENT_ID
  purse top-up ACCOUNT AMOUNT [--reference REF] [--idempotency-key KEY]
  purse charge ACCOUNT AMOUNT [--reference REF] [--meta k=v]... [--free-message [--no-fallback]]
  purse refund ACCOUNT CHARGE_ID [AMOUNT]        (no AMOUNT: what is left of the charge)
  purse adjust ACCOUNT AMOUNT --reason TEXT      (AMOUNT may be negative)
  purse hold create ACCOUNT AMOUNT [--expires-in 10m] [--reference REF]
  purse hold capture HOLD_ID [AMOUNT]            (no AMOUNT: all of it)
  purse hold void HOLD_ID
  purse hold get HOLD_ID
  purse audit [--limit N] [--cursor C] [--all]   (admin actions, newest first)
  purse batch FILE|- [--atomic]                  (a JSON array of operations, one commit)
  purse entries ACCOUNT [--limit N] [--cursor C] [--from T] [--to T] [--kind KIND] [--all]
  purse balance ACCOUNT [--at RFC3339]           (admin API)
  purse balance --url URL (--username U --password P | --api-key K)   (Infobip API)
  purse check [--db FILE|URL]                    (proves the ledger's invariants)
  purse migrate --from purse.db --to postgres://... [--include-demo]
                                                 (copies every table of the embedded store)
  purse demo remove                              (closes the demo account, removes its logins)
  purse admin-token rotate                       (a new admin token, on every node)
  purse admin-token reset [--db FILE|URL]        (offline: when the token is lost)
  purse oauth-key rotate                         (refuse every OAuth2 token issued so far, on every node)
  purse oauth-key reset [--db FILE|URL]          (offline: before starting the nodes with a new --oauth-secret-file)

Every money movement takes --idempotency-key KEY (default: a random key); sending the
same command again with the same key never applies it twice.

Management commands talk to the admin listener (--admin-url, PURSE_ADMIN_URL,
default http://127.0.0.1:8081) with the admin token from --admin-token-file,
PURSE_ADMIN_TOKEN_FILE, PURSE_ADMIN_TOKEN, --admin-token, or the token file beside
the database (--db, default purse.db). Prefer a file or the environment: a flag's
value is visible to every local user in the process list.
They print text by default and JSON with --json.
Run "purse COMMAND -h" for a command's flags.
`

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return usageError{}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, e)
	case "accounts", "users", "api-keys", "oauth-clients", "top-up", "balance", "charge", "refund", "adjust", "hold", "entries", "batch", "audit":
		return manage(ctx, cmd, rest, e)
	case "check":
		return checkCmd(ctx, rest, e)
	case "migrate":
		return migrateCmd(ctx, rest, e)
	case "admin-token":
		return adminTokenCmd(ctx, rest, e)
	case "demo":
		return demoCmd(ctx, rest, e)
	case "oauth-key":
		return oauthKeyCmd(ctx, rest, e)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return nil
	}
	fmt.Fprint(e.stderr, usage)
	return usagef("unknown command %q", cmd)
}

// parseInterleaved parses flags that may come before, between or after positional
// arguments ("purse top-up acc_1 10 --reference r") and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		// A negative amount ("-5") is an argument, not a flag.
		for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && args[0][1] >= '0' && args[0][1] <= '9' {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
}

// envOr is a flag default taken from the environment.
func envOr(e env, name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}
