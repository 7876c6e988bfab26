package infobipapi

import (
	"strconv"
	"strings"

	"github.com/purse-ledger/purse/internal/httpkit"
)

// offers are the media types the public API can produce, in the order that breaks
// ties (JSON first: it is Infobip's default).
var offers = []struct {
	typ, sub string
	format   httpkit.Format
}{
	{"application", "json", httpkit.JSON},
	{"application", "xml", httpkit.XML},
	{"text", "xml", httpkit.XML},
}

// negotiate picks a format from an Accept header following RFC 9110: each offer
// takes the q-value of the most specific media range that matches it, the highest
// q above zero wins, ties go to the earlier offer. No header (or an empty one)
// means JSON. ok is false when nothing acceptable is offered (406).
func negotiate(accept string) (f httpkit.Format, ok bool) {
	switch accept { // what clients send nearly always, answered without parsing
	case "", "*/*", "application/json":
		return httpkit.JSON, true
	case "application/xml":
		return httpkit.XML, true
	}
	return negotiateRanges(accept)
}

// negotiateRanges is negotiate for any header: it parses the media ranges.
func negotiateRanges(accept string) (f httpkit.Format, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return httpkit.JSON, true
	}
	type rng struct {
		typ, sub string
		q        float64
	}
	var ranges []rng
	for _, part := range strings.Split(accept, ",") {
		params := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(params[0]))
		typ, sub, found := strings.Cut(mt, "/")
		if !found || typ == "" || sub == "" || (typ == "*" && sub != "*") {
			continue // an unreadable range matches nothing
		}
		q := 1.0
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || parsed < 0 || parsed > 1 || parsed != parsed {
					parsed = 0 // a broken q-value does not make a range acceptable
				}
				q = parsed
			}
		}
		ranges = append(ranges, rng{typ, sub, q})
	}
	bestQ := 0.0
	for _, o := range offers {
		q, spec := -1.0, -1
		for _, r := range ranges {
			s := -1
			switch {
			case r.typ == o.typ && r.sub == o.sub:
				s = 2
			case r.typ == o.typ && r.sub == "*":
				s = 1
			case r.typ == "*" && r.sub == "*":
				s = 0
			}
			if s > spec || (s == spec && s >= 0 && r.q > q) {
				spec, q = s, r.q
			}
		}
		if spec >= 0 && q > bestQ {
			bestQ, f, ok = q, o.format, true
		}
	}
	return f, ok
}
