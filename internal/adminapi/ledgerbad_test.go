package adminapi_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestLedgerBadInputsChangeNothing sends money requests that must be refused and
// proves, with the balances and every entry read before and after, that each
// changed nothing.
func TestLedgerBadInputsChangeNothing(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	s := testkit.Open(t, filepath.Join(t.TempDir(), "p.db"), testkit.Options{Now: clock.Now})
	acc := funded(t, s, "10")
	other := funded(t, s, "10")
	sleepy := funded(t, s, "10")
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+sleepy, `{"status":"suspended"}`, nil)
	var topUp, charge, otherCharge entry
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("t")).JSON(t, &topUp)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/charges", `{"amount":"2"}`, testkit.Key("c")).JSON(t, &charge)
	s.MustAdmin(201, "POST", "/v1/accounts/"+other+"/charges", `{"amount":"2"}`, testkit.Key("oc")).JSON(t, &otherCharge)
	var active, expired, voided hold
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1","expiresIn":3600}`, testkit.Key("ha")).JSON(t, &active)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1","expiresIn":1}`, testkit.Key("he")).JSON(t, &expired)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/holds", `{"amount":"1","expiresIn":60}`, testkit.Key("hv")).JSON(t, &voided)
	s.MustAdmin(200, "POST", "/v1/holds/"+voided.ID+"/void", "", nil)
	clock.Advance(2 * time.Second)
	for deadline := time.Now().Add(5 * time.Second); s.Balance(acc)["held"] != "1"; {
		if time.Now().After(deadline) {
			t.Fatalf("the short hold never expired: %v", s.Balance(acc))
		}
		time.Sleep(5 * time.Millisecond) // the ticker expires the short hold
	}

	bigMeta := map[string]string{}
	for i := 0; i < 21; i++ {
		bigMeta[fmt.Sprint("k", i)] = "v"
	}
	meta, _ := json.Marshal(bigMeta)
	charges := "/v1/accounts/" + acc + "/charges"
	refunds := "/v1/accounts/" + acc + "/refunds"
	holds := "/v1/accounts/" + acc + "/holds"
	k := testkit.Key
	tests := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		messageID, field         string
	}{
		{"zero charge", "POST", charges, `{"amount":"0"}`, k("b1"), 400, "BAD_REQUEST", "amount"},
		{"negative charge", "POST", charges, `{"amount":"-1"}`, k("b2"), 400, "BAD_REQUEST", "amount"},
		{"too precise charge", "POST", charges, `{"amount":"0.0000005"}`, k("b3"), 400, "BAD_REQUEST", "amount"},
		{"overflowing charge", "POST", charges, `{"amount":"9223372036854.775808"}`, k("b4"), 400, "BAD_REQUEST", "amount"},
		{"charge without Idempotency-Key", "POST", charges, `{"amount":"1"}`, nil, 400, "BAD_REQUEST", "Idempotency-Key"},
		{"charge above available", "POST", charges, `{"amount":"8.000001"}`, k("b5"), 402, "INSUFFICIENT_FUNDS", ""},
		{"oversized metadata", "POST", charges, `{"amount":"1","metadata":` + string(meta) + `}`, k("b6"), 400, "BAD_REQUEST", "metadata"},
		{"metadata value too long", "POST", charges, `{"amount":"1","metadata":{"a":"` + strings.Repeat("x", 513) + `"}}`, k("b7"), 400, "BAD_REQUEST", "metadata"},
		{"metadata not strings", "POST", charges, `{"amount":"1","metadata":{"a":1}}`, k("b8"), 400, "BAD_REQUEST", "metadata"},
		{"reference too long", "POST", charges, `{"amount":"1","reference":"` + strings.Repeat("r", 201) + `"}`, k("b9"), 400, "BAD_REQUEST", "reference"},
		{"charge suspended account", "POST", "/v1/accounts/" + sleepy + "/charges", `{"amount":"1"}`, k("b10"), 409, "ACCOUNT_NOT_ACTIVE", ""},
		{"charge unknown account", "POST", "/v1/accounts/acc_x/charges", `{"amount":"1"}`, k("b11"), 404, "NOT_FOUND", ""},
		{"refund of a top-up", "POST", refunds, `{"chargeId":"` + topUp.ID + `"}`, k("b12"), 409, "NOT_A_CHARGE", ""},
		{"refund of unknown charge", "POST", refunds, `{"chargeId":"mov_nope"}`, k("b13"), 404, "NOT_FOUND", ""},
		{"refund beyond the charge", "POST", refunds, `{"chargeId":"` + charge.ID + `","amount":"2.000001"}`, k("b14"), 409, "REFUND_EXCEEDS_CHARGE", ""},
		{"refund without chargeId", "POST", refunds, `{"amount":"1"}`, k("b15"), 400, "BAD_REQUEST", "chargeId"},
		{"zero refund", "POST", refunds, `{"chargeId":"` + charge.ID + `","amount":"0"}`, k("b16"), 400, "BAD_REQUEST", "amount"},
		{"refund of another account's charge", "POST", refunds, `{"chargeId":"` + otherCharge.ID + `"}`, k("b17"), 404, "NOT_FOUND", ""},
		{"adjustment without reason", "POST", "/v1/accounts/" + acc + "/adjustments", `{"amount":"1"}`, k("b18"), 400, "BAD_REQUEST", "reason"},
		{"zero adjustment", "POST", "/v1/accounts/" + acc + "/adjustments", `{"amount":"0","reason":"x"}`, k("b19"), 400, "BAD_REQUEST", "amount"},
		{"zero hold", "POST", holds, `{"amount":"0"}`, k("b20"), 400, "BAD_REQUEST", "amount"},
		{"hold expiring at once", "POST", holds, `{"amount":"1","expiresIn":0}`, k("b21"), 400, "BAD_REQUEST", "expiresIn"},
		{"hold with unreadable expiry", "POST", holds, `{"amount":"1","expiresIn":"soon"}`, k("b22"), 400, "BAD_REQUEST", "expiresIn"},
		{"hold for a year", "POST", holds, `{"amount":"1","expiresIn":"8760h"}`, k("b23"), 400, "BAD_REQUEST", "expiresIn"},
		{"hold above available", "POST", holds, `{"amount":"8.000001"}`, k("b24"), 402, "INSUFFICIENT_FUNDS", ""},
		{"capture unknown hold", "POST", "/v1/holds/hold_nope/capture", "", k("b25"), 404, "NOT_FOUND", ""},
		{"capture above the hold", "POST", "/v1/holds/" + active.ID + "/capture", `{"amount":"1.5"}`, k("b26"), 400, "BAD_REQUEST", "amount"},
		{"capture zero", "POST", "/v1/holds/" + active.ID + "/capture", `{"amount":"0"}`, k("b27"), 400, "BAD_REQUEST", "amount"},
		{"capture after expiry", "POST", "/v1/holds/" + expired.ID + "/capture", "", k("b28"), 409, "HOLD_EXPIRED", ""},
		{"capture of a voided hold", "POST", "/v1/holds/" + voided.ID + "/capture", "", k("b29"), 409, "HOLD_VOIDED", ""},
		{"void of an expired hold", "POST", "/v1/holds/" + expired.ID + "/void", "", nil, 409, "HOLD_EXPIRED", ""},
		{"capture without Idempotency-Key", "POST", "/v1/holds/" + active.ID + "/capture", "", nil, 400, "BAD_REQUEST", "Idempotency-Key"},
		{"capture with bad JSON", "POST", "/v1/holds/" + active.ID + "/capture", `{"amount":`, k("b30"), 400, "BAD_REQUEST", "body"},
		{"unknown hold", "GET", "/v1/holds/hold_nope", "", nil, 404, "NOT_FOUND", ""},
		{"malformed entries cursor", "GET", "/v1/accounts/" + acc + "/entries?cursor=bm9wZQ", "", nil, 400, "BAD_REQUEST", "cursor"},
		{"unknown entry kind", "GET", "/v1/accounts/" + acc + "/entries?kind=gift", "", nil, 400, "BAD_REQUEST", "kind"},
		{"from after to", "GET", "/v1/accounts/" + acc + "/entries?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "", nil, 400, "BAD_REQUEST", "to"},
		{"unreadable from", "GET", "/v1/accounts/" + acc + "/entries?from=yesterday", "", nil, 400, "BAD_REQUEST", "from"},
		{"balance at in the future", "GET", "/v1/accounts/" + acc + "/balance?at=2026-11-27T00:00:00Z", "", nil, 400, "BAD_REQUEST", "at"},
		{"balance at unreadable", "GET", "/v1/accounts/" + acc + "/balance?at=noon", "", nil, 400, "BAD_REQUEST", "at"},
		{"negative allowedMinus", "PATCH", "/v1/accounts/" + acc, `{"allowedMinus":"-1"}`, nil, 400, "BAD_REQUEST", "allowedMinus"},
		{"monthlyLimit as number", "PATCH", "/v1/accounts/" + acc, `{"monthlyLimit":100}`, nil, 400, "BAD_REQUEST", "monthlyLimit"},
		{"negative free messages", "PATCH", "/v1/accounts/" + acc, `{"freeMessages":-1}`, nil, 400, "BAD_REQUEST", "freeMessages"},
		{"free messages as string", "PATCH", "/v1/accounts/" + acc, `{"freeMessages":"3"}`, nil, 400, "BAD_REQUEST", "freeMessages"},
		{"close with money and holds", "PATCH", "/v1/accounts/" + acc, `{"status":"closed"}`, nil, 409, "CONFLICT", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, s) + fmt.Sprint(s.Balance(acc), s.Balance(other), s.Balance(sleepy))
			r := s.AdminDo(tt.method, tt.path, tt.body, tt.headers)
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			var env envelope
			r.JSON(t, &env)
			ex := env.RequestError.ServiceException
			if ex.MessageID != tt.messageID || ex.Text == "" {
				t.Errorf("envelope = %+v, want messageId %s", ex, tt.messageID)
			}
			if tt.field != "" && len(ex.ValidationErrors[tt.field]) == 0 {
				t.Errorf("validationErrors = %v, want an entry for %q", ex.ValidationErrors, tt.field)
			}
			after := snapshot(t, s) + fmt.Sprint(s.Balance(acc), s.Balance(other), s.Balance(sleepy))
			if diff := cmp.Diff(after, before); diff != "" {
				t.Errorf("state changed (-after +before):\n%s", diff)
			}
		})
	}
	mustCheck(t, s)
}
