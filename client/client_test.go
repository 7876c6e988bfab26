package client_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/testkit"
)

func TestClientAgainstRealServer(t *testing.T) {
	s := testkit.New(t)
	ctx := context.Background()
	admin, err := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := admin.CreateAccount(ctx, "Client", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddUser(ctx, acc.ID, "Aladdin", "open sesame"); err != nil {
		t.Fatal(err)
	}
	m, err := admin.TopUp(ctx, acc.ID, "47.79134", client.TopUpOptions{Reference: "r", IdempotencyKey: "k"})
	if err != nil || m.BalanceAfter != "47.79134" || m.Amount != "47.79134" {
		t.Fatalf("TopUp = %+v, %v", m, err)
	}
	again, err := admin.TopUp(ctx, acc.ID, "47.79134", client.TopUpOptions{Reference: "r", IdempotencyKey: "k"})
	if err != nil || !reflect.DeepEqual(again, m) {
		t.Errorf("replayed TopUp = %+v, %v; want %+v", again, err, m)
	}
	key, err := admin.CreateAPIKey(ctx, acc.ID, "k", nil)
	if err != nil || key.Key == "" || len(key.Scopes) != 1 {
		t.Fatalf("CreateAPIKey = %+v, %v", key, err)
	}

	for name, opt := range map[string]client.Option{
		"basic": client.WithBasicAuth("Aladdin", "open sesame"),
		"app":   client.WithAPIKey(key.Key),
	} {
		pub, _ := client.New(s.Public.URL, opt)
		b, err := pub.Balance(ctx)
		if err != nil || b.Balance != "47.79134" || b.Currency != "EUR" {
			t.Errorf("%s: Balance = %+v, %v", name, b, err)
		}
	}

	bad, _ := client.New(s.Public.URL, client.WithBasicAuth("Aladdin", "wrong"))
	_, err = bad.Balance(ctx)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 401 || ce.MessageID != "UNAUTHORIZED" || ce.Text != "Invalid login details" {
		t.Errorf("wrong password: %#v", err)
	}
	_, err = admin.TopUp(ctx, acc.ID, "1.0000001", client.TopUpOptions{})
	if !errors.As(err, &ce) || ce.MessageID != "BAD_REQUEST" || len(ce.ValidationErrors["amount"]) == 0 {
		t.Errorf("too precise: %#v", err)
	}
	if _, err := admin.GetAccount(ctx, "acc_missing"); !client.IsMessageID(err, "NOT_FOUND") {
		t.Errorf("missing account: %v", err)
	}
	page, err := admin.ListAccounts(ctx, "", 1)
	if err != nil || len(page.Accounts) != 1 {
		t.Errorf("ListAccounts = %+v, %v", page, err)
	}
	if _, err := client.New("ftp://x"); err == nil {
		t.Error("ftp base URL accepted")
	}
}
