package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// DeliveryVersion is the delivery log block format's version: a block's first
// byte. A deliverer's save appends its attempts since the last save as one block
// (store/sqlite): one row and one index entry a save, not one a delivery, because
// the save holds SQLite's single writer that the charges' commits wait for.
//
// Version 1. The lines one after another, each: event id, varint event sequence −
// the line before's (0 before the first), uvarint attempt, varint at − the line
// before's (Unix microseconds; 0 before the first), uvarint status, uvarint
// latency in microseconds, a byte 1 or 0 for ok, and the snippet. Strings are a
// uvarint length and their bytes. A line's own sequence is not written: a block's
// lines are consecutive, from the block's first sequence, so the count is the
// block's (last − first + 1) and a reader checks that it uses up the block exactly.
// The subscription is the block's row's.
const DeliveryVersion = 1

// AppendDeliveries appends a block of log lines in the current version.
func AppendDeliveries(b []byte, ds []ledger.Delivery) []byte {
	b = append(b, DeliveryVersion)
	var seq, at int64
	for i := range ds {
		d := &ds[i]
		us := d.At.UnixMicro()
		b = AppendString(b, d.EventID)
		b = binary.AppendVarint(b, d.EventSeq-seq)
		b = binary.AppendUvarint(b, uint64(max(d.Attempt, 0)))
		b = binary.AppendVarint(b, us-at)
		b = binary.AppendUvarint(b, uint64(max(d.Status, 0)))
		b = binary.AppendUvarint(b, uint64(max(d.Latency.Microseconds(), 0)))
		b = appendBool(b, d.OK)
		b = AppendString(b, d.Snippet)
		seq, at = d.EventSeq, us
	}
	return b
}

// errDeliveryBlock is a block that does not decode: damage, or a version this
// build does not know.
var errDeliveryBlock = errors.New("codec: damaged delivery log block")

// DecodeDeliveries decodes a block of n lines, the first numbered firstSeq, of
// the subscription subscriptionID.
func DecodeDeliveries(data []byte, subscriptionID string, firstSeq int64, n int) ([]ledger.Delivery, error) {
	if len(data) == 0 || data[0] != DeliveryVersion || n < 0 {
		return nil, fmt.Errorf("%w: version %v, %d lines", errDeliveryBlock, data[:min(len(data), 1)], n)
	}
	r := Reader{B: data[1:]}
	// A line takes 8 bytes at least: a damaged count cannot make a huge slice.
	out := make([]ledger.Delivery, 0, min(n, len(data)/8+1))
	var seq, at int64
	for i := 0; i < n && !r.Bad; i++ {
		d := ledger.Delivery{Seq: firstSeq + int64(i), SubscriptionID: subscriptionID, EventID: r.Str()}
		seq += r.Varint()
		d.EventSeq = seq
		d.Attempt = int(r.Uvarint())
		at += r.Varint()
		d.At = time.UnixMicro(at).UTC()
		d.Status = int(r.Uvarint())
		d.Latency = time.Duration(r.Uvarint()) * time.Microsecond
		d.OK = r.Bool()
		d.Snippet = r.Str()
		out = append(out, d)
	}
	if r.Bad || len(r.B) != 0 {
		return nil, fmt.Errorf("%w: %d lines from %d", errDeliveryBlock, n, firstSeq)
	}
	return out, nil
}
