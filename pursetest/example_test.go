package pursetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/pursetest"
)

// readBalance is the code under test: it reads an Infobip account balance, as a
// customer's own code would, from baseURL (https://xxxxx.api.infobip.com in
// production).
func readBalance(baseURL, username, password string) (balance json.Number, currency string, err error) {
	req, err := http.NewRequest("GET", baseURL+"/account/1/balance", nil)
	if err != nil {
		return "", "", err
	}
	req.SetBasicAuth(username, password)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("balance: %s", resp.Status)
	}
	var b struct {
		Balance  json.Number `json:"balance"`
		Currency string      `json:"currency"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber() // the exact digits, not a float64
	if err := dec.Decode(&b); err != nil {
		return "", "", err
	}
	return b.Balance, b.Currency, nil
}

// Example tests code that reads an Infobip balance against a purse. In a test,
// pursetest.New(t) replaces Start and the deferred Close, and srv.Account(t, ...)
// fails the test instead of returning an error.
func Example() {
	srv, err := pursetest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	acc, err := srv.CreateAccount(context.Background(), pursetest.AccountSpec{
		Currency: "EUR", Balance: "47.79134", Username: "Aladdin", Password: "open sesame"})
	if err != nil {
		log.Fatal(err)
	}

	balance, currency, err := readBalance(srv.PublicURL, acc.Username, acc.Password)
	fmt.Println(balance, currency, err)

	// purse keeps state: a charge made through the admin API shows in the next read.
	if _, err := srv.Admin.Charge(context.Background(), acc.ID, "0.5", client.ChargeOptions{Reference: "SMS"}); err != nil {
		log.Fatal(err)
	}
	balance, currency, err = readBalance(srv.PublicURL, acc.Username, acc.Password)
	fmt.Println(balance, currency, err)

	_, _, err = readBalance(srv.PublicURL, acc.Username, "wrong")
	fmt.Println(err)
	// Output:
	// 47.79134 EUR <nil>
	// 47.29134 EUR <nil>
	// balance: 401 Unauthorized
}
