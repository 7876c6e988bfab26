package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/ledger"
)

// notStored lists the fields the codec leaves out on purpose. Every other field of
// every type an outcome carries must survive a round trip: a field added to one of
// them fails TestOutcomeRoundTripsEveryField until it is encoded (in a new format
// version) or listed here with its reason.
var notStored = map[string]string{
	"User.PasswordHash": "a secret: records are replayed, never a source of credentials",
	"APIKey.Hash":       "a secret's digest: as above",
	"Account.Alerts":    "thresholds and their state: no replayed answer shows them (PUT alerts takes no Idempotency-Key)",
}

// filler sets every field of a value to a distinct non-zero value, by reflection,
// so that a field the codec forgets comes back zero and differs.
type filler struct {
	n     int
	depth int
}

var base = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func (f *filler) fill(v reflect.Value, path string) {
	f.n++
	n := f.n
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%dé\"<", n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n)*1_000_003 - 7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		f.fill(k, path+"[key]")
		e := reflect.New(v.Type().Elem()).Elem()
		f.fill(e, path+"[elem]")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			f.fill(s.Index(i), path+"[i]")
		}
		v.Set(s)
	case reflect.Pointer:
		if v.Type().Elem() == reflect.TypeOf(ledger.BatchOutcome{}) && f.depth > 0 {
			return // a batch's results hold no batch
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			// Microseconds: what entries keep (the engine's clock is truncated to them).
			v.Set(reflect.ValueOf(base.Add(time.Duration(n) * time.Second).Add(time.Duration(n) * time.Microsecond)))
			return
		}
		if v.Type() == reflect.TypeOf(ledger.BatchOutcome{}) {
			f.depth++
			defer func() { f.depth-- }()
		}
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Name() + "." + v.Type().Field(i).Name
			if _, skip := notStored[name]; skip {
				continue
			}
			f.fill(v.Field(i), name)
		}
	default:
		panic(fmt.Sprintf("filler: %s is a %s; teach the filler (and the codec) about it", path, v.Kind()))
	}
}

func filled[T any]() T {
	var v T
	(&filler{}).fill(reflect.ValueOf(&v).Elem(), "")
	return v
}

// TestEntryRoundTripsEveryField: an entry comes back whole, relative to any base,
// but for its account, which the block or the outcome writes.
func TestEntryRoundTripsEveryField(t *testing.T) {
	e := filled[ledger.Entry]()
	for _, b := range []struct{ prev, at int64 }{{0, 0}, {e.Seq - 5, base.UnixMicro()}, {e.Seq, e.CreatedAt.UnixMicro() + 9}} {
		buf := AppendEntry(nil, &e, b.prev, b.at)
		r := &Reader{B: buf}
		got := r.ReadEntry(b.prev, b.at)
		if r.Bad || len(r.B) != 0 {
			t.Fatalf("base %+v: bad=%v rest=%d", b, r.Bad, len(r.B))
		}
		got.AccountID = e.AccountID
		if d := cmp.Diff(got, e); d != "" {
			t.Errorf("base %+v: (-got +want)\n%s", b, d)
		}
	}
}

// TestOutcomeRoundTripsEveryField: an outcome with every part and every field set
// decodes to itself, less the fields notStored names.
func TestOutcomeRoundTripsEveryField(t *testing.T) {
	o := filled[ledger.Outcome]()
	if o.Batch == nil || len(o.Batch.Results) == 0 || o.Batch.Results[0].Entry == nil || o.Refusal == nil {
		t.Fatalf("filler left parts out: %+v", o)
	}
	got, version, err := DecodeOutcome(EncodeOutcome(&o))
	if err != nil || version != OutcomeVersion {
		t.Fatal(version, err)
	}
	if d := cmp.Diff(got, o); d != "" {
		t.Errorf("(-got +want)\n%s", d)
	}
	// Time zones and nanoseconds of the non-entry times survive too.
	h := ledger.Hold{ID: "h", ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	got, _, err = DecodeOutcome(EncodeOutcome(&ledger.Outcome{Op: ledger.OpHold, Hold: &h}))
	if err != nil || !got.Hold.ExpiresAt.Equal(h.ExpiresAt) || !got.Hold.CreatedAt.IsZero() {
		t.Errorf("hold times: %+v %v", got.Hold, err)
	}
}

func TestOutcomeRefusesDamageAndUnknownVersions(t *testing.T) {
	o := filled[ledger.Outcome]()
	rec := EncodeOutcome(&o)
	for cut := 0; cut < len(rec); cut++ {
		if _, _, err := DecodeOutcome(rec[:cut]); !errors.Is(err, ErrBadOutcome) {
			t.Fatalf("cut to %d of %d bytes: %v", cut, len(rec), err)
		}
	}
	newer := append([]byte(nil), rec...)
	newer[2] = OutcomeVersion + 1
	if _, v, err := DecodeOutcome(newer); !errors.Is(err, ErrBadOutcome) || v != OutcomeVersion+1 {
		t.Errorf("a newer version: %d %v", v, err)
	}
	if _, _, err := DecodeOutcome(append(rec, 0)); !errors.Is(err, ErrBadOutcome) {
		t.Errorf("trailing bytes: %v", err)
	}
	if IsOutcome(&ledger.IdempotencyRecord{Status: 201, Body: []byte(`{"id":"mov_x"}`)}) {
		t.Error("a rendered body taken for an outcome")
	}
}

func FuzzDecodeOutcome(f *testing.F) {
	o := filled[ledger.Outcome]()
	f.Add(EncodeOutcome(&o))
	f.Add(EncodeOutcome(&ledger.Outcome{Op: ledger.OpCharge, Refusal: &ledger.Refusal{Code: ledger.RefusedInsufficientFunds, Detail: "x"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, err := DecodeOutcome(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same outcome.
		again, _, err := DecodeOutcome(EncodeOutcome(&got))
		if err != nil || !cmp.Equal(again, got) {
			t.Fatalf("re-encoding differs: %v\n%s", err, cmp.Diff(again, got))
		}
	})
}

// batchOutcome is a /v1/batch answer of n charges, as the engine makes it.
func batchOutcome(n int) *ledger.Outcome {
	b := &ledger.BatchOutcome{Committed: true, Results: make([]ledger.Outcome, n)}
	for i := range b.Results {
		e := ledger.Entry{Seq: int64(1_000_000 + i), MovementID: "mov_0kq3v9c5m1e7t0f2h8x4z6b1n3", AccountID: "acc_0kq3v9c5m1e7t0f2h8x4z6b1n3",
			Kind: ledger.EntryCharge, Amount: -4200, BalanceAfter: ledger.Amount(1e9 - 4200*int64(i)), Reference: "sms-991",
			IdempotencyKey: fmt.Sprintf("batch-key#%d", i), CreatedAt: base}
		b.Results[i] = ledger.Outcome{Op: ledger.OpCharge, Entry: &e}
	}
	return &ledger.Outcome{Op: ledger.OpBatch, Batch: b}
}

// BenchmarkBatchRecord measures what the writer pays to keep a 1,000-charge
// batch's outcome, in the codec and, for comparison, as JSON (what rendering the
// response into the record cost before outcomes).
func BenchmarkBatchRecord(b *testing.B) {
	o := batchOutcome(1000)
	b.Run("codec", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = len(EncodeOutcome(o))
		}
		b.ReportMetric(float64(n), "bytes/record")
	})
	b.Run("json", func(b *testing.B) {
		var n int
		for b.Loop() {
			j, _ := json.Marshal(o)
			n = len(j)
		}
		b.ReportMetric(float64(n), "bytes/record")
	})
	b.Run("decode", func(b *testing.B) {
		rec := EncodeOutcome(o)
		for b.Loop() {
			if _, _, err := DecodeOutcome(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEntryBlock is one entry appended to and read from a block.
func BenchmarkEntryBlock(b *testing.B) {
	e := *batchOutcome(1).Batch.Results[0].Entry
	buf := make([]byte, 0, 256)
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			buf = AppendEntry(buf[:0], &e, e.Seq-1, base.UnixMicro())
		}
	})
	b.Run("read", func(b *testing.B) {
		enc := AppendEntry(nil, &e, e.Seq-1, base.UnixMicro())
		for b.Loop() {
			r := Reader{B: enc}
			r.ReadEntry(e.Seq-1, base.UnixMicro())
		}
	})
}

// TestVersionOneStillReads: entries and outcomes written before sub-accounts
// (entry and outcome version 1, which lack the sub-account fields) are read as
// they were, with those fields empty. Version 1 is version 2 without the fields
// added at the end, so the old bytes are made by cutting them off.
func TestVersionOneStillReads(t *testing.T) {
	e := filled[ledger.Entry]()
	e.SubAccountID = ""
	v2 := AppendEntry(nil, &e, 0, 0)
	v1 := v2[:len(v2)-1] // the empty sub-account id: one length byte
	r := &Reader{B: v1}
	got := r.ReadEntryVersion(1, 0, 0)
	got.AccountID = e.AccountID
	if r.Bad || len(r.B) != 0 || !cmp.Equal(got, e) {
		t.Errorf("entry version 1: bad=%v rest=%d\n%s", r.Bad, len(r.B), cmp.Diff(got, e))
	}
	a := filled[ledger.Account]()
	a.ParentID, a.Funding, a.Disabled = "", "", false
	o := ledger.Outcome{Op: ledger.OpCreateAccount, Account: &a, Entry: &e}
	b := EncodeOutcome(&o)
	b[len(outcomeMagic)] = 1
	// The account part ends the body: cut its three new fields, and the entry's
	// sub-account id, which ends the entry part just before the account's.
	old := append([]byte{}, b[:len(b)-3]...)
	entryEnd := len(EncodeOutcome(&ledger.Outcome{Op: ledger.OpCreateAccount, Entry: &e})) // the same bytes up to there
	old = append(old[:entryEnd-1:entryEnd-1], old[entryEnd:]...)
	dec, version, err := DecodeOutcome(old)
	if err != nil || version != 1 || !cmp.Equal(dec, o) {
		t.Errorf("outcome version 1: %v %d\n%s", err, version, cmp.Diff(dec, o))
	}
	// A version newer than this purse is refused, never guessed at.
	b[len(outcomeMagic)] = OutcomeVersion + 1
	if _, _, err := DecodeOutcome(b); err == nil {
		t.Error("an outcome of a newer version was read")
	}
}
