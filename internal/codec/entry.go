// Package codec is purse's one binary encoding of the domain values it stores:
// entries (in the embedded store's entry blocks and in idempotency outcomes), the
// outcomes an Idempotency-Key keeps (outcome.go) and the embedded store's event
// blocks (event.go).
//
// These bytes outlive the code that wrote them, so every format here is
// versioned and never changes in place: a new field or a new layout is a new
// version, and the readers of every old version stay. The equivalence tests walk
// the domain structs by reflection, so a field added to ledger.Entry (or to the
// other types an outcome carries) fails them until it is encoded here or
// deliberately left out.
package codec

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// EntryVersion is the entry format's version. An entry block's first byte is it.
//
// Version 1, per entry: uvarint seq − prevSeq, then movement id, kind, varint
// amount, varint balance after, reference, idempotency key, varint created_at −
// baseAt (Unix microseconds), metadata (JSON, or empty), related id, and a
// free-message byte; strings are a uvarint length and their bytes. The account is
// not written: a block is one account's, and an outcome writes it before the entry.
// Times are kept to the microsecond, as both stores keep them (the engine's clock
// is truncated to it, so an answer and its replay show the same instant).
//
// Version 2 (sub-accounts): version 1, then the sub-account id (the shared-funding
// sub-account that spent the entry, or empty). Readers of version 1 stay.
const EntryVersion = 2

// AppendEntry appends e's current-version encoding, its sequence relative to prevSeq
// (which must not be above it) and its time to baseAt (Unix microseconds).
func AppendEntry(b []byte, e *ledger.Entry, prevSeq, baseAt int64) []byte {
	b = binary.AppendUvarint(b, uint64(e.Seq-prevSeq))
	b = AppendString(b, e.MovementID)
	b = AppendString(b, string(e.Kind))
	b = binary.AppendVarint(b, int64(e.Amount))
	b = binary.AppendVarint(b, int64(e.BalanceAfter))
	b = AppendString(b, e.Reference)
	b = AppendString(b, e.IdempotencyKey)
	b = binary.AppendVarint(b, e.CreatedAt.UnixMicro()-baseAt)
	b = AppendString(b, Metadata(e.Metadata))
	b = AppendString(b, e.RelatedID)
	b = appendBool(b, e.FreeMessage)
	return AppendString(b, e.SubAccountID)
}

// ReadEntry reads an entry AppendEntry wrote with the same prevSeq and baseAt. The
// account is the caller's to set. Damage sets r.Bad; unreadable metadata too.
func (r *Reader) ReadEntry(prevSeq, baseAt int64) ledger.Entry {
	return r.ReadEntryVersion(EntryVersion, prevSeq, baseAt)
}

// ReadEntryVersion reads an entry written in version v (1 or 2).
func (r *Reader) ReadEntryVersion(v byte, prevSeq, baseAt int64) ledger.Entry {
	var e ledger.Entry
	e.Seq = prevSeq + int64(r.Uvarint())
	e.MovementID = r.Str()
	e.Kind = ledger.EntryKind(r.Str())
	e.Amount = ledger.Amount(r.Varint())
	e.BalanceAfter = ledger.Amount(r.Varint())
	e.Reference = r.Str()
	e.IdempotencyKey = r.Str()
	e.CreatedAt = time.UnixMicro(baseAt + r.Varint()).UTC()
	if meta := r.Bytes(); len(meta) > 0 && !r.Bad {
		m, err := ParseMetadata(string(meta))
		if err != nil {
			r.fail()
		}
		e.Metadata = m
	}
	e.RelatedID = r.Str()
	e.FreeMessage = r.Bool()
	if v >= 2 {
		e.SubAccountID = r.Str()
	}
	return e
}

// Metadata is an entry's metadata as stored: JSON with sorted keys, or "" for none.
func Metadata(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil { // cannot happen for a map of strings
		panic(err)
	}
	return string(b)
}

// ParseMetadata reads what Metadata wrote.
func ParseMetadata(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Bool reads a byte that appendBool wrote; any other value is damage.
func (r *Reader) Bool() bool {
	switch r.Byte() {
	case 1:
		return true
	case 0:
		return false
	}
	r.fail()
	return false
}
