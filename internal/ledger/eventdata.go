package ledger

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendEntryEventData appends an entry.created's data to w:
// {"entry":{...},"balanceBefore":..,"balanceAfter":..} with the entry in the admin
// API's shape. It lives here, not in the engine, because the event is built from
// the entry alone: the engine hands the entry over (Event.Entry) and a store
// either stores this text or, as the SQLite store does, keeps the entry compactly
// and builds this on read (the same bytes: the entry is all it depends on).
func AppendEntryEventData(w []byte, e *Entry) []byte {
	w = append(w, `{"entry":{"id":`...)
	w = AppendJSONString(w, e.MovementID)
	w = append(w, `,"sequence":`...)
	w = strconv.AppendInt(w, e.Seq, 10)
	w = append(w, `,"accountId":`...)
	w = AppendJSONString(w, e.AccountID)
	w = append(w, `,"kind":`...)
	w = AppendJSONString(w, string(e.Kind))
	w = appendAmountField(w, "amount", e.Amount)
	w = appendAmountField(w, "balanceAfter", e.BalanceAfter)
	w = append(w, `,"reference":`...)
	w = AppendJSONString(w, e.Reference)
	if len(e.Metadata) > 0 {
		m, _ := json.Marshal(e.Metadata) // validated text: cannot fail
		w = append(w, `,"metadata":`...)
		w = append(w, m...)
	}
	w = appendRelated(w, e)
	if e.SubAccountID != "" { // a shared sub-account's spending of its parent's money
		w = append(w, `,"subAccountId":`...)
		w = AppendJSONString(w, e.SubAccountID)
	}
	if e.FreeMessage {
		w = append(w, `,"freeMessage":true`...)
	}
	if e.IdempotencyKey != "" {
		w = append(w, `,"idempotencyKey":`...)
		w = AppendJSONString(w, e.IdempotencyKey)
	}
	w = append(w, `,"createdAt":"`...)
	w = e.CreatedAt.UTC().AppendFormat(w, time.RFC3339Nano)
	w = append(w, `"}`...)
	w = appendAmountField(w, "balanceBefore", e.BalanceAfter-e.Amount) // cannot overflow: the engine added Amount to it
	w = appendAmountField(w, "balanceAfter", e.BalanceAfter)
	return append(w, '}')
}

// EventData is the event's data: Data, or built from Entry.
func (e *Event) EventData() string {
	if e.Data == "" && e.Entry != nil {
		return string(AppendEntryEventData(nil, e.Entry))
	}
	return e.Data
}

// appendRelated writes the charge a refund returns, the hold a capture took or a
// transfer's other account, named as the admin API's entries name them.
func appendRelated(w []byte, e *Entry) []byte {
	switch {
	case e.RelatedID == "":
		return w
	case e.Kind == EntryRefund:
		w = append(w, `,"chargeId":`...)
	case e.Kind == EntryCapture:
		w = append(w, `,"holdId":`...)
	case e.Kind == EntryTransfer:
		w = append(w, `,"counterpartyId":`...)
	default:
		w = append(w, `,"relatedId":`...)
	}
	return AppendJSONString(w, e.RelatedID)
}

func appendAmountField(w []byte, name string, v Amount) []byte {
	w = append(w, ',', '"')
	w = append(w, name...)
	w = append(w, `":"`...)
	w = v.Append(w)
	return append(w, '"')
}

// AppendJSONString appends s as a JSON string. Stored text is valid UTF-8 without
// control characters (CheckText), but this escapes them anyway, and replaces
// invalid bytes, so an event is valid JSON whatever reached it.
func AppendJSONString(w []byte, s string) []byte {
	const hex = "0123456789abcdef"
	w = append(w, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w = append(w, '\\', c)
			i++
		case c < 0x20:
			w = append(w, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			i++
		case c < utf8.RuneSelf:
			w = append(w, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				w = append(w, `\ufffd`...)
			} else {
				w = append(w, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(w, '"')
}
