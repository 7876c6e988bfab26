package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/purse-ledger/purse/client"
)

// DemoAccountID is the account purse serve --demo seeds: the example account of
// Infobip's "Get account balance" documentation.
const DemoAccountID = "acc_demo"

// demoRemoved is what purse demo remove did.
type demoRemoved struct {
	Account string   `json:"account"`
	Done    []string `json:"done"`
	none    bool     // there was no demo account
}

// demoRemove is purse demo remove: through the admin API (so it works on a
// running server and on every node of a cluster), it takes the demo account out
// of use: removes its users (and so their sessions), revokes its API keys and
// OAuth2 clients, books its balance back to the platform's funding account with
// an adjustment, and closes it. The account and its history stay, as every
// account's do; purse migrate then leaves it out.
func demoRemove(ctx context.Context, x *Inv) (any, error) {
	cl := x.Client
	acc, err := cl.GetAccount(ctx, DemoAccountID)
	var ce *client.Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
		return demoRemoved{Account: DemoAccountID, none: true}, nil
	}
	if err != nil {
		return nil, err
	}
	done, err := revokeDemoCredentials(ctx, cl)
	if err != nil {
		return nil, err
	}
	if acc.Status != "closed" {
		more, err := closeDemoAccount(ctx, cl, acc)
		done = append(done, more...)
		if err != nil {
			return nil, err
		}
	}
	return demoRemoved{Account: DemoAccountID, Done: done}, nil
}

func revokeDemoCredentials(ctx context.Context, cl *client.Client) ([]string, error) {
	var done []string
	users, err := cl.ListUsers(ctx, DemoAccountID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if err := cl.RemoveUser(ctx, DemoAccountID, u.Username); err != nil {
			return nil, err
		}
		done = append(done, "removed user "+u.Username)
	}
	keys, err := cl.ListAPIKeys(ctx, DemoAccountID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.RevokedAt == "" {
			if err := cl.RevokeAPIKey(ctx, DemoAccountID, k.ID); err != nil {
				return nil, err
			}
			done = append(done, "revoked API key "+k.ID)
		}
	}
	clients, err := cl.ListOAuthClients(ctx, DemoAccountID)
	if err != nil {
		return nil, err
	}
	for _, o := range clients {
		if o.RevokedAt == "" {
			if err := cl.RevokeOAuthClient(ctx, DemoAccountID, o.ClientID); err != nil {
				return nil, err
			}
			done = append(done, "revoked OAuth2 client "+o.ClientID)
		}
	}
	return done, nil
}

func closeDemoAccount(ctx context.Context, cl *client.Client, acc client.Account) ([]string, error) {
	var done []string
	bal, err := cl.AccountBalance(ctx, DemoAccountID)
	if err != nil {
		return nil, err
	}
	if bal.Held != "" && bal.Held != "0" {
		return nil, fmt.Errorf("the demo account has %s %s on hold: void its holds (purse hold void HOLD_ID) or let them expire, then run this again", bal.Held, acc.Currency)
	}
	if bal.Balance != "0" {
		back := "-" + bal.Balance
		if strings.HasPrefix(bal.Balance, "-") {
			back = strings.TrimPrefix(bal.Balance, "-")
		}
		if _, err := cl.Adjust(ctx, DemoAccountID, back, "demo account removed", ""); err != nil {
			return nil, err
		}
		done = append(done, fmt.Sprintf("booked %s %s back to the funding account", bal.Balance, acc.Currency))
	}
	closed := "closed"
	if _, err := cl.UpdateAccount(ctx, DemoAccountID, client.AccountUpdate{Status: &closed}); err != nil {
		return done, err
	}
	return append(done, "closed the account"), nil
}

func printDemoRemoved(w io.Writer, d demoRemoved) {
	if d.none {
		fmt.Fprintln(w, "no demo account: nothing to remove")
		return
	}
	for _, s := range d.Done {
		tprintf(w, "%s\n", s)
	}
	fmt.Fprintf(w, "demo account %s removed: no credential opens it; purse migrate leaves it out\n", d.Account)
}
