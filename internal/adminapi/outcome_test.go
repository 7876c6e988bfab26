package adminapi

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestBatchOutcomeReplaysTheResponse: a batch's stored outcome renders to exactly
// the bytes its first response had, for every kind of result.
func TestBatchOutcomeReplaysTheResponse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"", "x", "mov_0123456789abcdefghjkmnpq", "<&>", "quote\"", "é中", "\xff", "\u2028", "tab\t"}
	str := func() string { return pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))] }
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	entry := func() ledger.Entry {
		e := ledger.Entry{Seq: rng.Int64N(1 << 50), MovementID: str(), AccountID: str(),
			Kind:   []ledger.EntryKind{ledger.EntryCharge, ledger.EntryRefund, ledger.EntryCapture, ledger.EntryTopUp}[rng.IntN(4)],
			Amount: ledger.Amount(rng.Int64() - rng.Int64()), BalanceAfter: ledger.Amount(rng.Int64N(1 << 60)), Reference: str(),
			RelatedID: str(), FreeMessage: rng.IntN(2) == 0, IdempotencyKey: str(),
			CreatedAt: at.Add(time.Duration(rng.Int64N(int64(1000*time.Hour))) / time.Microsecond * time.Microsecond)} // as a batch's clock
		if rng.IntN(3) == 0 {
			utf8 := func() string { return strings.ToValidUTF8(str(), "?") } // metadata is validated UTF-8
			e.Metadata = map[string]string{utf8(): utf8(), "k": utf8()}
		}
		return e
	}
	errs := []error{
		ledger.Refuse(ledger.ErrInsufficientFunds, "available %s, asked %s", ledger.Amount(1), ledger.Amount(2)),
		&ledger.NotFoundError{What: "account", ID: "acc_<x>"},
		ledger.Invalid("amount", "must be greater than 0"),
		engine.ErrBatchAborted,
	}
	for i := 0; i < 500; i++ {
		res := engine.BatchResult{Committed: rng.IntN(2) == 0}
		ops := []ledger.Op{ledger.OpCharge, ledger.OpTopUp, ledger.OpHold, ledger.OpCapture, ledger.OpVoid}
		for n := 1 + rng.IntN(6); n > 0; n-- {
			var v any
			var err error
			switch rng.IntN(5) {
			case 0, 1:
				v = entry()
			case 2:
				v = ledger.Hold{ID: str(), AccountID: str(), Amount: 5, Status: ledger.HoldActive, ExpiresAt: at, CreatedAt: at, UpdatedAt: at}
			case 3:
				v = engine.CaptureResult{Entry: entry(), Hold: ledger.Hold{ID: str(), Status: ledger.HoldCaptured}}
			case 4:
				err = errs[rng.IntN(len(errs))]
			}
			res.Ops, res.Values, res.Errs = append(res.Ops, ops[rng.IntN(len(ops))]), append(res.Values, v), append(res.Errs, err)
		}
		want := mustJSON(renderBatch(res))
		record := codec.EncodeOutcome(engine.OutcomeOf(ledger.OpBatch, res))
		o, version, err := codec.DecodeOutcome(record)
		if err != nil {
			t.Fatal(err)
		}
		status, got, err := renderOutcome(&o, version)
		if err != nil || status != 200 {
			t.Fatal(status, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("replay differs:\n got %s\nwant %s", got, want)
		}
		// Damaged records are refused, never misread.
		for cut := 3; cut < len(record); cut += 1 + len(record)/7 {
			if _, _, err := codec.DecodeOutcome(record[:cut]); !errors.Is(err, codec.ErrBadOutcome) {
				t.Fatalf("record cut to %d of %d bytes: err = %v", cut, len(record), err)
			}
		}
	}
}
