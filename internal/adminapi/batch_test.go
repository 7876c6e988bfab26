package adminapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"
)

type batchResp struct {
	Committed bool
	Results   []struct {
		Status int
		Entry  *entry
		Hold   *hold
		Error  *struct{ MessageID string }
	}
}

func TestBatch(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "10")
	var ops []string
	for i := 0; i < 12; i++ {
		ops = append(ops, `{"op":"charge","accountId":"`+acc+`","amount":"1"}`)
	}
	ops = append(ops, `{"op":"top_up","accountId":"`+acc+`","amount":"0.5"}`, `{"op":"hold","accountId":"`+acc+`","amount":"0.5","expiresIn":60}`)
	body := `{"operations":[` + strings.Join(ops, ",") + `]}`
	var res batchResp
	first := s.MustAdmin(200, "POST", "/v1/batch", body, testkit.Key("b1"))
	first.JSON(t, &res)
	if !res.Committed || len(res.Results) != 14 {
		t.Fatalf("batch = %+v", res)
	}
	for i, r := range res.Results[:10] {
		if r.Status != 201 || r.Entry == nil || r.Entry.Amount != "-1" {
			t.Errorf("op %d = %+v", i, r)
		}
	}
	for i, r := range res.Results[10:12] {
		if r.Status != 402 || r.Error == nil || r.Error.MessageID != "INSUFFICIENT_FUNDS" {
			t.Errorf("op %d = %+v, want 402", 10+i, r)
		}
	}
	if r := res.Results[13]; r.Status != 201 || r.Hold == nil {
		t.Errorf("hold op = %+v", r)
	}
	if b := s.Balance(acc); b["balance"] != "0.5" || b["held"] != "0.5" {
		t.Errorf("after batch: %v", b)
	}
	// The same key replays the whole answer.
	again := s.MustAdmin(200, "POST", "/v1/batch", body, testkit.Key("b1"))
	if string(again.Body) != string(first.Body) {
		t.Errorf("replay differs")
	}
	mustCheck(t, s)
}

func TestAtomicBatchIsAllOrNothing(t *testing.T) {
	s := testkit.New(t)
	acc := funded(t, s, "3")
	before := snapshot(t, s) + fmt.Sprint(s.Balance(acc))
	body := `{"atomic":true,"operations":[{"op":"charge","accountId":"` + acc + `","amount":"2"},{"op":"charge","accountId":"` + acc + `","amount":"2"}]}`
	var res batchResp
	s.MustAdmin(200, "POST", "/v1/batch", body, testkit.Key("a1")).JSON(t, &res)
	if res.Committed || res.Results[0].Error == nil || res.Results[0].Error.MessageID != "BATCH_ABORTED" || res.Results[1].Status != 402 {
		t.Fatalf("atomic batch = %+v", res)
	}
	if after := snapshot(t, s) + fmt.Sprint(s.Balance(acc)); after != before {
		t.Errorf("a failed atomic batch changed state")
	}
	// A malformed operation refuses the whole request.
	r := s.MustAdmin(400, "POST", "/v1/batch", `{"operations":[{"op":"charge","accountId":"`+acc+`","amount":"1"},{"op":"gift"}]}`, testkit.Key("a2"))
	if !strings.Contains(string(r.Body), "operations[1].op") {
		t.Errorf("malformed op: %s", r.Body)
	}
	s.MustAdmin(400, "POST", "/v1/batch", `{"operations":[]}`, testkit.Key("a3"))
	s.MustAdmin(400, "POST", "/v1/batch", `{"operations":[{"op":"charge","accountId":"x","amount":"1"}]}`, nil)
	big := make([]string, 1001)
	for i := range big {
		big[i] = `{"op":"charge","accountId":"` + acc + `","amount":"0.000001"}`
	}
	s.MustAdmin(400, "POST", "/v1/batch", `{"operations":[`+strings.Join(big, ",")+`]}`, testkit.Key("a4"))
	if after := snapshot(t, s) + fmt.Sprint(s.Balance(acc)); after != before {
		t.Errorf("refused batches changed state")
	}
}

// TestBatchTransfers: a batch moves money between an account and its own-funded
// sub-account as POST /v1/transfers does, both ways, each result the payer's
// entry; a transfer the payer cannot fund is refused alone, or undoes an atomic
// batch; one with no payee refuses the request, naming the field; each committed
// transfer is in the sub-account's customer audit, as a single one is. On both
// stores.
func TestBatchTransfers(t *testing.T) {
	testkit.OnBothStores(t, func(t *testing.T, s *testkit.Stack) {
		main := funded(t, s, "10")
		var own struct{ ID string }
		s.MustAdmin(201, "POST", "/v1/accounts", `{"name":"own","parent":"`+main+`","funding":"own"}`, nil).JSON(t, &own)
		transfer := func(from, to, amount string) string {
			return `{"op":"transfer","from":"` + from + `","to":"` + to + `","amount":"` + amount + `","reference":"budget"}`
		}
		body := `{"operations":[` + transfer(main, own.ID, "6") + `,` + transfer(own.ID, main, "2") + `,` + transfer(own.ID, main, "5") +
			`,{"op":"charge","accountId":"` + own.ID + `","amount":"1"}]}`
		var res batchResp
		first := s.MustAdmin(200, "POST", "/v1/batch", body, testkit.Key("bt1"))
		first.JSON(t, &res)
		if !res.Committed || len(res.Results) != 4 {
			t.Fatalf("batch = %+v", res)
		}
		for i, want := range []struct{ account, amount string }{{main, "-6"}, {own.ID, "-2"}} {
			r := res.Results[i]
			if r.Status != 201 || r.Entry == nil || r.Entry.AccountID != want.account || r.Entry.Amount != want.amount || r.Entry.Kind != "transfer" {
				t.Errorf("transfer %d = %+v (entry %+v), want 201 and %s's entry of %s", i, r, r.Entry, want.account, want.amount)
			}
		}
		if r := res.Results[2]; r.Status != 402 || r.Error == nil || r.Error.MessageID != "INSUFFICIENT_FUNDS" {
			t.Errorf("a transfer of 5 from 4 = %+v, want 402", r)
		}
		if r := res.Results[3]; r.Status != 201 {
			t.Errorf("the sub-account's charge after the transfers = %+v", r)
		}
		if m, o := s.Balance(main)["balance"], s.Balance(own.ID)["balance"]; m != "6" || o != "3" {
			t.Errorf("main %s, own %s; want 6 and 3", m, o)
		}
		again := s.MustAdmin(200, "POST", "/v1/batch", body, testkit.Key("bt1"))
		if string(again.Body) != string(first.Body) {
			t.Errorf("replay differs:\n%s\n%s", first.Body, again.Body)
		}
		if m, o := s.Balance(main)["balance"], s.Balance(own.ID)["balance"]; m != "6" || o != "3" {
			t.Errorf("after the replay: main %s, own %s; want 6 and 3 (moved once)", m, o)
		}
		before := snapshot(t, s)
		s.MustAdmin(200, "POST", "/v1/batch", `{"atomic":true,"operations":[`+transfer(main, own.ID, "1")+`,`+transfer(own.ID, main, "100")+`]}`,
			testkit.Key("bt2")).JSON(t, &res)
		if res.Committed || res.Results[0].Error == nil || res.Results[0].Error.MessageID != "BATCH_ABORTED" || res.Results[1].Status != 402 {
			t.Errorf("atomic batch with an unfunded transfer = %+v", res)
		}
		// As a charge without accountId: the operation's own 400, naming the field.
		r := s.MustAdmin(200, "POST", "/v1/batch", `{"operations":[{"op":"transfer","from":"`+main+`","amount":"1"},{"op":"charge","amount":"1"}]}`, testkit.Key("bt3"))
		if !strings.Contains(string(r.Body), `{"status":400,"error":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"to":["is required"]}}}`) {
			t.Errorf("a transfer without to: %s", r.Body)
		}
		r = s.MustAdmin(400, "POST", "/v1/batch", `{"operations":[{"op":"transfer","from":"`+main+`","to":"`+own.ID+`"}]}`, testkit.Key("bt4"))
		if !strings.Contains(string(r.Body), "operations[0].amount") {
			t.Errorf("a transfer without an amount: %s", r.Body)
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("refused batches changed state")
		}
		if err := s.Audit.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs, err := s.Ledger.ListCustomerAudit(context.Background(), ledger.CustomerAuditFilter{Account: own.ID, Description: "transfer of", Limit: 10})
		if err != nil || len(recs) != 2 {
			t.Errorf("the sub-account's audit holds %d transfers (%v), want the batch's 2 committed: %+v", len(recs), err, recs)
		}
		mustCheck(t, s)
	})
}
