package main

import (
	"context"
	"fmt"
	"io"

	"github.com/purse-ledger/purse/internal/auth"
)

// oauthKeyCmd rotates the OAuth2 signing key through the admin API (every node
// follows), or (reset, offline) forgets which token secret the nodes agreed on, so
// they can be started with a new --oauth-secret-file.
func oauthKeyCmd(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "reset") {
		return usagef("want purse oauth-key rotate|reset")
	}
	sub := args[0]
	c := newCLI("oauth-key "+sub, e)
	pos, err := parseInterleaved(c.fs, args[1:])
	if err != nil {
		return err
	}
	if err := need(pos, 0, "no arguments"); err != nil {
		return err
	}
	if sub == "rotate" {
		cl, err := c.admin()
		if err != nil {
			return err
		}
		if err := cl.RotateOAuthKey(ctx); err != nil {
			return err
		}
		return c.print(map[string]bool{"rotated": true}, func(w io.Writer) {
			fmt.Fprintln(w, "OAuth2 signing key rotated on every node: access tokens issued before now are refused; clients get new ones with their credentials")
		})
	}
	st, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	err = auth.ResetTokenKey(ctx, st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return c.print(map[string]bool{"reset": true}, func(w io.Writer) {
		fmt.Fprintln(w, "OAuth2 token secret forgotten and a new key generation started: start every node with the same (new) --oauth-secret-file")
	})
}
