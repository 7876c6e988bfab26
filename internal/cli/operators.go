package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/purse-ledger/purse/client"
)

// The operators commands talk to a running purse over the admin API, with the
// shared admin token (or an admin's personal one), like the other admin
// commands: purse serve holds the store, so the CLI cannot write it offline.
// The first admin is made this way: purse operators add --name ann --role admin.

func operatorCommands() []Command {
	return []Command{
		{Name: "operators add", Summary: "add a person who uses the console, with a role", Admin: true,
			Help: "Roles: viewer reads everything; operator also moves money, suspends and closes; admin also manages\n" +
				"credentials and operators. The password comes from --password, else PURSE_PASSWORD, else a prompt\n" +
				"without echo (asked twice) when stdin is a terminal, else the first line of stdin.\n" +
				"The first admin: purse operators add --name ann --role admin; then open /console on the admin listener.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "the operator's login name")
				fs.String("role", "viewer", "viewer, operator or admin")
				fs.String("password", "", "password (visible in the process list: prefer the prompt, stdin or PURSE_PASSWORD)")
			}),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				pw, err := operatorPassword(x, x.Str("name"))
				if err != nil {
					return nil, err
				}
				return x.Client.AddOperator(ctx, x.Str("name"), x.Str("role"), pw)
			},
			Print: text(func(w io.Writer, o client.Operator) { tprintf(w, "operator %s added, role %s\n", o.Name, o.Role) })},
		{Name: "operators list", Summary: "list the operators and their roles", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListOperators(ctx) },
			Print: text(printOperators)},
		{Name: "operators remove", Args: "NAME", Summary: "remove an operator (their sessions and token stop at once)", Admin: true,
			Help: "The last admin cannot be removed: add another admin first.",
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]string{"removed": x.Arg(0)}, x.Client.RemoveOperator(ctx, x.Arg(0))
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "operator %s removed\n", m["removed"]) })},
		{Name: "operators passwd", Args: "NAME", Summary: "set an operator's password", Admin: true,
			Help: "The password comes from --password, else PURSE_PASSWORD, else a prompt, else the first line of stdin.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("password", "", "password (visible in the process list: prefer the prompt, stdin or PURSE_PASSWORD)")
			}),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				pw, err := operatorPassword(x, x.Arg(0))
				if err != nil {
					return nil, err
				}
				return map[string]string{"changed": x.Arg(0)}, x.Client.SetOperatorPassword(ctx, x.Arg(0), pw)
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "password of %s changed\n", m["changed"]) })},
		{Name: "operators token", Args: "NAME", Summary: "give an operator a personal admin API token (shown only once)", Admin: true,
			Help: "Replaces the operator's previous token. The admin API serves the token with the operator's role\nand records the operator's name in the audit log.",
			Call: func(ctx context.Context, x *Inv) (any, error) {
				tok, err := x.Client.IssueOperatorToken(ctx, x.Arg(0))
				return map[string]string{"name": x.Arg(0), "token": tok}, err
			},
			Print: text(func(w io.Writer, m map[string]string) {
				tprintf(w, "token\t%s\n", m["token"])
				fmt.Fprintln(w, "The token is shown only now; use it as: Authorization: Bearer <token>")
			})},
	}
}

func operatorPassword(x *Inv, name string) (string, error) {
	pw := x.Str("password")
	if pw == "" {
		pw = x.Getenv("PURSE_PASSWORD")
	}
	if pw == "" {
		return readPassword(x.Env, name)
	}
	return pw, nil
}

func printOperators(w io.Writer, ops []client.Operator) {
	fmt.Fprintln(w, "NAME\tROLE\tTOKEN\tCREATED")
	for _, o := range ops {
		tok := "-"
		if o.HasToken {
			tok = "yes"
		}
		tprintf(w, "%s\t%s\t%s\t%s\n", o.Name, o.Role, tok, o.CreatedAt)
	}
}
