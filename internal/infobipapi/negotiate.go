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
	var ranges []mediaRange
	for _, part := range strings.Split(accept, ",") {
		if r, ok := parseRange(part); ok {
			ranges = append(ranges, r)
		}
	}
	bestQ := 0.0
	for _, o := range offers {
		if q, matched := offerQ(o.typ, o.sub, ranges); matched && q > bestQ {
			bestQ, f, ok = q, o.format, true
		}
	}
	return f, ok
}

// mediaRange is one range of an Accept header, lower case, with its q-value.
type mediaRange struct {
	typ, sub string
	q        float64
}

// parseRange reads one comma-separated part of an Accept header. ok is false for
// an unreadable range, which matches nothing.
func parseRange(part string) (r mediaRange, ok bool) {
	params := strings.Split(part, ";")
	mt := strings.ToLower(strings.TrimSpace(params[0]))
	typ, sub, found := strings.Cut(mt, "/")
	if !found || typ == "" || sub == "" || (typ == "*" && sub != "*") {
		return mediaRange{}, false
	}
	return mediaRange{typ, sub, qValue(params[1:])}, true
}

// qValue is the q parameter among a range's parameters (the last one, if several),
// 1 when there is none. A broken q-value is 0: it does not make a range acceptable.
func qValue(params []string) float64 {
	q := 1.0
	for _, p := range params {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || parsed < 0 || parsed > 1 || parsed != parsed {
			parsed = 0
		}
		q = parsed
	}
	return q
}

// offerQ is the q-value an offer typ/sub takes: that of the most specific range
// matching it (the highest, among equally specific ones). matched is false when
// no range matches it.
func offerQ(typ, sub string, ranges []mediaRange) (q float64, matched bool) {
	q, spec := -1.0, -1
	for _, r := range ranges {
		s := specificity(r, typ, sub)
		if s > spec || (s == spec && s >= 0 && r.q > q) {
			spec, q = s, r.q
		}
	}
	return q, spec >= 0
}

// specificity is how closely r matches typ/sub: 2 exactly, 1 as typ/*, 0 as */*,
// -1 not at all.
func specificity(r mediaRange, typ, sub string) int {
	switch {
	case r.typ == typ && r.sub == sub:
		return 2
	case r.typ == typ && r.sub == "*":
		return 1
	case r.typ == "*" && r.sub == "*":
		return 0
	}
	return -1
}
