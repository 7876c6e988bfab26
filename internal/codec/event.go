package codec

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/purse-ledger/purse/internal/ledger"
)

// EventVersion is the event block format's version: an event block's first byte.
//
// Version 1: the block's events one after another, each: id, type, account id,
// parent id, varint at − baseAt (Unix microseconds; baseAt is the block's), then a
// form byte and the event's data: form 0, the data's JSON as a string; form v > 0,
// the event's entry (an entry.created) in entry format v (AppendEntry, relative to
// sequence 0 and to the event's time; its account is the event's), from which a
// reader rebuilds the JSON (ledger.AppendEntryEventData). An entry.created is then
// some 60 bytes rather than 400; strings are a uvarint length and their bytes. Sequences are
// not written: a block's events are consecutive, from the block's first sequence,
// so the count is the block's (last − first + 1) and a reader checks it uses up
// the block exactly.
const EventVersion = 1

// EventView is one decoded event, its strings still in the block's bytes (not
// copied): a reader filters on them before it allocates anything.
type EventView struct {
	ID, Type, AccountID, ParentID []byte
	At                            int64 // Unix microseconds
	Data                          []byte
	Entry                         *ledger.Entry // instead of Data: an entry.created's entry
}

// AppendEventHeader starts a block.
func AppendEventHeader(b []byte) []byte { return append(b, EventVersion) }

// AppendEvent appends one event in the current version: its data, or with e not
// nil (an entry.created) its entry instead.
func AppendEvent(b []byte, id, typ, accountID, parentID string, at, baseAt int64, data string, e *ledger.Entry) []byte {
	b = AppendString(b, id)
	b = AppendString(b, typ)
	b = AppendString(b, accountID)
	b = AppendString(b, parentID)
	b = binary.AppendVarint(b, at-baseAt)
	if e != nil {
		return AppendEntry(append(b, EntryVersion), e, 0, at)
	}
	return AppendString(append(b, 0), data)
}

// ErrBadEventBlock is a block that is not what AppendEvent wrote.
var ErrBadEventBlock = errors.New("corrupt event block")

// DecodeEvents reads a block of n events, calling each in order with the event's
// place in the block; it stops at the first false. A block of an unknown version,
// cut short, or with bytes left over is refused whole, before each sees any event
// (a consumer must never act on half a block's worth of a damaged one).
func DecodeEvents(data []byte, n int, baseAt int64, each func(i int, v *EventView) bool) error {
	if len(data) == 0 || data[0] != EventVersion {
		return fmt.Errorf("%w (version)", ErrBadEventBlock)
	}
	if n <= 0 {
		return fmt.Errorf("%w (count %d)", ErrBadEventBlock, n)
	}
	views := make([]EventView, n)
	r := &Reader{B: data[1:]}
	for i := range views {
		v := &views[i]
		v.ID, v.Type, v.AccountID, v.ParentID = r.Bytes(), r.Bytes(), r.Bytes(), r.Bytes()
		v.At = baseAt + r.Varint()
		switch form := r.Byte(); {
		case form == 0:
			v.Data = r.Bytes()
		case form <= EntryVersion:
			e := r.ReadEntryVersion(form, 0, v.At)
			e.AccountID = string(v.AccountID)
			v.Entry = &e
		default:
			return fmt.Errorf("%w (entry version %d)", ErrBadEventBlock, form)
		}
		if r.Bad {
			return ErrBadEventBlock
		}
	}
	if len(r.B) != 0 {
		return fmt.Errorf("%w (%d bytes left over)", ErrBadEventBlock, len(r.B))
	}
	for i := range views {
		if !each(i, &views[i]) {
			break
		}
	}
	return nil
}
