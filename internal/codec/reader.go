package codec

import "encoding/binary"

// Reader reads what the Append functions wrote: varints and uvarint-length-prefixed
// strings. It never panics on damaged input: the first fault sets Bad and every
// later read returns a zero value.
type Reader struct {
	B   []byte
	Bad bool // a read ran past the end or met a malformed varint

	outcomeVersion byte // of the outcome being read (DecodeOutcome)
}

func (r *Reader) fail() {
	r.Bad, r.B = true, nil
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Bytes reads a uvarint length and that many bytes (not copied).
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.fail()
		return nil
	}
	out := r.B[:n]
	r.B = r.B[n:]
	return out
}

// Str is Bytes as a string (not String: a Reader is no fmt.Stringer).
func (r *Reader) Str() string { return string(r.Bytes()) }

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.B) == 0 {
		r.fail()
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// AppendString appends a uvarint length and s.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
