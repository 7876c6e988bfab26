package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/app"
)

// ExampleClient_Balance reads a balance over Infobip's public API, with the Basic
// login of the example account that purse serve --demo seeds.
func ExampleClient_Balance() {
	p := startPurse()
	defer p.stop()

	c, err := client.New(p.publicURL, client.WithBasicAuth("Aladdin", "open sesame"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := c.Balance(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Balance, b.Currency)
	// Output: 47.79134 EUR
}

// ExampleClient_Charge charges an account with an Idempotency-Key. Keep the key
// with the work the charge pays for: sent again (after a timeout, say), the same
// key returns the first charge's entry instead of charging twice.
func ExampleClient_Charge() {
	p := startPurse()
	defer p.stop()
	ctx := context.Background()
	c, err := client.New(p.adminURL, client.WithAdminToken(p.adminToken))
	if err != nil {
		log.Fatal(err)
	}
	acc, err := c.CreateAccount(ctx, "Acme", "EUR")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.TopUp(ctx, acc.ID, "10", client.TopUpOptions{}); err != nil {
		log.Fatal(err)
	}

	key := client.NewIdempotencyKey()
	first, err := c.Charge(ctx, acc.ID, "0.25", client.ChargeOptions{Reference: "SMS to +41...", IdempotencyKey: key})
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.Charge(ctx, acc.ID, "0.25", client.ChargeOptions{Reference: "SMS to +41...", IdempotencyKey: key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Kind, first.Amount, "balance", first.BalanceAfter)
	fmt.Println("same charge:", again.ID == first.ID, "balance", again.BalanceAfter)
	// Output:
	// charge -0.25 balance 9.75
	// same charge: true balance 9.75
}

// ExampleClient_CaptureHold reserves funds for work in flight, then charges what
// the work cost and releases the rest.
func ExampleClient_CaptureHold() {
	p := startPurse()
	defer p.stop()
	ctx := context.Background()
	c, err := client.New(p.adminURL, client.WithAdminToken(p.adminToken))
	if err != nil {
		log.Fatal(err)
	}
	acc, err := c.CreateAccount(ctx, "Acme", "EUR")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.TopUp(ctx, acc.ID, "10", client.TopUpOptions{}); err != nil {
		log.Fatal(err)
	}

	hold, err := c.CreateHold(ctx, acc.ID, "5", 0, "campaign 7", "") // "": the client makes a key
	if err != nil {
		log.Fatal(err)
	}
	bal, err := c.AccountBalance(ctx, acc.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("held", bal.Held, "available", bal.Available)
	done, err := c.CaptureHold(ctx, hold.ID, "3.5", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Hold.Status, done.Hold.Captured, "balance", done.Entry.BalanceAfter)
	// Output:
	// held 5 available 5
	// captured 3.5 balance 6.5
}

// ExampleError tells purse's refusals apart with errors.As. A refused charge
// changes nothing; sent again with its Idempotency-Key, it is refused again with
// the first answer (Replayed), so a retry never turns into a charge later.
func ExampleError() {
	p := startPurse()
	defer p.stop()
	ctx := context.Background()
	c, err := client.New(p.adminURL, client.WithAdminToken(p.adminToken))
	if err != nil {
		log.Fatal(err)
	}
	acc, err := c.CreateAccount(ctx, "Acme", "EUR")
	if err != nil {
		log.Fatal(err)
	}

	opts := client.ChargeOptions{IdempotencyKey: client.NewIdempotencyKey()}
	for range 2 {
		_, err = c.Charge(ctx, acc.ID, "1", opts)
		var e *client.Error
		if errors.As(err, &e) {
			fmt.Println(e.StatusCode, e.MessageID, "replayed:", e.Replayed)
		}
	}
	// Output:
	// 402 INSUFFICIENT_FUNDS replayed: false
	// 402 INSUFFICIENT_FUNDS replayed: true
}

// examplePurse is a purse for one example: internal/app, the assembly purse serve
// runs, on loopback ports and a store in a temp directory.
type examplePurse struct {
	publicURL, adminURL, adminToken string
	stop                            func()
}

// startPurse starts a purse with the demo account seeded.
func startPurse() examplePurse {
	dir, err := os.MkdirTemp("", "purse-example")
	if err != nil {
		log.Fatal(err)
	}
	token := "example-admin-token-" + client.NewIdempotencyKey()
	a, err := app.New(context.Background(), app.Config{DB: filepath.Join(dir, "purse.db"), AdminToken: token, Demo: true})
	if err != nil {
		log.Fatal(err)
	}
	public, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Start(public, admin); err != nil {
		log.Fatal(err)
	}
	return examplePurse{
		publicURL: "http://" + public.Addr().String(), adminURL: "http://" + admin.Addr().String(), adminToken: token,
		stop: func() { a.Close(); os.RemoveAll(dir) },
	}
}
