package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// DemoAccountID is the account Config.Demo seeds: the example account of Infobip's
// "Get account balance" documentation. purse demo remove closes it (it is
// internal/cli's DemoAccountID too; a test in cmd/purse holds them equal).
const DemoAccountID = "acc_demo"

// The rest of the documentation's example.
const (
	demoUser     = "Aladdin"
	demoPassword = "open sesame"
	demoBalance  = "47.79134"
	demoCurrency = "EUR"
)

// seedDemo makes sure, idempotently, that the documented example account exists
// with its Basic user and a balance of exactly 47.79134 EUR, so the documentation's
// curl line prints the documented response. A balance below that is topped up to
// it at start; a higher one is left alone and logged (purse never removes money
// without a movement the operator asked for).
func seedDemo(ctx context.Context, eng *engine.Engine, authn *auth.Authenticator, store ledger.Demo, log *slog.Logger) error {
	if _, ok := eng.Account(DemoAccountID); !ok {
		_, err := eng.Do(ctx, engine.CreateAccount{ID: DemoAccountID, Name: "Infobip documentation example", Currency: demoCurrency}, nil)
		var c *ledger.ConflictError
		if err != nil && !errors.As(err, &c) { // another node may have made it first
			return err
		}
	}
	// Marked before its user exists: a store never holds the published password
	// on an account it does not know to be a demo.
	if err := store.MarkDemo(ctx, DemoAccountID); err != nil {
		return err
	}
	acc, _ := eng.Account(DemoAccountID)
	if acc.Status == ledger.StatusClosed {
		// purse demo remove closed it; a closed account never opens again.
		log.Warn("the demo account was removed from this store (closed); --demo leaves it so: use a new database for the demo",
			"account", DemoAccountID)
		return nil
	}
	if acc.Status != ledger.StatusActive {
		st := ledger.StatusActive
		if _, err := eng.Do(ctx, engine.UpdateAccount{ID: DemoAccountID, Status: &st}, nil); err != nil {
			return err
		}
	}
	want := ledger.MustParseAmount(demoBalance)
	if acc.Balance < want {
		diff, _ := want.Sub(acc.Balance)
		key := fmt.Sprintf("demo-seed-%d", acc.Seq) // one top-up per state of the account
		if _, err := eng.Do(ctx, engine.TopUp{AccountID: DemoAccountID, Amount: diff, Reference: "demo seed", IdempotencyKey: key},
			&engine.Idempotency{Key: "internal:" + key, RequestHash: key}); err != nil {
			return err
		}
	} else if acc.Balance > want {
		log.Warn("demo account holds more than the documented balance; left as is", "balance", acc.Balance.String())
	}
	u, err := authn.Users(ctx, DemoAccountID)
	if err != nil {
		return err
	}
	for _, x := range u {
		if x.Username == demoUser {
			return nil
		}
	}
	if _, err := authn.AddUser(ctx, DemoAccountID, demoUser, demoPassword, nil); err != nil {
		var c *ledger.ConflictError
		if errors.As(err, &c) {
			log.Warn("demo user name is taken by another account; demo login will not work", "username", demoUser)
			return nil
		}
		return err
	}
	log.Info("demo account ready", "account", DemoAccountID, "user", demoUser, "balance", demoBalance, "currency", demoCurrency)
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
