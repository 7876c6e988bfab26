package ledger

import "testing"

// TestCurrencyNumeric pins well-known numeric codes, so a slip while editing the
// table (a shifted column, a swapped pair) shows up here rather than in a client.
func TestCurrencyNumeric(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{"EUR", 978}, {"USD", 840}, {"GBP", 826}, {"JPY", 392}, {"CHF", 756},
		{"SEK", 752}, {"CNY", 156}, {"INR", 356}, {"BRL", 986}, {"ZAR", 710},
		{"XCG", 532}, {"ZWG", 924}, {"SLE", 925}, {"VED", 926},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, ok := LookupCurrency(tt.code)
			if !ok {
				t.Fatalf("LookupCurrency(%q) not found", tt.code)
			}
			if c.Numeric != tt.want {
				t.Errorf("%s numeric = %d, want %d", tt.code, c.Numeric, tt.want)
			}
		})
	}
	// Every entry has a three-digit code; only ANG and XCG share one.
	seen := map[int]string{}
	for _, code := range CurrencyCodes() {
		c, _ := LookupCurrency(code)
		if c.Numeric < 1 || c.Numeric > 999 {
			t.Errorf("%s numeric = %d, want 1..999", code, c.Numeric)
		}
		if other, dup := seen[c.Numeric]; dup && !(other == "ANG" && code == "XCG") {
			t.Errorf("%s and %s share numeric %d", other, code, c.Numeric)
		}
		seen[c.Numeric] = code
	}
}
