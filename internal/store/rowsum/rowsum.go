// Package rowsum checksums a table's rows so that a copy can be compared with its
// source across databases: independent of the order rows are read in (SQLite and
// PostgreSQL sort text differently) and of each driver's Go types (an INTEGER
// 0/1 in SQLite is a BOOLEAN in PostgreSQL, an int64 here an int32 there).
package rowsum

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
)

// Sum is the number of rows and the lane-wise sum (mod 2^64) of their SHA-256
// digests: a multiset hash, so equal tables have equal sums whatever their order.
// The zero value is the sum of no rows.
type Sum struct {
	Rows  int64
	lanes [4]uint64
}

// Add adds one row: its values in column order. Integers of any width and
// booleans (as 0 and 1) count as the same integer; strings and byte slices as the
// same bytes; nil as NULL. Any other type panics: it has no canonical form here.
func (s *Sum) Add(row []any) {
	h := sha256.New()
	var buf [9]byte
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			h.Write([]byte{0})
		case bool:
			buf[0] = 1
			if x {
				binary.BigEndian.PutUint64(buf[1:], 1)
			} else {
				binary.BigEndian.PutUint64(buf[1:], 0)
			}
			h.Write(buf[:])
		case int64:
			s.int(h, buf[:], x)
		case int32:
			s.int(h, buf[:], int64(x))
		case int16:
			s.int(h, buf[:], int64(x))
		case int:
			s.int(h, buf[:], int64(x))
		case float64:
			buf[0] = 3
			binary.BigEndian.PutUint64(buf[1:], math.Float64bits(x))
			h.Write(buf[:])
		case string:
			s.bytes(h, buf[:], []byte(x))
		case []byte:
			s.bytes(h, buf[:], x)
		default:
			panic(fmt.Sprintf("rowsum: no canonical form for %T", v))
		}
	}
	d := h.Sum(nil)
	for i := range s.lanes {
		s.lanes[i] += binary.BigEndian.Uint64(d[8*i:])
	}
	s.Rows++
}

func (s *Sum) int(h interface{ Write([]byte) (int, error) }, buf []byte, v int64) {
	buf[0] = 1
	binary.BigEndian.PutUint64(buf[1:], uint64(v))
	h.Write(buf)
}

func (s *Sum) bytes(h interface{ Write([]byte) (int, error) }, buf []byte, b []byte) {
	buf[0] = 2
	binary.BigEndian.PutUint64(buf[1:], uint64(len(b)))
	h.Write(buf)
	h.Write(b)
}

// String is the row count and the checksum in hex.
func (s Sum) String() string {
	return fmt.Sprintf("%d rows, checksum %016x%016x%016x%016x", s.Rows, s.lanes[0], s.lanes[1], s.lanes[2], s.lanes[3])
}
