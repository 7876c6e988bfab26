package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// OutcomeVersion is the version new outcome records are written in.
//
// Version 1: the magic (a NUL, which no JSON response starts with, then 'O'), the
// version byte, then the outcome: its op; a refusal byte (0 none, 1 one: code,
// what, id, detail, the fields sorted by name, each with its messages); a byte of
// which parts follow (bit 0 entry, 1 hold, 2 account, 3 user, 4 API key,
// 5 batch), then each present part in that order:
//   - entry: account id, then the entry (entry.go) from sequence 0 and time 0;
//   - hold: id, account, amount, captured, status, reference, charge id, expires,
//     created, updated;
//   - account: id, kind, name, currency, status, balance, held, allowed minus,
//     monthly limit, has-limit byte, monthly spent, spent month, free messages,
//     seq, version, created, updated;
//   - user: username, account, created (never the password hash);
//   - API key: id, account, name, scopes, created, revoked (never the key's hash);
//   - batch: a committed byte, a uvarint count, and each result as an outcome
//     without magic and version;
//   - API key restrictions (bit 6, only for a key that has any; added after
//     version 1 without a new version, since a record without the bit reads as
//     before): allowed addresses, valid-from and valid-to (a presence byte and a
//     time each), disabled.
//
// Amounts and integers are varints; times a byte (0: the zero time) and varint
// Unix nanoseconds.
//
// Version 2 (sub-accounts): version 1 with entries in entry version 2, and the
// account followed by its parent id, funding mode and disabled byte.
const OutcomeVersion = 2

var outcomeMagic = []byte{0, 'O'}

// Parts of an outcome, as the bits of its part byte.
const (
	partEntry = 1 << iota
	partHold
	partAccount
	partUser
	partAPIKey
	partBatch
	partKeyRule
)

// ErrBadOutcome reports a stored outcome that cannot be read.
var ErrBadOutcome = errors.New("codec: unreadable stored outcome")

// Record is the idempotency record that keeps o under req's key.
func Record(req *ledger.IdempotencyRequest, o *ledger.Outcome, now time.Time) *ledger.IdempotencyRecord {
	if req == nil {
		return nil
	}
	return &ledger.IdempotencyRecord{Key: req.Key, RequestHash: req.RequestHash, Body: EncodeOutcome(o), CreatedAt: now}
}

// EncodeOutcome returns o's encoding in the current version.
func EncodeOutcome(o *ledger.Outcome) []byte {
	b := make([]byte, 0, 160)
	b = append(b, outcomeMagic...)
	b = append(b, OutcomeVersion)
	return appendOutcome(b, o)
}

// IsOutcome reports whether a stored record's body is an encoded outcome (not a
// response stored before outcomes existed).
func IsOutcome(rec *ledger.IdempotencyRecord) bool {
	return rec.Status == 0 && bytes.HasPrefix(rec.Body, outcomeMagic)
}

// DecodeOutcome reads an encoded outcome and the version it was written in: the
// edge renders it as that version rendered it.
func DecodeOutcome(body []byte) (ledger.Outcome, int, error) {
	if !bytes.HasPrefix(body, outcomeMagic) || len(body) < len(outcomeMagic)+1 {
		return ledger.Outcome{}, 0, fmt.Errorf("%w: no magic", ErrBadOutcome)
	}
	version := int(body[len(outcomeMagic)])
	if version < 1 || version > OutcomeVersion {
		return ledger.Outcome{}, version, fmt.Errorf("%w: version %d is newer than this purse", ErrBadOutcome, version)
	}
	r := &Reader{B: body[len(outcomeMagic)+1:], outcomeVersion: byte(version)}
	o := r.outcome(0)
	if r.Bad || len(r.B) != 0 {
		return ledger.Outcome{}, version, fmt.Errorf("%w (%d bytes)", ErrBadOutcome, len(body))
	}
	return o, version, nil
}

func appendOutcome(b []byte, o *ledger.Outcome) []byte {
	b = AppendString(b, string(o.Op))
	if f := o.Refusal; f != nil {
		b = append(b, 1)
		b = AppendString(b, string(f.Code))
		b = AppendString(b, f.What)
		b = AppendString(b, f.ID)
		b = AppendString(b, f.Detail)
		names := make([]string, 0, len(f.Fields))
		for k := range f.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		b = binary.AppendUvarint(b, uint64(len(names)))
		for _, k := range names {
			b = AppendString(b, k)
			b = appendStrings(b, f.Fields[k])
		}
	} else {
		b = append(b, 0)
	}
	var parts byte
	rule := hasKeyRule(o.APIKey)
	for bit, present := range []bool{o.Entry != nil, o.Hold != nil, o.Account != nil, o.User != nil, o.APIKey != nil, o.Batch != nil, rule} {
		if present {
			parts |= 1 << bit
		}
	}
	b = append(b, parts)
	if e := o.Entry; e != nil {
		b = AppendString(b, e.AccountID)
		b = AppendEntry(b, e, 0, 0)
	}
	if h := o.Hold; h != nil {
		b = AppendString(b, h.ID)
		b = AppendString(b, h.AccountID)
		b = binary.AppendVarint(b, int64(h.Amount))
		b = binary.AppendVarint(b, int64(h.Captured))
		b = AppendString(b, string(h.Status))
		b = AppendString(b, h.Reference)
		b = AppendString(b, h.ChargeID)
		b = appendTime(b, h.ExpiresAt)
		b = appendTime(b, h.CreatedAt)
		b = appendTime(b, h.UpdatedAt)
	}
	if a := o.Account; a != nil {
		b = AppendString(b, a.ID)
		b = AppendString(b, string(a.Kind))
		b = AppendString(b, a.Name)
		b = AppendString(b, a.Currency)
		b = AppendString(b, string(a.Status))
		for _, v := range []int64{int64(a.Balance), int64(a.Held), int64(a.AllowedMinus), int64(a.MonthlyLimit)} {
			b = binary.AppendVarint(b, v)
		}
		b = appendBool(b, a.HasMonthlyLimit)
		for _, v := range []int64{int64(a.MonthlySpent), int64(a.SpentMonth), a.FreeMessages, a.Seq, a.Version} {
			b = binary.AppendVarint(b, v)
		}
		b = appendTime(b, a.CreatedAt)
		b = appendTime(b, a.UpdatedAt)
		b = AppendString(b, a.ParentID)
		b = AppendString(b, string(a.Funding))
		b = appendBool(b, a.Disabled)
	}
	if u := o.User; u != nil {
		b = AppendString(b, u.Username)
		b = AppendString(b, u.AccountID)
		b = appendTime(b, u.CreatedAt)
	}
	if k := o.APIKey; k != nil {
		b = AppendString(b, k.ID)
		b = AppendString(b, k.AccountID)
		b = AppendString(b, k.Name)
		b = appendStrings(b, k.Scopes)
		b = appendTime(b, k.CreatedAt)
		if k.RevokedAt == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendTime(b, *k.RevokedAt)
		}
	}
	if bo := o.Batch; bo != nil {
		b = appendBool(b, bo.Committed)
		b = binary.AppendUvarint(b, uint64(len(bo.Results)))
		for i := range bo.Results {
			b = appendOutcome(b, &bo.Results[i])
		}
	}
	return appendKeyRule(b, o.APIKey, rule)
}

// hasKeyRule reports whether a key has restrictions to encode.
func hasKeyRule(k *ledger.APIKey) bool {
	return k != nil && (len(k.AllowedIPs) > 0 || k.ValidFrom != nil || k.ValidTo != nil || k.Disabled)
}

func appendKeyRule(b []byte, k *ledger.APIKey, rule bool) []byte {
	if !rule {
		return b
	}
	b = appendStrings(b, k.AllowedIPs)
	b = appendOptTime(b, k.ValidFrom)
	b = appendOptTime(b, k.ValidTo)
	return appendBool(b, k.Disabled)
}

func appendOptTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, 0)
	}
	return appendTime(append(b, 1), *t)
}

func (r *Reader) optTime() *time.Time {
	if !r.Bool() {
		return nil
	}
	t := r.time()
	return &t
}

func (r *Reader) refusal() *ledger.Refusal {
	f := &ledger.Refusal{Code: ledger.RefusalCode(r.Str()), What: r.Str(), ID: r.Str(), Detail: r.Str()}
	if n := r.count(); n > 0 {
		f.Fields = make(map[string][]string, n)
		for ; n > 0 && !r.Bad; n-- {
			k := r.Str()
			f.Fields[k] = r.strings()
		}
	}
	return f
}

func (r *Reader) account() *ledger.Account {
	a := ledger.Account{ID: r.Str(), Kind: ledger.AccountKind(r.Str()), Name: r.Str(), Currency: r.Str(), Status: ledger.AccountStatus(r.Str())}
	a.Balance, a.Held, a.AllowedMinus, a.MonthlyLimit = ledger.Amount(r.Varint()), ledger.Amount(r.Varint()), ledger.Amount(r.Varint()), ledger.Amount(r.Varint())
	a.HasMonthlyLimit = r.Bool()
	a.MonthlySpent = ledger.Amount(r.Varint())
	if m := r.Varint(); m >= math.MinInt32 && m <= math.MaxInt32 {
		a.SpentMonth = int(m)
	} else {
		r.fail()
	}
	a.FreeMessages, a.Seq, a.Version = r.Varint(), r.Varint(), r.Varint()
	a.CreatedAt, a.UpdatedAt = r.time(), r.time()
	if r.outcomeVersion >= 2 {
		a.ParentID, a.Funding, a.Disabled = r.Str(), ledger.FundingMode(r.Str()), r.Bool()
	}
	return &a
}

// maxDepth bounds nesting: a batch's results are outcomes, which hold no batch.
const maxDepth = 1

func (r *Reader) outcome(depth int) ledger.Outcome {
	var o ledger.Outcome
	o.Op = ledger.Op(r.Str())
	if r.Bool() {
		o.Refusal = r.refusal()
	}
	parts := r.Byte()
	if badParts(parts) {
		r.fail()
	}
	if parts&partEntry != 0 {
		acc := r.Str()
		ev := byte(EntryVersion)
		if r.outcomeVersion == 1 {
			ev = 1
		}
		e := r.ReadEntryVersion(ev, 0, 0)
		e.AccountID = acc
		o.Entry = &e
	}
	if parts&partHold != 0 {
		h := ledger.Hold{ID: r.Str(), AccountID: r.Str(), Amount: ledger.Amount(r.Varint()), Captured: ledger.Amount(r.Varint()),
			Status: ledger.HoldStatus(r.Str()), Reference: r.Str(), ChargeID: r.Str()}
		h.ExpiresAt, h.CreatedAt, h.UpdatedAt = r.time(), r.time(), r.time()
		o.Hold = &h
	}
	if parts&partAccount != 0 {
		o.Account = r.account()
	}
	if parts&partUser != 0 {
		u := ledger.User{Username: r.Str(), AccountID: r.Str()}
		u.CreatedAt = r.time()
		o.User = &u
	}
	if parts&partAPIKey != 0 {
		k := ledger.APIKey{ID: r.Str(), AccountID: r.Str(), Name: r.Str()}
		k.Scopes = r.strings()
		k.CreatedAt = r.time()
		if r.Bool() {
			at := r.time()
			k.RevokedAt = &at
		}
		o.APIKey = &k
	}
	if parts&partBatch != 0 {
		if depth >= maxDepth {
			r.fail()
			return o
		}
		bo := &ledger.BatchOutcome{Committed: r.Bool()}
		n := r.count()
		bo.Results = make([]ledger.Outcome, 0, n)
		for ; n > 0 && !r.Bad; n-- {
			bo.Results = append(bo.Results, r.outcome(depth+1))
		}
		o.Batch = bo
	}
	if parts&partKeyRule != 0 {
		r.keyRule(o.APIKey)
	}
	return o
}

// badParts: an unknown part, or key restrictions without a key.
func badParts(parts byte) bool {
	return parts >= partKeyRule<<1 || parts&partKeyRule != 0 && parts&partAPIKey == 0
}

func (r *Reader) keyRule(k *ledger.APIKey) {
	k.AllowedIPs = r.strings()
	k.ValidFrom, k.ValidTo = r.optTime(), r.optTime()
	k.Disabled = r.Bool()
}

// count reads a uvarint count of items that take at least a byte each.
func (r *Reader) count() int {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.fail()
		return 0
	}
	return int(n)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

func (r *Reader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for ; n > 0 && !r.Bad; n-- {
		out = append(out, r.Str())
	}
	return out
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixNano())
}

func (r *Reader) time() time.Time {
	if !r.Bool() {
		return time.Time{}
	}
	return time.Unix(0, r.Varint()).UTC()
}
