package adminapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Outcomes at the edge. A request made with an Idempotency-Key is answered by
// rendering its outcome, the first time and on every replay alike, so the two
// cannot differ. version is the codec format the outcome was stored in (0: made
// now): a change to the JSON of new answers must keep rendering older versions as
// they were rendered, and TestFixtureOutcomesReplay pins every byte of version 1.

var errDamagedOutcome = errors.New("stored outcome lacks the part its op needs")

// renderOutcome returns the status and body that answer o. A nil body is 204.
func renderOutcome(o *ledger.Outcome, version int) (int, []byte, error) {
	_ = version // one rendering so far: version 1 is this purse's
	if f := o.Refusal; f != nil {
		status, ex := statusOf(f.Err())
		return status, httpkit.EncodeError(httpkit.JSON, ex), nil
	}
	status, body, ok := renderMovement(o)
	if !ok {
		status, body, ok = renderSetup(o)
	}
	if !ok {
		return 0, nil, fmt.Errorf("%w: op %q", errDamagedOutcome, o.Op)
	}
	return status, body, nil
}

// renderMovement renders the outcome of an operation that moves or holds money,
// or of a batch of them. ok is false for any other operation, or when the outcome
// lacks the part its operation needs.
func renderMovement(o *ledger.Outcome) (status int, body []byte, ok bool) {
	switch o.Op {
	case ledger.OpTopUp, ledger.OpCharge, ledger.OpRefund, ledger.OpAdjust:
		if o.Entry != nil {
			return http.StatusCreated, mustJSON(toEntryJSON(*o.Entry)), true
		}
	case ledger.OpHold, ledger.OpVoid:
		if o.Hold != nil {
			status := http.StatusOK
			if o.Op == ledger.OpHold {
				status = http.StatusCreated
			}
			return status, mustJSON(toHoldJSON(*o.Hold)), true
		}
	case ledger.OpCapture:
		if o.Hold != nil && o.Entry != nil {
			return http.StatusOK, mustJSON(captureJSON{Hold: toHoldJSON(*o.Hold), Entry: toEntryJSON(*o.Entry)}), true
		}
	case ledger.OpBatch:
		if o.Batch != nil {
			return http.StatusOK, mustJSON(batchView(o.Batch)), true
		}
	case ledger.OpTransfer:
		if o.Entry != nil {
			return http.StatusCreated, mustJSON(toTransferJSON(*o.Entry)), true
		}
	}
	return 0, nil, false
}

// renderSetup renders the outcome of an operation on an account or a credential.
// ok is false for any other operation, or when the outcome lacks the part its
// operation needs.
func renderSetup(o *ledger.Outcome) (status int, body []byte, ok bool) {
	switch o.Op {
	case ledger.OpCreateAccount, ledger.OpUpdateAccount, ledger.OpUpdateSubAccount:
		if o.Account != nil {
			status := http.StatusOK
			if o.Op == ledger.OpCreateAccount {
				status = http.StatusCreated
			}
			return status, mustJSON(toAccountJSON(*o.Account)), true
		}
	case ledger.OpAddUser:
		if o.User != nil {
			return http.StatusCreated, mustJSON(userView(*o.User)), true
		}
	case ledger.OpCreateAPIKey, ledger.OpCreateOAuthClient:
		if o.APIKey != nil { // the secret is never stored
			kind := apiKeys
			if o.Op == ledger.OpCreateOAuthClient {
				kind = oauthClients
			}
			return http.StatusCreated, mustJSON(kind.view(*o.APIKey, "")), true
		}
	case ledger.OpUpdateAPIKey:
		if o.APIKey != nil {
			return http.StatusOK, mustJSON(toAPIKeyJSON(*o.APIKey, "")), true
		}
	case ledger.OpRemoveUser, ledger.OpRevokeAPIKey, ledger.OpRevokeOAuthClient:
		return http.StatusNoContent, nil, true
	}
	return 0, nil, false
}

// batchElement is the result of one operation of a batch.
func batchElement(o *ledger.Outcome) batchResult {
	if f := o.Refusal; f != nil {
		status, ex := statusOf(f.Err())
		if f.Code == ledger.RefusedBatchAborted {
			status, ex = http.StatusConflict, httpkit.ServiceException{MessageID: "BATCH_ABORTED", Text: capitalise(ledger.ErrBatchAborted.Error())}
		}
		return batchResult{Status: status, Error: &ex}
	}
	var out batchResult
	if o.Entry != nil {
		e := toEntryJSON(*o.Entry)
		out.Status, out.Entry = http.StatusCreated, &e
	}
	if o.Hold != nil {
		h := toHoldJSON(*o.Hold)
		out.Status, out.Hold = http.StatusOK, &h
		if o.Op == ledger.OpHold {
			out.Status = http.StatusCreated
		}
	}
	return out
}

// answer writes the answer to a request made with an Idempotency-Key: its
// outcome, or a record stored before outcomes existed, as it was stored.
func (a *API) answer(w http.ResponseWriter, r *http.Request, o *ledger.Outcome, version int, replayed bool, legacy *ledger.IdempotencyRecord) {
	var status int
	var body []byte
	var err error
	if legacy != nil {
		status = legacy.Status
		body, err = expandRecord(legacy.Body)
	} else {
		status, body, err = renderOutcome(o, version)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if len(body) == 0 && status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// answerRecord answers from a record read from the store.
func (a *API) answerRecord(w http.ResponseWriter, r *http.Request, rec *ledger.IdempotencyRecord) {
	if !codec.IsOutcome(rec) {
		a.answer(w, r, nil, 0, true, rec)
		return
	}
	o, version, err := codec.DecodeOutcome(rec.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.answer(w, r, &o, version, true, nil)
}
