package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Flag values from the environment, parsed one way: the way the flag package
// parses the flag itself. A value that does not parse is an error that names the
// variable, never a silent default (PURSE_DEMO=yes used to mean "off").

// envErrs collects the environment variables that did not parse.
type envErrs []string

func (p *envErrs) err() error {
	if len(*p) == 0 {
		return nil
	}
	return usagef("%s", strings.Join(*p, "; "))
}

// bool is a boolean flag default from the environment, in strconv.ParseBool's
// spelling (1, t, T, TRUE, true, True, and their negatives), as for --flag=value.
func (p *envErrs) bool(e env, name string, def bool) bool {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*p = append(*p, fmt.Sprintf("%s=%q: want true or false (or 1, 0, t, f, TRUE, FALSE)", name, v))
		return def
	}
	return b
}

// duration is a duration flag default from the environment.
func (p *envErrs) duration(e env, name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		*p = append(*p, fmt.Sprintf("%s=%q: want a duration such as 90s, 10m or 24h", name, v))
		return def
	}
	return d
}

// positive refuses a zero or negative duration flag: a session that ends at once,
// a key window in the past or a shutdown with no time to finish is a typo.
func positive(flag string, d time.Duration) error {
	if d <= 0 {
		return usagef("%s %v: must be more than 0 (flag, or its PURSE_* variable)", flag, d)
	}
	return nil
}

// minTokenBits is the least estimated entropy of an admin token given to purse:
// 256 bits, the 32 random bytes purse makes itself.
const minTokenBits = 256

// checkAdminToken refuses an admin token that is short or drawn from too few
// characters to be a random one. The estimate is the token's length times the
// bits per character of the smallest usual alphabet it fits (hex, base64,
// printable ASCII), so `openssl rand -hex 32` (64 hex digits) and
// `openssl rand -base64 32` pass, and a word, a repeated character or a short
// string does not.
func checkAdminToken(tok string) error {
	if tokenBits(tok) >= minTokenBits {
		return nil
	}
	return usagef("the admin token is too weak (about %.0f bits; at least %d needed): make one with `openssl rand -hex 32`",
		tokenBits(tok), minTokenBits)
}

// tokenBits estimates the entropy of tok: its length times the bits per character
// of the smallest alphabet it fits, or 0 when it is not a string anyone generated
// at random.
func tokenBits(tok string) float64 {
	hex, b64 := true, true
	for _, r := range tok {
		if r < 0x21 || r > 0x7e {
			return 0 // spaces, control characters and non-ASCII: not a token anyone generated
		}
		hex = hex && isHexDigit(r)
		b64 = b64 && (isAlnum(r) || strings.ContainsRune("+/=-_", r))
	}
	if !looksRandom(tok) {
		return 0
	}
	perChar := math.Log2(95)
	switch {
	case hex:
		perChar = 4
	case b64:
		perChar = 6
	}
	return float64(len(tok)) * perChar
}

// looksRandom: a random string uses much of its alphabet and does not repeat
// itself, so "aaaa…" and "password123password123…" are not random, however long.
// (A run of 8 characters recurs in 64 random hex digits with a chance of about 1
// in 2.5 million.)
func looksRandom(tok string) bool {
	distinct := map[rune]bool{}
	for _, r := range tok {
		distinct[r] = true
	}
	if len(distinct) < 10 {
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+8 <= len(tok); i++ {
		if seen[tok[i:i+8]] {
			return false
		}
		seen[tok[i:i+8]] = true
	}
	return true
}

func isHexDigit(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}
