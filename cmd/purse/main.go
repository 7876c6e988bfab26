// Command purse is a prepaid account-balance service that speaks Infobip's
// "Get account balance" API, and the command line that manages it.
//
// This package holds what only the purse binary needs:
//
//   - main.go: the entry point, which hands the command line to internal/cli (the
//     table of commands, their help and completions) with serve's row filled in;
//   - serve.go: purse serve, the daemon: its flags, checked and read into an
//     app.Config, its listeners and signals; internal/app builds and serves the
//     rest (stores, engine, authentication, the two HTTP APIs, TLS, the admin
//     token, the demo account);
//   - flags.go: serve's flag values from PURSE_* variables, and the admin token's
//     strength check;
//   - gc.go and procs.go: runtime tuning of a serving process (the collector's
//     target and GOMAXPROCS).
//
// Configuration is read here and in internal/cli only: flags, each with a PURSE_*
// environment fallback. Run purse help for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/purse-ledger/purse/internal/cli"
)

// env is everything run needs from the outside world, so tests can call run with
// their own streams, environment and a hook that learns the listeners' addresses.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	// ready, when set, is called by serve once both listeners accept connections.
	ready func(publicAddr, adminAddr string)
	// readPassword, when set, stands for the terminal users add prompts on.
	readPassword func() (string, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		setServeProcs(os.Getenv) // procs.go
	}
	err := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv})
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// exitStatus prints err, once, and is the exit status for it: 2 for a mistake in
// the command line, 1 for any other error.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var u cli.UsageError
	if !errors.As(err, &u) || u.Msg != "" {
		fmt.Fprintln(stderr, "purse:", cli.Term(err.Error()))
	}
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usagef is a mistake in the command line (exit status 2).
func usagef(format string, a ...any) error { return cli.Usagef(format, a...) }

// run runs the command line args, with serve wired here.
func run(ctx context.Context, args []string, e env) error {
	var c serveConfig
	var envErr envErrs
	serve := cli.Serve(
		func(fs *flag.FlagSet, _ cli.Env) { c, envErr = serveConfig{}, nil; serveFlags(fs, &c, &envErr, e) },
		func(ctx context.Context) error { return serve(ctx, c, envErr, e) })
	return cli.Run(ctx, args, cli.Env{Stdout: e.stdout, Stderr: e.stderr, Stdin: e.stdin, Getenv: e.getenv, ReadPassword: e.readPassword}, serve)
}

// envOr is a flag default taken from the environment.
func envOr(e env, name, def string) string {
	return cli.EnvOr(cli.Env{Getenv: e.getenv}, name, def)
}
