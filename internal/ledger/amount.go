package ledger

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scale is the number of fractional decimal digits an Amount keeps.
//
// Money is an int64 count of micro-units (10^-6 of the currency's major unit).
// Why: Infobip prices messages in fractions of a cent (the documented balance is
// 47.79134 EUR), integers are exact and fast, and both SQLite and PostgreSQL store
// them natively (INTEGER / BIGINT) so no layer ever sees a float. The range is
// ±9,223,372,036,854.775807 per account or movement; arithmetic that would leave
// it fails with ErrAmountOverflow instead of wrapping, and a movement that would
// take a balance out of it is refused with ErrAmountOutOfRange. Changing Scale changes
// the meaning of every stored number: it needs a data migration, not an edit here.
const Scale = 6

const unit = 1_000_000 // 10^Scale

// Amount is an exact signed quantity of money in micro-units. Its zero value is zero.
type Amount int64

// ErrAmountOverflow is returned when a result would leave the range of Amount.
var ErrAmountOverflow = errors.New("amount out of range")

// ErrAmountSyntax is returned by ParseAmount for text that is not a plain decimal.
var ErrAmountSyntax = errors.New("amount must be a decimal number such as 12.345")

// ErrAmountPrecision is returned by ParseAmount for more fractional digits than Scale.
var ErrAmountPrecision = fmt.Errorf("amount has more than %d decimal places", Scale)

// ParseAmount reads a plain decimal ("12", "-0.5", "47.79134"). It accepts no
// exponent, no '+', no spaces, no thousands separators and no leading or trailing
// dot; more than Scale fractional digits are rejected rather than rounded, and a
// value outside the range of Amount returns ErrAmountOverflow.
func ParseAmount(s string) (Amount, error) {
	if len(s) == 0 || len(s) > 40 {
		return 0, ErrAmountSyntax
	}
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && fracPart == "") {
		return 0, ErrAmountSyntax
	}
	if !allDigits(intPart) || !allDigits(fracPart) {
		return 0, ErrAmountSyntax
	}
	if len(fracPart) > Scale {
		// Trailing zeros beyond Scale carry no value; anything else would be rounded.
		if strings.TrimRight(fracPart[Scale:], "0") != "" {
			return 0, ErrAmountPrecision
		}
		fracPart = fracPart[:Scale]
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 13 {
		return 0, ErrAmountOverflow
	}
	var whole uint64
	if intPart != "" {
		v, err := strconv.ParseUint(intPart, 10, 64)
		if err != nil {
			return 0, ErrAmountOverflow
		}
		whole = v
	}
	var frac uint64
	if fracPart != "" {
		v, err := strconv.ParseUint(fracPart+strings.Repeat("0", Scale-len(fracPart)), 10, 64)
		if err != nil {
			return 0, ErrAmountSyntax
		}
		frac = v
	}
	total := whole*unit + frac // whole < 10^13 so this fits in uint64
	if neg {
		if total > uint64(math.MaxInt64)+1 {
			return 0, ErrAmountOverflow
		}
		return Amount(-int64(total-1) - 1), nil
	}
	if total > math.MaxInt64 {
		return 0, ErrAmountOverflow
	}
	return Amount(total), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustParseAmount is ParseAmount for constants in code and tests; it panics on error.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(fmt.Sprintf("ledger.MustParseAmount(%q): %v", s, err))
	}
	return a
}

// String renders the exact decimal with no exponent and no trailing zeros:
// 47.79134, 0, -1.5. The output is both a valid decimal string and a valid JSON number.
func (a Amount) String() string {
	var u uint64
	neg := a < 0
	if neg {
		u = uint64(-(a + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(a)
	}
	whole := strconv.FormatUint(u/unit, 10)
	frac := u % unit
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(whole)
	if frac != 0 {
		f := strconv.FormatUint(frac, 10)
		f = strings.Repeat("0", Scale-len(f)) + f
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(f, "0"))
	}
	return b.String()
}

// Append appends String's rendering of a to b, without allocating a string.
func (a Amount) Append(b []byte) []byte {
	var u uint64
	if a < 0 {
		u = uint64(-(a + 1)) + 1 // safe for math.MinInt64
		b = append(b, '-')
	} else {
		u = uint64(a)
	}
	b = strconv.AppendUint(b, u/unit, 10)
	frac := u % unit
	if frac == 0 {
		return b
	}
	var digits [Scale]byte
	for i := Scale - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := Scale
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// Add returns a+b or ErrAmountOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrAmountOverflow
	}
	return s, nil
}

// Sub returns a-b or ErrAmountOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	if b == math.MinInt64 {
		if a >= 0 {
			return 0, ErrAmountOverflow
		}
		return a - b, nil
	}
	return a.Add(-b)
}

// Neg returns -a or ErrAmountOverflow for the one value without a negation.
func (a Amount) Neg() (Amount, error) {
	if a == math.MinInt64 {
		return 0, ErrAmountOverflow
	}
	return -a, nil
}
