package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// MaxBatchBodyBytes bounds a /v1/batch body (1,000 operations with metadata).
const MaxBatchBodyBytes = 4 << 20

// batchOp is one operation of POST /v1/batch.
type batchOp struct {
	Op              string            `json:"op"` // top_up, charge, refund, adjustment, hold, capture, void, transfer
	AccountID       string            `json:"accountId"`
	From            string            `json:"from"` // a transfer's payer and payee
	To              string            `json:"to"`
	Amount          *string           `json:"amount"`
	Reference       string            `json:"reference"`
	Metadata        map[string]string `json:"metadata"`
	UseFreeMessage  bool              `json:"useFreeMessage"`
	FallbackToMoney *bool             `json:"fallbackToMoney"`
	ChargeID        string            `json:"chargeId"`
	Reason          string            `json:"reason"`
	HoldID          string            `json:"holdId"`
	ServiceType     string            `json:"serviceType"`
	ExpiresIn       json.RawMessage   `json:"expiresIn"`
}

// batchResult is one operation's outcome: its status and either what it made or
// its error, in the same shapes as the single routes.
type batchResult struct {
	Status int                       `json:"status"`
	Entry  *entryJSON                `json:"entry,omitempty"`
	Hold   *holdJSON                 `json:"hold,omitempty"`
	Error  *httpkit.ServiceException `json:"error,omitempty"`
}

func (o batchOp) command(key string, i int) (engine.Command, error) {
	v := &ledger.ValidationError{}
	opKey := key + "#" + strconv.Itoa(i)
	var cmd engine.Command
	switch o.Op {
	case "top_up":
		cmd = engine.TopUp{AccountID: o.AccountID, Amount: requiredAmount("amount", o.Amount, v), Reference: o.Reference, Metadata: o.Metadata, IdempotencyKey: opKey}
	case "charge":
		fallback := o.FallbackToMoney == nil || *o.FallbackToMoney
		cmd = engine.Charge{AccountID: o.AccountID, Amount: requiredAmount("amount", o.Amount, v), Reference: o.Reference, Metadata: o.Metadata,
			UseFreeMessage: o.UseFreeMessage, FallbackToMoney: fallback, ServiceType: o.ServiceType, IdempotencyKey: opKey}
	case "refund":
		cmd = engine.Refund{AccountID: o.AccountID, ChargeID: o.ChargeID, Amount: optionalAmount("amount", o.Amount, v), Reference: o.Reference, IdempotencyKey: opKey}
	case "adjustment":
		cmd = engine.Adjust{AccountID: o.AccountID, Amount: requiredAmount("amount", o.Amount, v), Reason: o.Reason, IdempotencyKey: opKey}
	case "hold":
		ttl, err := parseTTL(o.ExpiresIn)
		if err != nil {
			v.Add("expiresIn", err.Error())
		}
		cmd = engine.CreateHold{AccountID: o.AccountID, Amount: requiredAmount("amount", o.Amount, v), ExpiresIn: ttl, Reference: o.Reference}
	case "capture":
		cmd = engine.CaptureHold{HoldID: o.HoldID, Amount: optionalAmount("amount", o.Amount, v), IdempotencyKey: opKey}
	case "void":
		cmd = engine.VoidHold{HoldID: o.HoldID}
	case "transfer":
		cmd = engine.Transfer{From: o.From, To: o.To, Amount: requiredAmount("amount", o.Amount, v), Reference: o.Reference, IdempotencyKey: opKey}
	default:
		v.Add("op", "must be top_up, charge, refund, adjustment, hold, capture, void or transfer")
	}
	return cmd, v.Err()
}

// batch is POST /v1/batch: up to 1,000 money operations in one request and one
// commit, a result for each. With "atomic": true they are all applied or none.
func (a *API) batch(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBatchBodyBytes)
	var req batchRequest
	body, err := decodeLimit(r, &req, MaxBatchBodyBytes)
	if err == nil {
		var key, hash string
		if key, hash, err = idempotency(r, body, true); err == nil {
			a.runBatch(w, r, req.Atomic, req.Operations, key, hash)
			return
		}
	}
	a.fail(w, r, err)
}

func (a *API) runBatch(w http.ResponseWriter, r *http.Request, atomic bool, ops []batchOp, key, hash string) {
	if len(ops) == 0 || len(ops) > engine.MaxBatchOps {
		a.fail(w, r, ledger.Invalid("operations", fmt.Sprintf("must hold 1 to %d operations", engine.MaxBatchOps)))
		return
	}
	cmds := make([]engine.Command, len(ops))
	v := &ledger.ValidationError{}
	for i, op := range ops {
		cmd, err := op.command(key, i)
		var ve *ledger.ValidationError
		if errors.As(err, &ve) {
			for f, msgs := range ve.Fields {
				for _, m := range msgs {
					v.Add(fmt.Sprintf("operations[%d].%s", i, f), m)
				}
			}
		}
		cmds[i] = cmd
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err) // a malformed operation refuses the whole request
		return
	}
	a.doThen(w, r, engine.Batch{Ops: cmds, Atomic: atomic}, key, hash, http.StatusOK, renderBatch, a.batchCommitted)
}

// batchCommitted records what a committed batch did that a single route would
// have recorded: its transfers, in their sub-account's customer audit.
func (a *API) batchCommitted(v any) {
	b := v.(engine.BatchResult)
	if !b.Committed {
		return
	}
	for i, x := range b.Values {
		if t, ok := x.(engine.TransferResult); ok && b.Errs[i] == nil {
			a.transferred(t)
		}
	}
}

// renderBatch is a batch's answer without a key (every batch has one today: the
// key is required).
func renderBatch(v any) any { return batchView(engine.OutcomeOf(ledger.OpBatch, v).Batch) }

func batchView(b *ledger.BatchOutcome) batchJSON {
	out := batchJSON{Committed: b.Committed, Results: make([]batchResult, len(b.Results))}
	for i := range b.Results {
		out.Results[i] = batchElement(&b.Results[i])
	}
	return out
}
