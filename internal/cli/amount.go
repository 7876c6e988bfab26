package cli

import (
	"strings"

	"github.com/purse-ledger/purse/internal/ledger"
)

// checkAmount refuses an AMOUNT that is not a decimal number before it is sent,
// in the words of the argument it is: the server's message names the JSON field.
func checkAmount(s string) error {
	if _, err := ledger.ParseAmount(s); err != nil {
		return Usagef("AMOUNT %q: %s", s, strings.TrimPrefix(err.Error(), "amount "))
	}
	return nil
}
