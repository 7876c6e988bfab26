package rowsum

import "testing"

func sum(rows ...[]any) Sum {
	var s Sum
	for _, r := range rows {
		s.Add(r)
	}
	return s
}

func TestSum(t *testing.T) {
	a, b := []any{int64(1), "x", nil, []byte("b")}, []any{int64(2), "y", true, []byte{}}
	for _, tc := range []struct {
		name  string
		x, y  Sum
		equal bool
	}{
		{"order does not matter", sum(a, b), sum(b, a), true},
		{"driver types do not matter", sum([]any{int32(1), true, []byte("s")}), sum([]any{int64(1), int64(1), "s"}), true},
		{"a value matters", sum([]any{int64(1)}), sum([]any{int64(2)}), false},
		{"NULL is not zero or empty", sum([]any{nil}), sum([]any{""}), false},
		{"a missing row matters", sum(a, b), sum(a), false},
		{"a duplicated row matters", sum(a, a), sum(a), false},
		{"column boundaries matter", sum([]any{"ab", "c"}), sum([]any{"a", "bc"}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.x == tc.y; got != tc.equal {
				t.Errorf("got equal=%v (%v vs %v), want %v", got, tc.x, tc.y, tc.equal)
			}
		})
	}
}
