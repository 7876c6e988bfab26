package httpkit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Hosts is the set of Host header values a private listener answers. A browser
// page can make a name it controls resolve to 127.0.0.1 (DNS rebinding) and then
// send requests there as its own origin; those requests carry the attacker's name
// in Host, which is how the listener tells them apart. Allowed are: the address the
// connection came in on, the loopback names (localhost, 127.0.0.1, ::1 and the
// rest of the loopback range), each with the listener's port, and the configured
// names, with any port or with the one given.
type Hosts struct {
	names map[string]int // lower-case name -> required port, or 0 for any
}

// ParseHosts reads a comma-separated list of extra names ("admin.internal",
// "ops.example:9443"); an empty list allows only the listener's own addresses.
func ParseHosts(list string) (*Hosts, error) {
	h := &Hosts{names: map[string]int{}}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, port := item, 0
		if n, p, err := net.SplitHostPort(item); err == nil {
			v, err := strconv.Atoi(p)
			if err != nil || v <= 0 || v > 65535 {
				return nil, fmt.Errorf("host %q: bad port", item)
			}
			name, port = n, v
		}
		name = canonicalHost(name)
		if name == "" || strings.ContainsAny(name, "/ @") {
			return nil, fmt.Errorf("host %q: want a name or name:port", item)
		}
		h.names[name] = port
	}
	return h, nil
}

// canonicalHost lower-cases a name and drops a trailing dot ("LocalHost." is
// localhost) and IPv6 brackets.
func canonicalHost(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(s, "[]")), ".")
}

// Allowed reports whether r's Host header names this listener. A request without a
// Host (HTTP/1.0) is allowed: browsers always send one.
func (h *Hosts) Allowed(r *http.Request) bool {
	if r.Host == "" {
		return true
	}
	name, port := r.Host, 0
	if n, p, err := net.SplitHostPort(r.Host); err == nil {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 || v > 65535 {
			return false
		}
		name, port = n, v
	} else if strings.Contains(strings.Trim(r.Host, "[]"), ":") && !strings.HasPrefix(r.Host, "[") {
		return false // a bare IPv6 address without brackets is not a Host
	}
	name = canonicalHost(name)
	if want, ok := h.names[name]; ok {
		return want == 0 || want == port
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	lp, err := netip.ParseAddrPort(addrString(local))
	if err != nil {
		return false
	}
	if port == 0 {
		// No port means the scheme's default: only right when the listener is on it.
		port = 80
		if r.TLS != nil {
			port = 443
		}
	}
	if port != int(lp.Port()) {
		return false
	}
	if name == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false // any other name: only the configured ones
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip == lp.Addr().Unmap()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
