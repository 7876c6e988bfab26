package ledger

import (
	"errors"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", nil},
		{"ASCII", "sms 42 / campaign-7", nil},
		{"accents and emoji", "Café Ünïcödé 😀 日本", nil},
		{"U+FFFD itself", "\uFFFD", nil},
		{"zero-width joiner (a format character, not a control)", "a\u200db", nil},
		{"NUL", "a\x00b", ErrTextControls},
		{"tab", "a\tb", ErrTextControls},
		{"newline", "a\nb", ErrTextControls},
		{"carriage return", "a\rb", ErrTextControls},
		{"escape", "\x1b[2J", ErrTextControls},
		{"DEL", "a\x7f", ErrTextControls},
		{"C1 CSI", "a\u009bb", ErrTextControls},
		{"next line", "a\u0085b", ErrTextControls},
		{"lone continuation byte", "a\x80", ErrTextNotUTF8},
		{"Latin-1 é", "caf\xe9", ErrTextNotUTF8},
		{"overlong slash", "\xc0\xaf", ErrTextNotUTF8},
		{"encoded surrogate", "\xed\xa0\x80", ErrTextNotUTF8},
		{"truncated sequence", "\xe6\x97", ErrTextNotUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckText(tt.in)
			if !errors.Is(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("CheckText(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzCheckText: CheckText accepts exactly the valid UTF-8 strings without a
// rune in Unicode's Cc category.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "abc", "a\x00", "caf\xe9", "\u009b", "😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := utf8.ValidString(s)
		for _, r := range s {
			if unicode.IsControl(r) {
				want = false
			}
		}
		if got := CheckText(s) == nil; got != want {
			t.Errorf("CheckText(%q) accepts = %v, want %v", s, got, want)
		}
	})
}
