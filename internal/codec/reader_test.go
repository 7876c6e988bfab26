package codec

import (
	"encoding/binary"
	"testing"
)

func TestReaderRoundTripAndDamage(t *testing.T) {
	var b []byte
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -5)
	b = AppendString(b, "héllo")
	b = append(b, 7)
	r := &Reader{B: b}
	if u, v, s, c := r.Uvarint(), r.Varint(), r.Str(), r.Byte(); u != 300 || v != -5 || s != "héllo" || c != 7 || r.Bad || len(r.B) != 0 {
		t.Fatalf("read %d %d %q %d bad=%v rest=%d", u, v, s, c, r.Bad, len(r.B))
	}
	for i := 0; i < len(b); i++ { // every truncation is noticed by the last read at the latest
		r := &Reader{B: b[:i]}
		r.Uvarint()
		r.Varint()
		r.Str()
		r.Byte()
		if !r.Bad {
			t.Fatalf("cut to %d of %d bytes: not noticed", i, len(b))
		}
	}
	r = &Reader{B: binary.AppendUvarint(nil, 1<<40)} // a length beyond the input
	if r.Bytes(); !r.Bad {
		t.Error("a length past the end was accepted")
	}
}
