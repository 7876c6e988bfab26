package auth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// maxAllowedIPs bounds a key's address list (each request walks it).
const maxAllowedIPs = 100

// keyRule is what an API key allows beyond its secret: the addresses it may be
// used from and its validity window. Both are checked on every request, cached
// or not, so a key used from another address or outside its window gets the
// same 401 as a wrong key (nothing tells a caller which part failed).
type keyRule struct {
	prefixes []netip.Prefix // none: any address
	from, to *time.Time
}

func newKeyRule(k ledger.APIKey) (*keyRule, error) {
	if len(k.AllowedIPs) == 0 && k.ValidFrom == nil && k.ValidTo == nil {
		return nil, nil
	}
	r := &keyRule{from: k.ValidFrom, to: k.ValidTo}
	for _, s := range k.AllowedIPs {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		r.prefixes = append(r.prefixes, p)
	}
	return r, nil
}

// allows reports whether a request from client at now may use the key. An
// unknown client address ("") is refused by an address list.
func (r *keyRule) allows(client string, now time.Time) bool {
	if r.from != nil && now.Before(*r.from) || r.to != nil && !now.Before(*r.to) {
		return false
	}
	if len(r.prefixes) == 0 {
		return true
	}
	a, err := netip.ParseAddr(client)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range r.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// admit applies a principal's key rule, or its session's binding, to this
// request: every request, whether its principal came from the cache, from its
// own check, or from another request's check of the same header.
func (a *Authenticator) admit(p Principal, client string) error {
	if p.rule != nil && !p.rule.allows(client, a.now()) || p.boundTo != "" && p.boundTo != client {
		return ErrUnauthorized
	}
	return nil
}

// parsePrefix reads one allowed address: a single IPv4 or IPv6 address (a /32 or
// /128) or a CIDR range, IPv4-mapped IPv6 addresses taken as IPv4. A range with
// host bits set ("10.1.2.3/8") is refused rather than silently widened or
// narrowed: the caller meant something, and purse cannot tell what.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR range", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR range", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past its prefix length; did you mean %s?", s, p.Masked())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// CanonicalPrefixes checks a list of allowed addresses and returns each in
// canonical prefix form ("192.0.2.1/32", "2001:db8::/32"), duplicates removed;
// nil for an empty list.
func CanonicalPrefixes(list []string) ([]string, error) {
	if len(list) > maxAllowedIPs {
		return nil, fmt.Errorf("lists %d addresses; at most %d are allowed", len(list), maxAllowedIPs)
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		if c := p.String(); !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// KeyByID returns a key, revoked or not, by its id.
func (a *Authenticator) KeyByID(ctx context.Context, id string) (ledger.APIKey, error) {
	return a.store.APIKeyByID(ctx, id)
}

// KeyBySecret returns a key, revoked or not, by its clear text (Infobip's list
// filters apiKeySecret and publicApiKey).
func (a *Authenticator) KeyBySecret(ctx context.Context, secret string) (ledger.APIKey, error) {
	return a.store.APIKeyByHash(ctx, HashAPIKey(secret))
}

// UserAccount returns the account of a username ("" and false when there is no
// such user): where a failed login is recorded for its owner to read.
func (a *Authenticator) UserAccount(ctx context.Context, username string) (string, bool) {
	u, err := a.store.UserByName(ctx, username)
	if err != nil {
		return "", false
	}
	return u.AccountID, true
}
