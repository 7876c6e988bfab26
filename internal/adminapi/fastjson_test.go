package adminapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/purse-ledger/purse/internal/httpkit"
)

// TestFastJSONMatchesEncodingJSON renders many random entries and batches both
// ways: the hand-written JSON must be byte for byte encoding/json's, or stored
// idempotency records would change with the code that wrote them.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "mov_0123456789abcdefghjkmnpq", "12.345", "-0.000001", "2026-11-26T10:00:00.123456Z",
		"<b>&amp;</b>", "quote\"back\\slash", "tab\tnew\nline\x00\x1f", "é ü 中文", "\u2028\u2029", "\xff\xfe bad utf-8", "\x7f"}
	str := func() string {
		var b bytes.Buffer
		for n := rng.IntN(3); n >= 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	entry := func() entryJSON {
		e := entryJSON{ID: str(), Sequence: rng.Int64() - rng.Int64(), AccountID: str(), Kind: str(), Amount: str(),
			BalanceAfter: str(), Reference: str(), FreeMessage: rng.IntN(2) == 0, IdempotencyKey: str(), CreatedAt: str()}
		if rng.IntN(3) == 0 {
			e.ChargeID = str()
		}
		if rng.IntN(3) == 0 {
			e.HoldID = str()
		}
		if rng.IntN(3) == 0 {
			e.SubAccountID = str()
		}
		if rng.IntN(3) == 0 {
			e.CounterpartyID = str()
		}
		switch rng.IntN(3) {
		case 0:
			e.Metadata = map[string]string{str(): str(), str(): str()}
		case 1:
			e.Metadata = map[string]string{}
		}
		return e
	}
	for i := 0; i < 2000; i++ {
		e := entry()
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustJSON(e); !bytes.Equal(got, want) {
			t.Fatalf("entry %+v:\n got %s\nwant %s", e, got, want)
		}
	}
	for i := 0; i < 300; i++ {
		r := batchJSON{Committed: rng.IntN(2) == 0}
		if rng.IntN(10) > 0 {
			r.Results = []batchResult{}
		}
		for n := rng.IntN(5); n > 0; n-- {
			res := batchResult{Status: 200 + rng.IntN(300)}
			switch rng.IntN(4) {
			case 0, 1:
				e := entry()
				res.Entry = &e
			case 2:
				res.Hold = &holdJSON{ID: str(), Status: str()}
				if rng.IntN(2) == 0 {
					e := entry()
					res.Entry = &e
				}
			case 3:
				res.Error = &httpkit.ServiceException{MessageID: str(), Text: str()}
			}
			r.Results = append(r.Results, res)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustJSON(r); !bytes.Equal(got, want) {
			t.Fatalf("batch:\n got %s\nwant %s", got, want)
		}
	}
}
