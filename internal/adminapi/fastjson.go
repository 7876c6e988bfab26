package adminapi

import (
	"encoding/json"
	"slices"
	"strconv"
)

// Hand-written JSON for the responses a busy ledger sends most (entries, and
// batches of them): encoding/json's reflection was a fifth of the writer's time on
// a batch of a thousand charges, because a keyed response is rendered inside the
// batch, for its idempotency record. The output is byte for byte what
// encoding/json makes of the same value (TestFastJSONMatchesEncodingJSON); anything
// unusual (a string needing escapes, metadata, a hold, an error) is handed to
// encoding/json itself.

// jsonAppender is a response that writes its own JSON.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// appendJSONString appends s as encoding/json would (HTML-safe escaping).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendMarshal(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		panic("adminapi: encode response: " + err.Error())
	}
	return append(b, j...)
}

func (e entryJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, e.Sequence, 10)
	b = append(b, `,"accountId":`...)
	b = appendJSONString(b, e.AccountID)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, e.Kind)
	b = append(b, `,"amount":`...)
	b = appendJSONString(b, e.Amount)
	b = append(b, `,"balanceAfter":`...)
	b = appendJSONString(b, e.BalanceAfter)
	b = append(b, `,"reference":`...)
	b = appendJSONString(b, e.Reference)
	if len(e.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		b = appendMarshal(b, e.Metadata)
	}
	if e.ChargeID != "" {
		b = append(b, `,"chargeId":`...)
		b = appendJSONString(b, e.ChargeID)
	}
	if e.HoldID != "" {
		b = append(b, `,"holdId":`...)
		b = appendJSONString(b, e.HoldID)
	}
	if e.FreeMessage {
		b = append(b, `,"freeMessage":true`...)
	}
	if e.IdempotencyKey != "" {
		b = append(b, `,"idempotencyKey":`...)
		b = appendJSONString(b, e.IdempotencyKey)
	}
	b = append(b, `,"createdAt":`...)
	b = appendJSONString(b, e.CreatedAt)
	if e.SubAccountID != "" {
		b = append(b, `,"subAccountId":`...)
		b = appendJSONString(b, e.SubAccountID)
	}
	if e.CounterpartyID != "" {
		b = append(b, `,"counterpartyId":`...)
		b = appendJSONString(b, e.CounterpartyID)
	}
	return append(b, '}')
}

// batchJSON is the response of POST /v1/batch.
type batchJSON struct {
	Committed bool          `json:"committed"`
	Results   []batchResult `json:"results"`
}

func (r batchJSON) appendJSON(b []byte) []byte {
	if r.Results == nil {
		return appendMarshal(b, r)
	}
	b = slices.Grow(b, 320*len(r.Results)) // an entry's JSON is about 300 bytes
	b = append(b, `{"committed":`...)
	b = strconv.AppendBool(b, r.Committed)
	b = append(b, `,"results":[`...)
	for i, res := range r.Results {
		if i > 0 {
			b = append(b, ',')
		}
		if res.Entry == nil || res.Hold != nil || res.Error != nil {
			b = appendMarshal(b, res)
			continue
		}
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(res.Status), 10)
		b = append(b, `,"entry":`...)
		b = res.Entry.appendJSON(b)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
