package cli

import "testing"

func TestTerm(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name", "plain name"},
		{"Café 😀 日本", "Café 😀 日本"},
		{"", ""},
		{"a\tb", `"a\tb"`},
		{"\x1b[2J", `"\x1b[2J"`},
		{"bell\a", `"bell\a"`},
		{"\u009b31m", `"\u009b31m"`},
		{"caf\xe9", `"caf\xe9"`},
		{"abc\u202edcba", `"abc\u202edcba"`},
		{`say "hi"`, `say "hi"`}, // quotes alone are printable
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Term(tt.in); got != tt.want {
				t.Errorf("Term(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
