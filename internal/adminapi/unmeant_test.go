package adminapi_test

import (
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestBatchOperationTextIsChecked: a control character in one operation's
// reference is that operation's 400 (as every rule of the ledger is, in a batch),
// naming the field; the others commit.
func TestBatchOperationTextIsChecked(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Main", "EUR")
	var got struct {
		Results []struct {
			Status int
			Error  *struct{ ValidationErrors map[string][]string }
		}
	}
	s.MustAdmin(200, "POST", "/v1/batch", `{"operations":[`+
		`{"op":"top_up","accountId":"`+acc+`","amount":"2","reference":"fine"},`+
		`{"op":"top_up","accountId":"`+acc+`","amount":"3","reference":"a\tb"},`+
		`{"op":"top_up","accountId":"`+acc+`","amount":"5","metadata":{"k":"\u001b[31m"}}]}`, testkit.Key("b1")).JSON(t, &got)
	if len(got.Results) != 3 || got.Results[0].Status != 201 || got.Results[1].Status != 400 || got.Results[2].Status != 400 {
		t.Fatalf("results = %+v, want 201, 400, 400", got.Results)
	}
	if e := got.Results[1].Error; e == nil || len(e.ValidationErrors["reference"]) == 0 {
		t.Errorf("results[1].error = %+v, want one naming reference", e)
	}
	if e := got.Results[2].Error; e == nil || len(e.ValidationErrors["metadata"]) == 0 {
		t.Errorf("results[2].error = %+v, want one naming metadata", e)
	}
	if b := s.Balance(acc)["balance"]; b != "2" {
		t.Errorf("balance = %v, want 2", b)
	}
}
