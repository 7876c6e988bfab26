// Package fault is purse's fault injection, for purse serve --emulator: rules that
// make chosen requests slow, fail, lose their connection or their answer, so that
// code written against Infobip's API can rehearse the failures the real service
// has. A Set holds the rules (the admin API's /v1/faults edits them); Set.Handler
// puts them in front of a listener's handler.
//
// Which actions let the request through: "error" and "reset" answer before the
// request reaches purse's handlers, so nothing is read, charged or stored. "delay"
// holds the request, then serves it as usual. "cut" and "slow" serve the request
// (a charge is made) and damage its answer on the way back: that is the lost
// answer a client's retry with the same Idempotency-Key must survive.
package fault

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// The actions a rule may take.
const (
	ActionDelay = "delay" // wait, then serve
	ActionError = "error" // answer Status in Infobip's error envelope
	ActionReset = "reset" // reset the connection (TCP RST), no answer
	ActionCut   = "cut"   // serve, then send CutAfter bytes of the body and close
	ActionSlow  = "slow"  // serve, then send the body ChunkBytes at a time, Delay apart
)

// Actions are every action, in the order the documentation lists them.
var Actions = []string{ActionDelay, ActionError, ActionReset, ActionCut, ActionSlow}

// Limits on a rule.
const (
	DefaultTTL = 10 * time.Minute // a rule nobody cleared stops on its own
	MaxTTL     = 24 * time.Hour
	MaxDelay   = 5 * time.Minute
	MaxRules   = 1000
)

// Spec is a rule as a client writes it: what it matches, what it does, how often
// and for how long. Empty match fields match anything.
type Spec struct {
	// Listener is "public" or "admin"; "": both.
	Listener string `json:"listener,omitempty"`
	// Route is a path pattern: "/account/1/balance", "/v1/accounts/{id}/charges";
	// {name} matches one segment, a trailing {name...} or "/" the rest.
	Route string `json:"route,omitempty"`
	// Method is an HTTP method, such as GET.
	Method string `json:"method,omitempty"`
	// Account is the account the request acts on: on the public listener the
	// account of its credential, on the admin listener the {id} of /v1/accounts/{id}.
	Account string `json:"account,omitempty"`
	// Credential is the public listener's login: a Basic username, an API key's id,
	// an OAuth2 client id.
	Credential string `json:"credential,omitempty"`

	// Action is one of Actions.
	Action string `json:"action"`
	// Delay is the wait of "delay" and the pause between the chunks of "slow", as
	// a Go duration ("250ms"); Jitter adds a random wait up to it to "delay".
	Delay  string `json:"delay,omitempty"`
	Jitter string `json:"jitter,omitempty"`
	// Status is the HTTP status of "error" (400-599; default 500); MessageID and
	// Text its envelope's (defaults follow the status); RetryAfter its
	// Retry-After in seconds (default 1 with 429 and 503).
	Status     int    `json:"status,omitempty"`
	MessageID  string `json:"messageId,omitempty"`
	Text       string `json:"text,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"`
	// CutAfter is how many bytes of the body "cut" sends (default: half of it).
	CutAfter int `json:"cutAfter,omitempty"`
	// ChunkBytes is the size of the pieces "slow" sends (default 1).
	ChunkBytes int `json:"chunkBytes,omitempty"`

	// Probability is the chance that a matching request is faulted, in (0, 1];
	// default 1. Seed seeds its draws (and Jitter's), so a run repeats; default:
	// one chosen at random, shown in the rule.
	Probability *float64 `json:"probability,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	// Times ends the rule after it has faulted that many requests; 0: no limit.
	Times int `json:"times,omitempty"`
	// TTL ends the rule this long after it was made (default 10m, at most 24h).
	TTL string `json:"ttl,omitempty"`
}

// Rule is a rule as the admin API shows it: its Spec with defaults filled in,
// and its state.
type Rule struct {
	ID string `json:"id"`
	Spec
	Fired     int    `json:"fired"`               // requests faulted so far
	Remaining *int   `json:"remaining,omitempty"` // with Times: how many are left
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
}

// rule is a Rule with its parsed values and its random source.
type rule struct {
	Rule
	route              []string // pattern segments; nil matches any path
	prefix             bool     // the pattern ends in "/" or {name...}
	delay, jitter, ttl time.Duration
	expires            time.Time
	probability        float64
	rng                *rand.Rand
	dead               bool // removed, spent or expired
}

// check validates s and fills in its defaults, returning the parsed rule. Errors
// are ledger.ValidationErrors naming the field.
func check(s Spec, randomSeed func() int64) (*rule, error) {
	r := &rule{Rule: Rule{Spec: s}}
	sp := &r.Spec
	if err := r.checkMatch(); err != nil {
		return nil, err
	}
	var err error
	if r.delay, err = duration("delay", sp.Delay, MaxDelay); err != nil {
		return nil, err
	}
	if r.jitter, err = duration("jitter", sp.Jitter, MaxDelay); err != nil {
		return nil, err
	}
	if err := r.checkAction(); err != nil {
		return nil, err
	}
	if sp.TTL == "" {
		sp.TTL = DefaultTTL.String()
	}
	if r.ttl, err = duration("ttl", sp.TTL, MaxTTL); err != nil {
		return nil, err
	}
	if r.ttl <= 0 {
		return nil, ledger.Invalid("ttl", "must be more than 0")
	}
	r.probability = 1
	if sp.Probability != nil {
		r.probability = *sp.Probability
		if !(r.probability > 0 && r.probability <= 1) {
			return nil, ledger.Invalid("probability", "must be more than 0 and at most 1")
		}
	}
	if sp.Times < 0 {
		return nil, ledger.Invalid("times", "must be 0 (no limit) or more")
	}
	if sp.Seed == nil {
		seed := randomSeed()
		sp.Seed = &seed
	}
	r.rng = rand.New(rand.NewPCG(uint64(*sp.Seed), 0x70757273655f666c)) // "purse_fl"
	return r, nil
}

func (r *rule) checkMatch() error {
	sp := &r.Spec
	switch sp.Listener {
	case "", "public", "admin":
	default:
		return ledger.Invalid("listener", `must be "public", "admin" or absent (both)`)
	}
	if sp.Route != "" {
		if !strings.HasPrefix(sp.Route, "/") || len(sp.Route) > 200 {
			return ledger.Invalid("route", `must be a path pattern starting with "/", such as "/account/1/balance" or "/v1/accounts/{id}/charges"`)
		}
		r.route, r.prefix = parsePattern(sp.Route)
	}
	if sp.Method != "" {
		sp.Method = strings.ToUpper(sp.Method)
		if !token(sp.Method) {
			return ledger.Invalid("method", "must be an HTTP method, such as GET or POST")
		}
	}
	for _, f := range []struct{ name, v string }{{"account", sp.Account}, {"credential", sp.Credential}} {
		if len(f.v) > 255 {
			return ledger.Invalid(f.name, "is longer than 255 bytes")
		}
	}
	return nil
}

func (r *rule) checkAction() error {
	sp := &r.Spec
	switch sp.Action {
	case ActionDelay:
		if r.delay == 0 && r.jitter == 0 {
			return ledger.Invalid("delay", `is required with action "delay" (or jitter), as a duration such as "250ms"`)
		}
	case ActionError:
		return checkError(sp)
	case ActionReset:
	case ActionCut:
		if sp.CutAfter < 0 {
			return ledger.Invalid("cutAfter", "must be 0 (half the body) or more bytes")
		}
	case ActionSlow:
		if sp.ChunkBytes < 0 {
			return ledger.Invalid("chunkBytes", "must be 0 (1 byte) or more")
		}
		if sp.ChunkBytes == 0 {
			sp.ChunkBytes = 1
		}
		if r.delay == 0 {
			r.delay = 100 * time.Millisecond
			sp.Delay = r.delay.String()
		}
	case "":
		return ledger.Invalid("action", "is required: one of "+strings.Join(Actions, ", "))
	default:
		return ledger.Invalid("action", "must be one of "+strings.Join(Actions, ", "))
	}
	return nil
}

// checkError validates an "error" rule and fills in the envelope Infobip would
// send with its status.
func checkError(sp *Spec) error {
	if sp.Status == 0 {
		sp.Status = http.StatusInternalServerError
	}
	if sp.Status < 400 || sp.Status > 599 {
		return ledger.Invalid("status", "must be an error status, 400 to 599")
	}
	if sp.RetryAfter < 0 || sp.RetryAfter > 86400 {
		return ledger.Invalid("retryAfter", "must be 0 to 86400 seconds")
	}
	if sp.RetryAfter == 0 && (sp.Status == http.StatusTooManyRequests || sp.Status == http.StatusServiceUnavailable) {
		sp.RetryAfter = 1
	}
	id, text := defaultEnvelope(sp.Status)
	if sp.MessageID == "" {
		sp.MessageID = id
	}
	if sp.Text == "" {
		sp.Text = text
	}
	if len(sp.MessageID) > 100 || len(sp.Text) > 1000 {
		return ledger.Invalid("text", "messageId and text are limited to 100 and 1000 bytes")
	}
	return nil
}

// defaultEnvelope is the messageId and text Infobip answers with a status.
func defaultEnvelope(status int) (string, string) {
	switch {
	case status == http.StatusBadRequest:
		return "BAD_REQUEST", "Bad request"
	case status == http.StatusUnauthorized:
		return "UNAUTHORIZED", "Invalid login details"
	case status == http.StatusForbidden:
		return "FORBIDDEN", "Forbidden"
	case status == http.StatusNotFound:
		return "NOT_FOUND", "Resource not found"
	case status == http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS", "Too many requests"
	case status == http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE", "Service temporarily unavailable"
	case status >= 500:
		return "GENERAL_ERROR", "Something went wrong. Please contact support."
	}
	return "BAD_REQUEST", "Bad request"
}

func duration(field, s string, most time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, ledger.Invalid(field, `must be a duration such as "250ms", "2s" or "10m"`)
	}
	if d > most {
		return 0, ledger.Invalid(field, fmt.Sprintf("must be at most %s", most))
	}
	return d, nil
}

// token reports whether s is an HTTP token (a method name).
func token(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// parsePattern splits a route pattern into segments. A final "{name...}" or an
// empty final segment (a pattern ending in "/") makes it a prefix.
func parsePattern(p string) ([]string, bool) {
	if p == "/" {
		return []string{}, true
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	last := segs[len(segs)-1]
	if last == "" && len(segs) > 1 {
		return segs[:len(segs)-1], true
	}
	if strings.HasPrefix(last, "{") && strings.HasSuffix(last, "...}") {
		return segs[:len(segs)-1], true
	}
	return segs, false
}

// matchPath matches a request path (repeated slashes merged, as the public API
// reads it) against the pattern.
func (r *rule) matchPath(path string) bool {
	if r.route == nil {
		return true
	}
	segs := splitPath(path)
	if len(segs) < len(r.route) || !r.prefix && len(segs) != len(r.route) {
		return false
	}
	for i, p := range r.route {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if p != segs[i] {
			return false
		}
	}
	return true
}

func splitPath(path string) []string {
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 || strings.HasSuffix(path, "/") && len(path) > 1 {
		segs = append(segs, "")
	}
	return segs
}

// matchStatic matches what needs no lookup: listener, method and route.
func (r *rule) matchStatic(listener string, req *http.Request) bool {
	return (r.Listener == "" || r.Listener == listener) &&
		(r.Method == "" || r.Method == req.Method) &&
		r.matchPath(req.URL.Path)
}
