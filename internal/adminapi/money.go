package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Money movements: each needs an Idempotency-Key, and each goes through the engine
// so its effect and its idempotency record commit together.

func renderEntry(v any) any { return toEntryJSON(v.(ledger.Entry)) }

// movementRequest decodes the body, reads the required Idempotency-Key, and checks
// the account exists, in that order of cheapness.
func (a *API) movementRequest(w http.ResponseWriter, r *http.Request, dst any) (key, hash string, ok bool) {
	body, err := decode(r, dst)
	if err == nil {
		key, hash, err = idempotency(r, body, true)
	}
	if err != nil {
		a.fail(w, r, err)
		return "", "", false
	}
	return key, hash, true
}

func optionalAmount(field string, s *string, v *ledger.ValidationError) *ledger.Amount {
	if s == nil {
		return nil
	}
	amt, err := ledger.ParseAmount(*s)
	if err != nil {
		v.Add(field, err.Error())
		return nil
	}
	return &amt
}

func requiredAmount(field string, s *string, v *ledger.ValidationError) ledger.Amount {
	if s == nil {
		v.Add(field, `is required, as a decimal string such as "12.345"`)
		return 0
	}
	if amt := optionalAmount(field, s, v); amt != nil {
		return *amt
	}
	return 0
}

func (a *API) topUp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount    *string           `json:"amount"`
		Reference string            `json:"reference"`
		Metadata  map[string]string `json:"metadata"`
	}
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := requiredAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.TopUp{AccountID: r.PathValue("id"), Amount: amt, Reference: req.Reference, Metadata: req.Metadata, IdempotencyKey: key},
		key, hash, http.StatusCreated, renderEntry)
}

// transfer moves money between an account and its own-funded sub-account.
func (a *API) transfer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		From      string  `json:"from"`
		To        string  `json:"to"`
		Amount    *string `json:"amount"`
		Reference string  `json:"reference"`
	}
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := requiredAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.doThen(w, r, engine.Transfer{From: req.From, To: req.To, Amount: amt, Reference: req.Reference, IdempotencyKey: key},
		key, hash, http.StatusCreated, func(v any) any { return toTransferJSON(v.(engine.TransferResult).From) }, a.transferred)
}

func (a *API) charge(w http.ResponseWriter, r *http.Request) {
	var req chargeRequest
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := requiredAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	fallback := req.FallbackToMoney == nil || *req.FallbackToMoney
	a.do(w, r, engine.Charge{AccountID: r.PathValue("id"), Amount: amt, Reference: req.Reference, Metadata: req.Metadata,
		UseFreeMessage: req.UseFreeMessage, FallbackToMoney: fallback, ServiceType: req.ServiceType, IdempotencyKey: key},
		key, hash, http.StatusCreated, renderEntry)
}

func (a *API) refund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ChargeID  string  `json:"chargeId"`
		Amount    *string `json:"amount"`
		Reference string  `json:"reference"`
	}
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := optionalAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.Refund{AccountID: r.PathValue("id"), ChargeID: req.ChargeID, Amount: amt, Reference: req.Reference, IdempotencyKey: key},
		key, hash, http.StatusCreated, renderEntry)
}

func (a *API) adjust(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount *string `json:"amount"`
		Reason string  `json:"reason"`
	}
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := requiredAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.Adjust{AccountID: r.PathValue("id"), Amount: amt, Reason: req.Reason, IdempotencyKey: key},
		key, hash, http.StatusCreated, renderEntry)
}

// DefaultHoldTTL is a hold's lifetime when the request names none.
const DefaultHoldTTL = 10 * time.Minute

// parseTTL reads expiresIn: whole seconds (a JSON number) or a Go duration string
// such as "90s" or "15m".
func parseTTL(raw json.RawMessage) (time.Duration, error) {
	if raw == nil {
		return DefaultHoldTTL, nil
	}
	var secs int64
	if err := json.Unmarshal(raw, &secs); err == nil {
		if secs <= 0 || secs > int64(engine.MaxHoldTTL/time.Second) {
			return 0, errors.New("must be from 1 to " + strconv.FormatInt(int64(engine.MaxHoldTTL/time.Second), 10) + " seconds")
		}
		return time.Duration(secs) * time.Second, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, errors.New(`must be whole seconds (600) or a duration such as "10m"`)
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New(`must be whole seconds (600) or a duration such as "10m"`)
	}
	return d, nil
}

func (a *API) createHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount    *string         `json:"amount"`
		ExpiresIn json.RawMessage `json:"expiresIn"`
		Reference string          `json:"reference"`
	}
	key, hash, ok := a.movementRequest(w, r, &req)
	if !ok {
		return
	}
	v := &ledger.ValidationError{}
	amt := requiredAmount("amount", req.Amount, v)
	ttl, err := parseTTL(req.ExpiresIn)
	if err != nil {
		v.Add("expiresIn", err.Error())
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.CreateHold{AccountID: r.PathValue("id"), Amount: amt, ExpiresIn: ttl, Reference: req.Reference},
		key, hash, http.StatusCreated, func(v any) any { return toHoldJSON(v.(ledger.Hold)) })
}

func (a *API) getHold(w http.ResponseWriter, r *http.Request) {
	h, err := a.cfg.Engine.Hold(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, toHoldJSON(h))
}

func (a *API) captureHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount *string `json:"amount"`
	}
	// An empty body captures the whole hold.
	if err := decodeOptional(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	body, _ := json.Marshal(req)
	key, hash, err := idempotency(r, body, true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := &ledger.ValidationError{}
	amt := optionalAmount("amount", req.Amount, v)
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.CaptureHold{HoldID: r.PathValue("id"), Amount: amt, IdempotencyKey: key}, key, hash, http.StatusOK,
		func(v any) any { return toCaptureJSON(v.(engine.CaptureResult)) })
}

func (a *API) voidHold(w http.ResponseWriter, r *http.Request) {
	key, hash, err := idempotency(r, nil, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.do(w, r, engine.VoidHold{HoldID: r.PathValue("id")}, key, hash, http.StatusOK,
		func(v any) any { return toHoldJSON(v.(ledger.Hold)) })
}
