package ledger

import (
	"strings"
	"testing"
	"time"
)

func TestIDsCarryTheirTime(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewIDAt("mov", at)
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if len(id) != len("mov_")+26 || id[:4] != "mov_" || strings.ToLower(id) != id {
			t.Fatalf("id %q: want mov_ and 26 lower-case characters", id)
		}
		if got, ok := IDTime(id); !ok || !got.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("IDTime(%s) = %v, %v; want %v", id, got, ok, at.Truncate(time.Millisecond))
		}
	}
	if a, b := NewIDAt("mov", at), NewIDAt("mov", at.Add(time.Millisecond)); a >= b {
		t.Errorf("ids do not sort by time: %s >= %s", a, b)
	}
	for _, bad := range []string{"", "mov", "mov_", "mov_short", "mov_0123456789abcdefghjkmnpqrst", "mov_ILLEGAL!!0123456789abcdef"} {
		if _, ok := IDTime(bad); ok {
			t.Errorf("IDTime(%q) accepted", bad)
		}
	}
}
