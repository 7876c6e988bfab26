package adminapi

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Legacy batch records. Before outcomes (codec), a batch's idempotency record
// kept this compact binary form, from which its response was rendered again on a
// replay. Nothing writes it any more; PostgreSQL keeps keys for good, so its
// replays are still read here, byte for byte as they were answered:
//
//	magic, committed byte, uvarint count, then per operation either
//	'E' uvarint status, the entry (below), or
//	'J' uvarint length, the operation's result as JSON (errors, holds, captures).
//
// An entry is: movement id, varint sequence, account id, kind, varint amount,
// varint balance after, reference, metadata (uvarint count, then key and value
// strings), related id, a free-message byte, idempotency key, varint created_at in
// Unix nanoseconds; strings are a uvarint length and their bytes. A stored body
// that does not begin with the magic (a NUL, which JSON never does) is the
// response itself.

var compactMagic = []byte{0, 'B', 1}

var errCompactRecord = errors.New("adminapi: unreadable stored idempotency record")

// compactReader reads a compact record.
type compactReader struct{ codec.Reader }

func (r *compactReader) entry() ledger.Entry {
	var e ledger.Entry
	e.MovementID = r.Str()
	e.Seq = r.Varint()
	e.AccountID = r.Str()
	e.Kind = ledger.EntryKind(r.Str())
	e.Amount = ledger.Amount(r.Varint())
	e.BalanceAfter = ledger.Amount(r.Varint())
	e.Reference = r.Str()
	if n := r.Uvarint(); n > uint64(len(r.B)) {
		r.Bad = true
	} else if n > 0 {
		e.Metadata = make(map[string]string, n)
		for ; n > 0 && !r.Bad; n-- {
			k := r.Str()
			e.Metadata[k] = r.Str()
		}
	}
	e.RelatedID = r.Str()
	e.FreeMessage = r.Byte() == 1
	e.IdempotencyKey = r.Str()
	e.CreatedAt = time.Unix(0, r.Varint()).UTC()
	return e
}

// expandRecord returns the response a stored record body stands for.
func expandRecord(body []byte) ([]byte, error) {
	if !bytes.HasPrefix(body, compactMagic) {
		return body, nil
	}
	r := &compactReader{codec.Reader{B: body[len(compactMagic):]}}
	committed := r.Byte() == 1
	n := r.Uvarint()
	if n > uint64(len(r.B)) { // every operation takes at least a byte
		return nil, errCompactRecord
	}
	out := make([]byte, 0, 320*n)
	out = append(out, `{"committed":`...)
	out = strconv.AppendBool(out, committed)
	out = append(out, `,"results":[`...)
	for i := uint64(0); i < n && !r.Bad; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		switch r.Byte() {
		case 'E':
			status := r.Uvarint()
			e := r.entry()
			out = append(out, `{"status":`...)
			out = strconv.AppendUint(out, status, 10)
			out = append(out, `,"entry":`...)
			out = toEntryJSON(e).appendJSON(out)
			out = append(out, '}')
		case 'J':
			out = append(out, r.Bytes()...)
		default:
			r.Bad = true
		}
	}
	if r.Bad || len(r.B) != 0 {
		return nil, fmt.Errorf("%w (%d bytes)", errCompactRecord, len(body))
	}
	return append(out, "]}"...), nil
}
