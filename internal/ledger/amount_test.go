package ledger

import (
	"errors"
	"math"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    Amount
		wantErr error
	}{
		{"47.79134", 47_791_340, nil},
		{"0", 0, nil},
		{"-0", 0, nil},
		{"0.000001", 1, nil},
		{"1", 1_000_000, nil},
		{"-1.5", -1_500_000, nil},
		{"007.10", 7_100_000, nil},
		{"1.1000000", 1_100_000, nil},
		{"9223372036854.775807", math.MaxInt64, nil},
		{"-9223372036854.775808", math.MinInt64, nil},
		{"9223372036854.775808", 0, ErrAmountOverflow},
		{"-9223372036854.775809", 0, ErrAmountOverflow},
		{"99999999999999", 0, ErrAmountOverflow},
		{"1e3", 0, ErrAmountSyntax},
		{"+1", 0, ErrAmountSyntax},
		{"", 0, ErrAmountSyntax},
		{"-", 0, ErrAmountSyntax},
		{".5", 0, ErrAmountSyntax},
		{"5.", 0, ErrAmountSyntax},
		{"1,5", 0, ErrAmountSyntax},
		{" 1", 0, ErrAmountSyntax},
		{"1.2.3", 0, ErrAmountSyntax},
		{"NaN", 0, ErrAmountSyntax},
		{"--1", 0, ErrAmountSyntax},
		{"0.0000001", 0, ErrAmountPrecision},
		{"1.1234567", 0, ErrAmountPrecision},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseAmount(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseAmount(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		in   Amount
		want string
	}{
		{47_791_340, "47.79134"},
		{0, "0"},
		{1, "0.000001"},
		{-1, "-0.000001"},
		{-1_500_000, "-1.5"},
		{100_000_000, "100"},
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestAmountArithmeticOverflow(t *testing.T) {
	if _, err := Amount(math.MaxInt64).Add(1); !errors.Is(err, ErrAmountOverflow) {
		t.Errorf("MaxInt64+1: got %v, want overflow", err)
	}
	if _, err := Amount(math.MinInt64).Add(-1); !errors.Is(err, ErrAmountOverflow) {
		t.Errorf("MinInt64-1: got %v, want overflow", err)
	}
	if _, err := Amount(0).Sub(math.MinInt64); !errors.Is(err, ErrAmountOverflow) {
		t.Errorf("0-MinInt64: got %v, want overflow", err)
	}
	if got, err := Amount(-1).Sub(math.MinInt64); err != nil || got != math.MaxInt64 {
		t.Errorf("-1-MinInt64 = %d, %v; want MaxInt64", got, err)
	}
	if _, err := Amount(math.MinInt64).Neg(); !errors.Is(err, ErrAmountOverflow) {
		t.Errorf("-MinInt64: got %v, want overflow", err)
	}
	if got, err := Amount(5).Add(-7); err != nil || got != -2 {
		t.Errorf("5+-7 = %d, %v", got, err)
	}
}

// FuzzParseAmount checks that every accepted amount prints back to a string that
// parses to the same value, so nothing is ever silently rounded.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"47.79134", "0", "-1.5", "1e3", "0.0000001", "9223372036854.775807", "-", "00.100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		back, err := ParseAmount(a.String())
		if err != nil {
			t.Fatalf("ParseAmount(%q) = %d whose String %q does not parse: %v", s, a, a.String(), err)
		}
		if back != a {
			t.Fatalf("round trip of %q: %d -> %q -> %d", s, a, a.String(), back)
		}
	})
}
