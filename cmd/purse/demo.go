package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/purse-ledger/purse/client"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// The example account of Infobip's "Get account balance" documentation.
const (
	demoAccountID = "acc_demo"
	demoUser      = "Aladdin"
	demoPassword  = "open sesame"
	demoBalance   = "47.79134"
	demoCurrency  = "EUR"
)

// seedDemo makes sure, idempotently, that the documented example account exists
// with its Basic user and a balance of exactly 47.79134 EUR, so the documentation's
// curl line prints the documented response. A balance below that is topped up to
// it at start; a higher one is left alone and logged (purse never removes money
// without a movement the operator asked for).
func seedDemo(ctx context.Context, eng *engine.Engine, authn *auth.Authenticator, store ledger.Demo, log *slog.Logger) error {
	if _, ok := eng.Account(demoAccountID); !ok {
		_, err := eng.Do(ctx, engine.CreateAccount{ID: demoAccountID, Name: "Infobip documentation example", Currency: demoCurrency}, nil)
		var c *ledger.ConflictError
		if err != nil && !errors.As(err, &c) { // another node may have made it first
			return err
		}
	}
	// Marked before its user exists: a store never holds the published password
	// on an account it does not know to be a demo.
	if err := store.MarkDemo(ctx, demoAccountID); err != nil {
		return err
	}
	acc, _ := eng.Account(demoAccountID)
	if acc.Status == ledger.StatusClosed {
		// purse demo remove closed it; a closed account never opens again.
		log.Warn("the demo account was removed from this store (closed); --demo leaves it so: use a new database for the demo",
			"account", demoAccountID)
		return nil
	}
	if acc.Status != ledger.StatusActive {
		st := ledger.StatusActive
		if _, err := eng.Do(ctx, engine.UpdateAccount{ID: demoAccountID, Status: &st}, nil); err != nil {
			return err
		}
	}
	want := ledger.MustParseAmount(demoBalance)
	if acc.Balance < want {
		diff, _ := want.Sub(acc.Balance)
		key := fmt.Sprintf("demo-seed-%d", acc.Seq) // one top-up per state of the account
		if _, err := eng.Do(ctx, engine.TopUp{AccountID: demoAccountID, Amount: diff, Reference: "demo seed", IdempotencyKey: key},
			&engine.Idempotency{Key: "internal:" + key, RequestHash: key}); err != nil {
			return err
		}
	} else if acc.Balance > want {
		log.Warn("demo account holds more than the documented balance; left as is", "balance", acc.Balance.String())
	}
	u, err := authn.Users(ctx, demoAccountID)
	if err != nil {
		return err
	}
	for _, x := range u {
		if x.Username == demoUser {
			return nil
		}
	}
	if _, err := authn.AddUser(ctx, demoAccountID, demoUser, demoPassword, nil); err != nil {
		var c *ledger.ConflictError
		if errors.As(err, &c) {
			log.Warn("demo user name is taken by another account; demo login will not work", "username", demoUser)
			return nil
		}
		return err
	}
	log.Info("demo account ready", "account", demoAccountID, "user", demoUser, "balance", demoBalance, "currency", demoCurrency)
	return nil
}

// warnDemo, when purse serves without --demo, says loudly that a demo account is
// still active: its password is in Infobip's public documentation.
func warnDemo(ctx context.Context, eng *engine.Engine, store ledger.Demo, log *slog.Logger) error {
	ids, err := store.DemoAccounts(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if acc, ok := eng.Account(id); ok && acc.Status != ledger.StatusClosed {
			log.Warn("DEMO ACCOUNT ACTIVE: anyone may log in to it with the password published in Infobip's documentation "+
				"(Aladdin / open sesame); remove it with `purse demo remove`, or start with --demo if this is a demo",
				"account", id, "balance", acc.Balance.String(), "currency", acc.Currency)
		}
	}
	return nil
}

// demoCmd is purse demo remove: through the admin API (so it works on a running
// server and on every node of a cluster), it takes the demo account out of use:
// removes its users (and so their sessions), revokes its API keys and OAuth2
// clients, books its balance back to the platform's funding account with an
// adjustment, and closes it. The account and its history stay, as every account's
// do; purse migrate then leaves it out.
func demoCmd(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "remove" {
		return usagef("want purse demo remove")
	}
	c := newCLI("demo remove", e)
	_, cl, err := c.parse(args[1:], 0, "no arguments")
	if err != nil {
		return err
	}
	acc, err := cl.GetAccount(ctx, demoAccountID)
	var ce *client.Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
		fmt.Fprintln(e.stdout, "no demo account: nothing to remove")
		return nil
	}
	if err != nil {
		return err
	}
	var done []string
	users, err := cl.ListUsers(ctx, demoAccountID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := cl.RemoveUser(ctx, demoAccountID, u.Username); err != nil {
			return err
		}
		done = append(done, "removed user "+u.Username)
	}
	keys, err := cl.ListAPIKeys(ctx, demoAccountID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RevokedAt == "" {
			if err := cl.RevokeAPIKey(ctx, demoAccountID, k.ID); err != nil {
				return err
			}
			done = append(done, "revoked API key "+k.ID)
		}
	}
	clients, err := cl.ListOAuthClients(ctx, demoAccountID)
	if err != nil {
		return err
	}
	for _, o := range clients {
		if o.RevokedAt == "" {
			if err := cl.RevokeOAuthClient(ctx, demoAccountID, o.ClientID); err != nil {
				return err
			}
			done = append(done, "revoked OAuth2 client "+o.ClientID)
		}
	}
	if acc.Status != string(ledger.StatusClosed) {
		bal, err := cl.AccountBalance(ctx, demoAccountID)
		if err != nil {
			return err
		}
		if bal.Held != "" && bal.Held != "0" {
			return fmt.Errorf("the demo account has %s %s on hold: void its holds (purse hold void HOLD_ID) or let them expire, then run this again", bal.Held, acc.Currency)
		}
		if bal.Balance != "0" {
			back := "-" + bal.Balance
			if strings.HasPrefix(bal.Balance, "-") {
				back = strings.TrimPrefix(bal.Balance, "-")
			}
			if _, err := cl.Adjust(ctx, demoAccountID, back, "demo account removed", ""); err != nil {
				return err
			}
			done = append(done, fmt.Sprintf("booked %s %s back to the funding account", bal.Balance, acc.Currency))
		}
		closed := string(ledger.StatusClosed)
		if _, err := cl.UpdateAccount(ctx, demoAccountID, client.AccountUpdate{Status: &closed}); err != nil {
			return err
		}
		done = append(done, "closed the account")
	}
	return c.print(map[string]any{"account": demoAccountID, "done": done}, func(w io.Writer) {
		for _, d := range done {
			fmt.Fprintln(w, d)
		}
		fmt.Fprintf(w, "demo account %s removed: no credential opens it; purse migrate leaves it out\n", demoAccountID)
	})
}
