package auth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/ledger"
)

func TestCanonicalPrefixes(t *testing.T) {
	got, err := CanonicalPrefixes([]string{"192.0.2.7", " 10.0.0.0/8 ", "2001:DB8::1", "2001:db8::/32", "::ffff:198.51.100.0/120", "192.0.2.7"})
	want := []string{"192.0.2.7/32", "10.0.0.0/8", "2001:db8::1/128", "2001:db8::/32", "198.51.100.0/24"}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"10.0.0.1/8", "nope", "1.2.3.4/33", "fe80::1%eth0", "", "2001:db8::1/64"} {
		if _, err := CanonicalPrefixes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	many := make([]string, maxAllowedIPs+1)
	for i := range many {
		many[i] = "192.0.2.1"
	}
	if _, err := CanonicalPrefixes(many); err == nil {
		t.Errorf("%d addresses accepted", len(many))
	}
}

func TestKeyRuleAllows(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	from, to := now.Add(-time.Hour), now.Add(time.Hour)
	r, err := newKeyRule(ledger.APIKey{AllowedIPs: []string{"192.0.2.0/24", "2001:db8::/32"}, ValidFrom: &from, ValidTo: &to})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		client string
		at     time.Time
		want   bool
	}{
		{"192.0.2.9", now, true},
		{"::ffff:192.0.2.9", now, true}, // an IPv4-mapped peer is its IPv4 address
		{"2001:db8:1::5", now, true},
		{"192.0.3.1", now, false},
		{"2001:db9::1", now, false},
		{"", now, false}, // unknown address: refused by an address list
		{"not-an-ip", now, false},
		{"192.0.2.9", from.Add(-time.Nanosecond), false},
		{"192.0.2.9", from, true},
		{"192.0.2.9", to, false}, // validTo is the first refused instant
	} {
		if got := r.allows(tt.client, tt.at); got != tt.want {
			t.Errorf("allows(%q, %v) = %v, want %v", tt.client, tt.at, got, tt.want)
		}
	}
	if r, err := newKeyRule(ledger.APIKey{}); r != nil || err != nil {
		t.Errorf("a key without restrictions has a rule: %+v %v", r, err)
	}
	if _, err := newKeyRule(ledger.APIKey{AllowedIPs: []string{"garbage"}}); err == nil {
		t.Errorf("an unreadable stored list was accepted")
	}
}

func TestKnownScopes(t *testing.T) {
	if len(KnownScopes) != 129 {
		t.Errorf("%d scopes, want Infobip's 129", len(KnownScopes))
	}
	for _, s := range []string{ScopeAccountManage, ScopeAuditRead, "sms:message:send", "2fa:manage"} {
		if !ValidScope(s) {
			t.Errorf("%s unknown", s)
		}
	}
	for _, s := range []string{"sms:send", "", "scope", "account-management:manage "} {
		if ValidScope(s) {
			t.Errorf("%q known", s)
		}
	}
}
