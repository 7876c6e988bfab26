package adminapi_test

import (
	"fmt"
	"strings"
	"testing"

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
