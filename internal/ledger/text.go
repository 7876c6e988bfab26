package ledger

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Text that people give purse (account names, references, reasons, usernames,
// credential names, metadata keys and values) is stored, logged, returned by the
// API and printed by the purse command on an operator's terminal. A control
// character in it is never meant: at best it garbles a table, at worst it is an
// escape sequence that rewrites what the operator sees. Invalid UTF-8 cannot be
// rendered faithfully in JSON at all. CheckText is the one rule for all of them.

// Errors of CheckText; their text reads after a field name ("reference is not
// valid UTF-8").
var (
	ErrTextNotUTF8  = errors.New("is not valid UTF-8")
	ErrTextControls = errors.New("must not contain control characters")
)

// CheckText reports whether s may be stored as text: valid UTF-8 with no control
// character (Unicode category Cc: U+0000 to U+001F, U+007F to U+009F, which
// includes tab, newline and the escape character). It returns nil,
// ErrTextNotUTF8, or an error wrapping ErrTextControls that names the first such
// character.
func CheckText(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return ErrTextNotUTF8
			}
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%w (U+%04X at byte %d)", ErrTextControls, r, i)
		}
		i += size
	}
	return nil
}
