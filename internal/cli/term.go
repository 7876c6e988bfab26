package cli

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Term returns s as the purse command may print it on a terminal. Names,
// references, usernames and audit targets come back from the server, and a store
// written before purse refused control characters (or a request path in the audit
// log) may hold any bytes: an escape sequence printed raw would rewrite the
// operator's screen, a tab or newline would break the table. So a string with a
// control character, a bidirectional override or invalid UTF-8 is printed as a Go
// quoted string (strconv.Quote: "\x1b[2J", "a\tb"), and every other string as it
// is. --json output needs none of this: encoding/json escapes control characters.
func Term(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unicode.IsControl(r) || isBidi(r) {
			return strconv.Quote(s)
		}
		i += size
	}
	return s
}

// isBidi reports whether r is one of Unicode's bidirectional formatting
// characters, which reorder how the rest of a line is displayed.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// tprintf is fmt.Fprintf for the text output: every argument of a string kind
// (a name, a reference, an id, a joined list) goes through term; the format's own
// tabs and newlines lay out the table.
func tprintf(w io.Writer, format string, args ...any) {
	for i, a := range args {
		if v := reflect.ValueOf(a); v.Kind() == reflect.String {
			args[i] = term(v.String())
		}
	}
	fmt.Fprintf(w, format, args...)
}

// term is Term, for the printers of this package.
func term(s string) string { return Term(s) }
