package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// EventVersion is the event block format's version: an event block's first byte.
//
// Version 1. The header: the id prefix (a batch's events are named prefix-i, i
// their place in the block), then uvarint entriesLo and uvarint entriesHi −
// entriesLo: the first sequences of the entry blocks that hold the entries this
// block's entry.created events tell of (0 and 0 with none). Then the events one
// after another, each: id (empty: prefix-i; a block with a prefix has no empty
// ids), type (empty with flag 1: entry.created), a flags byte, account id and
// parent id (not with flag 2: the event before's), varint at − baseAt (Unix
// microseconds; baseAt is the block's), then with flag 1 an entry.created's
// uvarint entry sequence − entriesLo, else the event's JSON data. With flag 1 the
// data is not stored: the entry is in the ledger's own entry blocks already
// (immutable, kept longer than events), and a reader rebuilds the JSON from it
// (ledger.AppendEntryEventData), so an entry.created of a batch's account costs
// some 8 bytes rather than 400. Strings are a uvarint length and their bytes.
// Sequences are not written: a block's events are consecutive, from the block's
// first sequence, so the count is the block's (last − first + 1) and a reader
// checks that it uses up the block exactly.
const EventVersion = 1

// An event's flags.
const (
	flagEntry       = 1 // an entry.created's entry sequence instead of data
	flagSameAccount = 2 // the account and parent of the event before
	flagsKnown      = flagEntry | flagSameAccount
)

// EventHeader is an event block's header.
type EventHeader struct {
	Prefix               string // ids: Prefix-i ("": every id written out)
	EntriesLo, EntriesHi int64
}

// EventView is one decoded event, its strings still in the block's bytes (not
// copied): a reader filters on them before it allocates anything.
type EventView struct {
	ID, Type, AccountID, ParentID []byte
	At                            int64 // Unix microseconds
	Data                          []byte
	EntrySeq                      int64 // an entry.created's entry instead of Data (0: none)
	Block                         *EventHeader
}

// EventWriter appends a block's events, one after another, in the current version.
type EventWriter struct {
	B               []byte // the block so far
	h               EventHeader
	n               int
	account, parent string
}

// NewEventWriter starts a block, appended to b.
func NewEventWriter(b []byte, h EventHeader) *EventWriter {
	b = append(b, EventVersion)
	b = AppendString(b, h.Prefix)
	b = binary.AppendUvarint(b, uint64(h.EntriesLo))
	b = binary.AppendUvarint(b, uint64(h.EntriesHi-h.EntriesLo))
	return &EventWriter{B: b, h: h}
}

// Add appends the next event: its data, or with entrySeq > 0 (an entry.created,
// its entry within the header's entry range) a reference to its entry instead.
func (w *EventWriter) Add(id, typ, accountID, parentID string, at, baseAt int64, data string, entrySeq int64) {
	if isPrefixed(id, w.h.Prefix, w.n) {
		id = ""
	}
	var flags byte
	if entrySeq > 0 {
		flags |= flagEntry
		if typ == entryCreated {
			typ = ""
		}
	}
	same := w.n > 0 && accountID == w.account && parentID == w.parent
	if same {
		flags |= flagSameAccount
	}
	w.n++
	w.account, w.parent = accountID, parentID
	b := AppendString(w.B, id)
	b = AppendString(b, typ)
	b = append(b, flags)
	if !same {
		b = AppendString(b, accountID)
		b = AppendString(b, parentID)
	}
	b = binary.AppendVarint(b, at-baseAt)
	if entrySeq > 0 {
		w.B = binary.AppendUvarint(b, uint64(entrySeq-w.h.EntriesLo))
		return
	}
	w.B = AppendString(b, data)
}

const entryCreated = "entry.created"

// isPrefixed reports whether id is prefix-i (i in decimal, as strconv writes it),
// without allocating: it runs for every event on the writer's path.
func isPrefixed(id, prefix string, i int) bool {
	n := len(prefix)
	if n == 0 || len(id) <= n+1 || id[:n] != prefix || id[n] != '-' {
		return false
	}
	var digits [20]byte
	return id[n+1:] == string(strconv.AppendInt(digits[:0], int64(i), 10))
}

// ErrBadEventBlock is a block that is not what AppendEvent wrote.
var ErrBadEventBlock = errors.New("corrupt event block")

// DecodeEvents reads a block of n events, calling each in order with the event's
// place in the block; it stops at the first false. A block of an unknown version,
// cut short, or with bytes left over is refused whole, before each sees any event
// (a consumer must never act on half a block's worth of a damaged one).
func DecodeEvents(data []byte, n int, baseAt int64, each func(i int, v *EventView) bool) (EventHeader, error) {
	var h EventHeader
	if len(data) == 0 || data[0] != EventVersion {
		return h, fmt.Errorf("%w (version)", ErrBadEventBlock)
	}
	if n <= 0 {
		return h, fmt.Errorf("%w (count %d)", ErrBadEventBlock, n)
	}
	r := &Reader{B: data[1:]}
	prefix := r.Bytes()
	h.Prefix = string(prefix)
	h.EntriesLo = int64(r.Uvarint())
	h.EntriesHi = h.EntriesLo + int64(r.Uvarint())
	views := make([]EventView, n)
	// The ids made of the prefix, in one buffer that never grows (slices of it stay).
	ids := make([]byte, 0, n*(len(prefix)+1+20))
	for i := range views {
		v := &views[i]
		v.Block = &h
		v.ID, v.Type = r.Bytes(), r.Bytes()
		flags := r.Byte()
		switch {
		case flags&^flagsKnown != 0 || i == 0 && flags&flagSameAccount != 0:
			r.fail()
		case flags&flagSameAccount != 0:
			v.AccountID, v.ParentID = views[i-1].AccountID, views[i-1].ParentID
		default:
			v.AccountID, v.ParentID = r.Bytes(), r.Bytes()
		}
		v.At = baseAt + r.Varint()
		if flags&flagEntry != 0 {
			v.EntrySeq = h.EntriesLo + int64(r.Uvarint())
			if len(v.Type) == 0 {
				v.Type = []byte(entryCreated)
			}
		} else {
			v.Data = r.Bytes()
		}
		if len(v.ID) == 0 && len(prefix) > 0 {
			start := len(ids)
			ids = strconv.AppendInt(append(append(ids, prefix...), '-'), int64(i), 10)
			v.ID = ids[start:len(ids):len(ids)]
		}
		if r.Bad || v.EntrySeq < 0 || v.EntrySeq > h.EntriesHi {
			return h, ErrBadEventBlock
		}
	}
	if len(r.B) != 0 {
		return h, fmt.Errorf("%w (%d bytes left over)", ErrBadEventBlock, len(r.B))
	}
	for i := range views {
		if !each(i, &views[i]) {
			break
		}
	}
	return h, nil
}
