// Package cli is purse's command line: a table of commands, one row each (its
// name, positional arguments, flags, the call it makes and how it prints the
// answer), and the dispatch, help and shell completions generated from that
// table. The management commands talk to the admin API through the client
// package; the offline ones (check, migrate, admin-token reset, oauth-key reset)
// open the store themselves. purse serve is a row too, but its flags and its run
// are given by cmd/purse, which wires the daemon.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/purse-ledger/purse/client"
)

// Env is everything a command needs from the outside world, so that tests run
// commands with their own streams and environment.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Getenv         func(string) string
	// ReadPassword, when set, reads one line from the terminal without echoing
	// it; nil means: Stdin's terminal when Stdin is one.
	ReadPassword func() (string, error)
}

// UsageError is a mistake in the command line: main exits with status 2. An
// empty Msg means the mistake was already explained on stderr.
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, a ...any) error { return UsageError{fmt.Sprintf(format, a...)} }

// Command is one row of the table.
type Command struct {
	Name    string // the words that select it: "accounts create"
	Args    string // its positional arguments: "ACCOUNT CHARGE_ID [AMOUNT]"; [X] is optional
	Summary string // one line, for purse help
	Help    string // what purse help NAME says below the usage line
	// Admin commands talk to the admin API: they take the connection flags and
	// their Call gets a client.
	Admin bool
	// Customer, when set and true for an invocation, means that it needs no
	// admin API (purse balance --url reads a customer's balance): no admin token
	// is looked for.
	Customer func(x *Inv) bool
	// Flags declares the command's own flags; Call reads them by name.
	Flags func(fs *flag.FlagSet, e Env)
	// Call does the work and returns what to print.
	Call func(ctx context.Context, x *Inv) (any, error)
	// Print writes Call's answer as text; with it, the command takes --json. nil:
	// Call printed what there is to print.
	Print func(w io.Writer, v any)
	// ID, when set, is the id in Call's answer, and the command takes -q to print
	// only that (for scripts: id=$(purse accounts create -q ...)).
	ID func(v any) string
	// Secret, when set, is the secret in Call's answer that is shown only once
	// (a new API key, OAuth2 client or webhook subscription): -q prints it after
	// the id, tab-separated, rather than lose it
	// (read -r id secret <<< "$(purse api-keys create -q ...)").
	Secret func(v any) string
}

// text adapts a typed printer to a table row.
func text[T any](f func(w io.Writer, v T)) func(io.Writer, any) {
	return func(w io.Writer, v any) { f(w, v.(T)) }
}

// id adapts a typed id getter to a table row.
func id[T any](f func(v T) string) func(any) string {
	return func(v any) string { return f(v.(T)) }
}

// Inv is one invocation of a command: its environment, flags and arguments.
type Inv struct {
	Env
	Cmd    *Command
	Args   []string       // the positional arguments, as many as Cmd.Args allows
	Client *client.Client // admin commands: the admin API
	fs     *flag.FlagSet
	conn   *conn
}

// Arg is the i-th positional argument, "" when an optional one was left out.
func (x *Inv) Arg(i int) string {
	if i < len(x.Args) {
		return x.Args[i]
	}
	return ""
}

func (x *Inv) get(name string) any { return x.fs.Lookup(name).Value.(flag.Getter).Get() }

// Str is the value of a string flag.
func (x *Inv) Str(name string) string { return x.get(name).(string) }

// Bool is the value of a boolean flag.
func (x *Inv) Bool(name string) bool { return x.get(name).(bool) }

// Int is the value of an int flag.
func (x *Inv) Int(name string) int { return x.get(name).(int) }

// Set reports whether the flag was given on the command line.
func (x *Inv) Set(name string) bool {
	found := false
	x.fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// jsonLine is an answer printed as one line under --json: the last line of a
// command whose output is JSON lines (purse events --follow).
type jsonLine interface{ jsonLine() }

// Output prints v as the command prints its answer: JSON with --json, only the
// id with -q, else the row's text.
func (x *Inv) Output(v any) error {
	switch {
	case x.Cmd.ID != nil && x.Bool("q"):
		line := term(x.Cmd.ID(v))
		if x.Cmd.Secret != nil {
			line += "\t" + term(x.Cmd.Secret(v))
		}
		_, err := fmt.Fprintln(x.Stdout, line)
		return err
	case x.Bool("json"):
		if _, ok := v.(jsonLine); ok {
			b, err := json.Marshal(v)
			if err == nil {
				_, err = fmt.Fprintf(x.Stdout, "%s\n", b)
			}
			return err
		}
		return writeJSON(x.Stdout, v)
	}
	tw := newTable(x.Stdout)
	x.Cmd.Print(tw, v)
	return tw.Flush()
}

// Serve is the row of purse serve. Its flags and its run are given by cmd/purse,
// which wires the daemon; its name and help live here with every other row.
func Serve(flags func(fs *flag.FlagSet, e Env), run func(ctx context.Context) error) Command {
	return Command{
		Name:    "serve",
		Summary: "run purse: the Infobip-compatible API and the admin API",
		Help: `Serves Infobip's account API on --listen and the admin API on --admin-listen,
over the store in --db: an SQLite file (made on first start) or a postgres:// URL
(several nodes may serve one PostgreSQL database). On first start it writes a
random admin token to DB.admin-token (mode 0600); while it runs it writes the
admin listener's URL to DB.admin-url, where the other commands find it.
--demo seeds Infobip's documented example account.`,
		Flags: flags,
		Call:  func(ctx context.Context, _ *Inv) (any, error) { return nil, run(ctx) },
	}
}

// Run runs the command line args: purse's main with serve given by cmd/purse.
func Run(ctx context.Context, args []string, e Env, serve Command) error {
	cmds := table(serve)
	if len(args) == 0 {
		writeUsage(e.Stderr, cmds)
		return UsageError{}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(e, cmds, args[1:])
	case "version", "-version", "--version":
		return writeVersion(e.Stdout)
	case "completion":
		return completion(e, cmds, args[1:])
	}
	c, rest := find(cmds, args)
	if c == nil {
		return unknown(e, cmds, args)
	}
	return c.run(ctx, rest, e)
}

// find is the command args name, longest name first, and the arguments after it.
func find(cmds []Command, args []string) (*Command, []string) {
	if len(args) > 1 {
		for i := range cmds {
			if cmds[i].Name == args[0]+" "+args[1] {
				return &cmds[i], args[2:]
			}
		}
	}
	for i := range cmds {
		if cmds[i].Name == args[0] {
			return &cmds[i], args[1:]
		}
	}
	return nil, nil
}

// unknown answers a command line that names no command: a group without its
// subcommand gets the group's help (on stdout and status 0 when -h asked for it).
func unknown(e Env, cmds []Command, args []string) error {
	group := subcommands(cmds, args[0])
	if len(group) == 0 {
		return Usagef("unknown command %q; run purse help for the list", args[0])
	}
	if len(args) > 1 && isHelp(args[1]) {
		writeGroupHelp(e.Stdout, args[0], group)
		return nil
	}
	writeGroupHelp(e.Stderr, args[0], group)
	if len(args) == 1 {
		return Usagef("%s needs a subcommand", args[0])
	}
	return Usagef("unknown command %q", args[0]+" "+args[1])
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// flagSet is the command's flags: its own, then the connection flags of an admin
// command, then the output flags.
func (c *Command) flagSet(e Env) (*flag.FlagSet, *conn) {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if c.Flags != nil {
		c.Flags(fs, e)
	}
	var cn *conn
	if c.Admin {
		cn = connFlags(fs, e)
	}
	if c.Print != nil {
		fs.Bool("json", false, "print JSON instead of text")
	}
	switch {
	case c.Secret != nil:
		fs.Bool("q", false, "print only the id and, after a tab, the secret shown only once")
	case c.ID != nil:
		fs.Bool("q", false, "print only the id")
	}
	return fs, cn
}

func (c *Command) run(ctx context.Context, args []string, e Env) error {
	fs, cn := c.flagSet(e)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return writeHelp(e.Stdout, c, e)
	}
	if err != nil {
		return Usagef("%s: %v; see purse help %s", c.Name, err, c.Name)
	}
	if err := c.checkArgs(pos); err != nil {
		return err
	}
	x := &Inv{Env: e, Cmd: c, Args: pos, fs: fs, conn: cn}
	if c.Admin && (c.Customer == nil || !c.Customer(x)) {
		if x.Client, err = cn.client(); err != nil {
			return err
		}
	}
	v, err := c.Call(ctx, x)
	if err != nil {
		if cn != nil {
			return cn.explain(err)
		}
		return err
	}
	if c.Print == nil {
		return nil
	}
	return x.Output(v)
}

// argSpec is the least and the most count of positional arguments Args allows.
func (c *Command) argSpec() (least, most int) {
	for _, a := range strings.Fields(c.Args) {
		most++
		if !strings.HasPrefix(a, "[") {
			least++
		}
	}
	return least, most
}

// checkArgs refuses a wrong count of arguments, and an AMOUNT that is not a
// decimal number before it goes anywhere.
func (c *Command) checkArgs(pos []string) error {
	least, most := c.argSpec()
	if len(pos) < least || len(pos) > most {
		want := c.Args
		if want == "" {
			want = "no arguments"
		}
		return Usagef("%s wants %s, got %d argument(s); see purse help %s", c.Name, want, len(pos), c.Name)
	}
	for i, a := range strings.Fields(c.Args) {
		if i < len(pos) && strings.Trim(a, "[]") == "AMOUNT" {
			if err := checkAmount(pos[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after positional
// arguments ("purse top-up acc_1 10 --reference r") and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
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

// EnvOr is a flag default taken from the environment.
func EnvOr(e Env, name, def string) string {
	if v := strings.TrimSpace(e.Getenv(name)); v != "" {
		return v
	}
	return def
}

// ReadSecretFile reads a one-line secret file; the daemon also warns when others
// may read it (log), the command line does not (log nil).
func ReadSecretFile(path, flagName string, warn func(mode os.FileMode)) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	if fi.Mode().Perm()&0o077 != 0 && warn != nil {
		warn(fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", flagName, path)
	}
	return v, nil
}
