package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// The help is generated from the table: purse help lists the rows, purse help
// NAME (and NAME -h) shows one row's arguments and flags.

const intro = `purse: a prepaid account-balance service with Infobip's account API

Usage: purse COMMAND [ARGUMENTS] [FLAGS]
`

const outro = `Management commands talk to purse serve's admin listener: --admin-url, else
PURSE_ADMIN_URL, else the URL purse serve wrote beside its store (DB.admin-url,
--db, default purse.db), else http://127.0.0.1:8081. The admin token comes from
--admin-token-file, PURSE_ADMIN_TOKEN_FILE, PURSE_ADMIN_TOKEN, --admin-token, or
the token file beside the store (DB.admin-token). Prefer a file or the
environment: a flag's value is visible to every local user in the process list.
They print text, JSON with --json, and only the new id with -q where there is one.
Every money movement takes --idempotency-key KEY (default: a random key): the
same command sent again with the same key is never applied twice.

Run "purse help COMMAND" or "purse COMMAND -h" for a command's arguments and flags.
`

// builtins are the commands of the command line itself.
var builtins = []struct{ name, summary string }{
	{"help [COMMAND]", "this list, or a command's arguments and flags"},
	{"version", "purse's version, the commit it was built from and its Go version"},
	{"completion bash|zsh", "a shell completion script: source <(purse completion bash)"},
}

func writeUsage(w io.Writer, cmds []Command) {
	fmt.Fprint(w, intro)
	// One column for every group, so that the summaries line up down the page.
	width := 0
	for _, c := range cmds {
		width = max(width, len(strings.TrimSpace(c.Name+" "+c.Args)))
	}
	for _, b := range builtins {
		width = max(width, len(b.name))
	}
	for _, g := range groupsOf(cmds) {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, c := range g.cmds {
			fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(c.Name+" "+c.Args), c.Summary)
		}
	}
	fmt.Fprint(w, "\nThe command line:\n")
	for _, b := range builtins {
		fmt.Fprintf(w, "  %-*s  %s\n", width, b.name, b.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, outro)
}

// groupsOf is the table's groups, with cmds' serve row.
func groupsOf(cmds []Command) []group {
	for _, c := range cmds {
		if c.Name == "serve" {
			return groups(c)
		}
	}
	return groups(Command{})
}

// help is purse help [COMMAND].
func help(e Env, cmds []Command, args []string) error {
	if len(args) == 0 {
		writeUsage(e.Stdout, cmds)
		return nil
	}
	if c, rest := find(cmds, args); c != nil && len(rest) == 0 {
		return writeHelp(e.Stdout, c, e)
	}
	if group := subcommands(cmds, args[0]); len(group) > 0 && len(args) == 1 {
		writeGroupHelp(e.Stdout, args[0], group)
		return nil
	}
	return Usagef("no command %q; run purse help for the list", strings.Join(args, " "))
}

// subcommands are the rows whose name starts with the word group.
func subcommands(cmds []Command, group string) []*Command {
	var out []*Command
	for i := range cmds {
		if strings.HasPrefix(cmds[i].Name, group+" ") {
			out = append(out, &cmds[i])
		}
	}
	return out
}

func synopsis(c *Command) string {
	s := "purse " + c.Name
	if c.Args != "" {
		s += " " + c.Args
	}
	return s + " [flags]"
}

func writeGroupHelp(w io.Writer, name string, group []*Command) {
	fmt.Fprintf(w, "Usage: purse %s SUBCOMMAND [ARGUMENTS] [FLAGS]\n\n", name)
	tw := newTable(w)
	for _, c := range group {
		fmt.Fprintf(tw, "  %s\t%s\n", synopsis(c), c.Summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"purse help %s SUBCOMMAND\" for a subcommand's flags.\n", name)
}

// writeHelp is the help of one command: its usage line with the positional
// arguments, what it does, its own flags, then the connection flags of an admin
// command.
func writeHelp(w io.Writer, c *Command, e Env) error {
	fmt.Fprintf(w, "Usage: %s\n\n", synopsis(c))
	fmt.Fprintln(w, sentence(c.Summary))
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", c.Help)
	}
	fs, _ := c.flagSet(e)
	shared := map[string]bool{}
	if c.Admin {
		cf := flag.NewFlagSet("", flag.ContinueOnError)
		connFlags(cf, e)
		cf.VisitAll(func(f *flag.Flag) { shared[f.Name] = true })
	}
	var own, connection []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if shared[f.Name] {
			connection = append(connection, f)
		} else {
			own = append(own, f)
		}
	})
	writeFlags(w, "Flags", own)
	writeFlags(w, "Admin API flags", connection)
	return nil
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func writeFlags(w io.Writer, title string, flags []*flag.Flag) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		if !zeroDefault(f.DefValue) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		for _, l := range wrap(usage, 72) {
			fmt.Fprintln(w, "        "+l)
		}
	}
}

func zeroDefault(v string) bool {
	switch v {
	case "", "0", "false", "[]", "map[]", "0s":
		return true
	}
	return false
}

// wrap breaks s into lines of at most width runes, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
