package httpkit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Edge is what a listener does for every request before its handler sees it, and
// to every answer: the client's address behind trusted proxies, security headers,
// and CORS. The zero value trusts no proxy and answers no CORS.
type Edge struct {
	// TrustedProxies are the peers whose X-Forwarded-For purse believes: for a
	// request from one, the client is the nearest forwarded address that is not
	// itself a trusted proxy. Without them X-Forwarded-For is ignored, so a client
	// cannot choose the address its failed logins count against.
	TrustedProxies []netip.Prefix
	// CORS, when set, answers browsers on the allowed origins (public API only).
	CORS *CORS
}

// ParsePrefixes reads a comma-separated list of CIDRs or single addresses.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an address", item)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (e *Edge) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range e.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr sets r.RemoteAddr to the client a trusted proxy forwarded for, so the
// handlers (failure limits, the audit log) and the request log all see it. The
// rightmost address not of a trusted proxy is the client: those left of it were
// written by the client itself and prove nothing.
func (e *Edge) clientAddr(r *http.Request) {
	if len(e.TrustedProxies) == 0 {
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !e.trusted(peer) {
		return
	}
	fwd := r.Header.Values("X-Forwarded-For")
	for i := len(fwd) - 1; i >= 0; i-- {
		parts := strings.Split(fwd[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return // a malformed hop: keep the proxy's own address
			}
			if !e.trusted(a) {
				r.RemoteAddr = netip.AddrPortFrom(a.Unmap(), 0).String()
				return
			}
		}
	}
}

// Header values shared by every answer (assigning them allocates nothing).
var (
	noStore = []string{"no-store"}
	// htmlCSP lets an HTML page (pprof's index, net/http's own pages) load and run
	// nothing, nor be framed: purse serves no page that needs to.
	htmlCSP = []string{"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}
)

// secure sets the headers every answer carries: no-store, because nearly every
// answer is for a credential (a balance, a token, an admin listing) and a shared
// cache must never keep one; nosniff, so a browser never guesses a type.
func secure(h http.Header) {
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = nosniff
}

// CORS answers browsers on allowed origins. A preflight (OPTIONS with
// Access-Control-Request-Method) is answered here, 204 or 403, and never reaches the
// handler; other requests get Access-Control-Allow-Origin when their Origin is
// allowed. Credentials travel in the Authorization header the page sets, never in
// cookies, so Access-Control-Allow-Credentials is not sent.
type CORS struct {
	origins map[string]bool
	any     bool
}

// ParseCORS reads a comma-separated list of origins ("https://app.example"), or
// "*" for any; an empty list is nil: CORS off.
func ParseCORS(list string) (*CORS, error) {
	c := &CORS{origins: map[string]bool{}}
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			c.any = true
		case strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://"):
			if strings.Count(o, "/") != 2 {
				return nil, fmt.Errorf("origin %q: an origin is scheme://host[:port], without a path", o)
			}
			c.origins[strings.ToLower(o)] = true
		default:
			return nil, fmt.Errorf("origin %q: want http://... or https://...", o)
		}
	}
	if !c.any && len(c.origins) == 0 {
		return nil, nil
	}
	return c, nil
}

// corsMaxAge lets a browser keep a preflight answer for 10 minutes.
var (
	corsMethods = []string{"GET, HEAD, POST, PUT, DELETE"} // PUT: /settings/1/accounts/{accountKey}
	corsHeaders = []string{"Authorization, Accept, Content-Type"}
	corsMaxAge  = []string{"600"}
	corsVary    = "Origin"
)

// handle adds the CORS headers and reports whether the request was a preflight it
// answered.
func (c *CORS) handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", corsVary)
	allowed := c.any || c.origins[strings.ToLower(origin)]
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if !preflight {
		return false
	}
	if !allowed {
		w.WriteHeader(http.StatusForbidden)
		return true
	}
	h["Access-Control-Allow-Methods"] = corsMethods
	h["Access-Control-Allow-Headers"] = corsHeaders
	h["Access-Control-Max-Age"] = corsMaxAge
	w.WriteHeader(http.StatusNoContent)
	return true
}

// SetPrincipal names who the request acts for in its log line ("user:Aladdin",
// "key:ak_...", "oauth-client:oc_...", "token:3f2a..."): never a secret. w is the
// writer the handler was given, or one wrapping it (through Unwrap).
func SetPrincipal(w http.ResponseWriter, principal string) {
	for w != nil {
		if rec, ok := w.(*recorder); ok {
			rec.principal = principal
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
