package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/seed"
	"github.com/purse-ledger/purse/internal/testkit"
)

// emulator starts purse serve --emulator with docs/examples/seed.json: the
// rules target the user shop (account acc_shop, 10 EUR); the requests of
// bystander (acc_bystander, 5 EUR) next to them must stay untouched.
type emulator struct {
	*testkit.Stack
	a, b string
	logs *syncBuffer
}

// exampleSeed is the seed the documentation shows.
const exampleSeed = "../../docs/examples/seed.json"

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	f, err := seed.Load(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s := testkit.Open(t, filepath.Join(t.TempDir(), "purse.db"), testkit.Options{Emulator: true, Seed: f,
		Log: slog.New(slog.NewJSONHandler(logs, nil))})
	return &emulator{Stack: s, logs: logs, a: "acc_shop", b: "acc_bystander"}
}

// passwords are the seed's.
var passwords = map[string]string{"shop": "shop-password", "shop-eu": "shop-eu-password", "bystander": "bystander-password"}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+passwords[user]))
}

// addFault puts a rule in force and returns its id.
func (e *emulator) addFault(rule string) string {
	e.T.Helper()
	var r struct{ ID string }
	e.MustAdmin(201, "POST", "/v1/faults", rule, nil).JSON(e.T, &r)
	return r.ID
}

// seen is what a client saw of one request.
type seen struct {
	Status     int
	RetryAfter string
	Body       string
	Err        string // the error class: "reset", "eof" (the body ended early), ""
}

// get reads the balance as user with Go's net/http client, on a connection of
// its own (a reused one would let the transport retry a reset GET).
func get(t *testing.T, base, user, accept string) (seen, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/account/1/balance", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", basic(user))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return seen{Err: errClass(err)}, time.Since(start)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	s := seen{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Body: string(b)}
	if err != nil {
		s.Err = errClass(err)
	}
	return s, time.Since(start)
}

func errClass(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "eof"
	}
	return err.Error()
}

const (
	shopBalance      = `{"balance":10,"currency":"EUR"}`
	bystanderBalance = `{"balance":5,"currency":"EUR"}`
)

// TestFaultActionsGoClient: each action, as Go's net/http client sees it, on the
// requests of the credential the rule names; the bystander's requests next to
// them are untouched, and the faulted ones left the ledger as it was.
func TestFaultActionsGoClient(t *testing.T) {
	e := newEmulator(t)
	tests := []struct {
		name, rule, accept string
		want               seen
		atLeast            time.Duration
	}{
		{name: "delay", rule: `{"action":"delay","delay":"300ms"}`,
			want: seen{Status: 200, Body: shopBalance}, atLeast: 300 * time.Millisecond},
		{name: "delay with jitter", rule: `{"action":"delay","delay":"100ms","jitter":"100ms","seed":1}`,
			want: seen{Status: 200, Body: shopBalance}, atLeast: 100 * time.Millisecond},
		{name: "500", rule: `{"action":"error","status":500}`,
			want: seen{Status: 500, Body: `{"requestError":{"serviceException":{"messageId":"GENERAL_ERROR","text":"Something went wrong. Please contact support."}}}`}},
		{name: "503", rule: `{"action":"error","status":503}`,
			want: seen{Status: 503, RetryAfter: "1", Body: `{"requestError":{"serviceException":{"messageId":"SERVICE_UNAVAILABLE","text":"Service temporarily unavailable"}}}`}},
		{name: "429 with Retry-After", rule: `{"action":"error","status":429,"retryAfter":7}`,
			want: seen{Status: 429, RetryAfter: "7", Body: `{"requestError":{"serviceException":{"messageId":"TOO_MANY_REQUESTS","text":"Too many requests"}}}`}},
		{name: "500 in XML", rule: `{"action":"error","status":500,"text":"Boom"}`, accept: "application/xml",
			want: seen{Status: 500, Body: `<requestError><serviceException><messageId>GENERAL_ERROR</messageId><text>Boom</text></serviceException></requestError>`}},
		{name: "reset", rule: `{"action":"reset"}`, want: seen{Err: "reset"}},
		{name: "cut", rule: `{"action":"cut","cutAfter":12}`, want: seen{Status: 200, Body: shopBalance[:12], Err: "eof"}},
		{name: "slow", rule: `{"action":"slow","chunkBytes":8,"delay":"50ms"}`,
			want: seen{Status: 200, Body: shopBalance}, atLeast: 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := strings.Replace(tt.rule, "{", `{"listener":"public","route":"/account/1/balance","credential":"shop","times":1,`, 1)
			e.addFault(rule)
			got, took := get(t, e.Public.URL, "shop", tt.accept)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("faulted request (-got +want):\n%s", diff)
			}
			if took < tt.atLeast {
				t.Errorf("faulted request took %s, want at least %s", took, tt.atLeast)
			}
			after, _ := get(t, e.Public.URL, "shop", "")
			if diff := cmp.Diff(after, seen{Status: 200, Body: shopBalance}); diff != "" {
				t.Errorf("the next request, after the rule's one time (-got +want):\n%s", diff)
			}
		})
	}
	t.Run("bystander untouched", func(t *testing.T) {
		e.addFault(`{"listener":"public","credential":"shop","action":"error","status":503}`)
		defer e.MustAdmin(200, "DELETE", "/v1/faults", "", nil)
		for range 3 {
			got, _ := get(t, e.Public.URL, "bystander", "")
			if diff := cmp.Diff(got, seen{Status: 200, Body: bystanderBalance}); diff != "" {
				t.Errorf("bystander's request (-got +want):\n%s", diff)
			}
			if got, _ := get(t, e.Public.URL, "shop", ""); got.Status != 503 {
				t.Errorf("shop's request: %+v, want 503", got)
			}
		}
	})
	t.Run("logged and counted", func(t *testing.T) {
		m := testkit.Do(t, "GET", e.Admin.URL+"/metrics", nil, nil)
		for _, want := range []string{
			`purse_faults_injected_total{action="error",listener="public"} 7`,
			`purse_faults_injected_total{action="reset",listener="public"} 1`,
			`purse_faults_injected_total{action="cut",listener="public"} 1`,
		} {
			if !strings.Contains(string(m.Body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if !strings.Contains(e.logs.String(), `"msg":"fault injected","fault":"reset"`) {
			t.Errorf("no log line says a reset was injected:\n%.3000s", e.logs.String())
		}
	})
}

// TestFaultNeverReachesLedger: an error or a reset on a charge leaves the
// account as it was; a cut answer is the charge made and its answer lost, so the
// retry with the same Idempotency-Key returns the same entry and charges once.
func TestFaultNeverReachesLedger(t *testing.T) {
	e := newEmulator(t)
	charge := func(key string) (seen, error) {
		req, _ := http.NewRequest("POST", e.Admin.URL+"/v1/accounts/"+e.a+"/charges", strings.NewReader(`{"amount":"1"}`))
		req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err != nil {
			return seen{Err: errClass(err)}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		s := seen{Status: resp.StatusCode, Body: string(b)}
		if err != nil {
			s.Err = errClass(err)
		}
		return s, nil
	}
	before := e.Balance(e.a)
	for _, rule := range []string{`"action":"error","status":503`, `"action":"reset"`} {
		e.addFault(`{"listener":"admin","method":"POST","route":"/v1/accounts/{id}/charges","account":"` + e.a + `","times":1,` + rule + `}`)
		got, _ := charge("k-" + rule[10:15])
		if got.Status == 201 {
			t.Errorf("charge under %s: %+v, want no success", rule, got)
		}
	}
	if diff := cmp.Diff(e.Balance(e.a), before); diff != "" {
		t.Errorf("balance after faulted charges (-got +want):\n%s", diff)
	}

	e.addFault(`{"listener":"admin","route":"/v1/accounts/{id}/charges","account":"` + e.a + `","times":1,"action":"cut"}`)
	if got, _ := charge("cut-1"); got.Err != "eof" {
		t.Errorf("charge under cut: %+v, want its body cut short", got)
	}
	retry, _ := charge("cut-1")
	if retry.Status != 201 {
		t.Fatalf("the retry: %+v, want 201", retry)
	}
	if got := e.Balance(e.a)["balance"]; got != "9" {
		t.Errorf("balance after a cut charge and its retry = %v, want 9 (charged once)", got)
	}
}

// TestFaultProbabilityRepeats: a probability with a seed faults the same
// requests of a run every time it runs.
func TestFaultProbabilityRepeats(t *testing.T) {
	e := newEmulator(t)
	run := func() string {
		id := e.addFault(`{"credential":"shop","action":"error","status":503,"probability":0.5,"seed":42}`)
		defer e.MustAdmin(204, "DELETE", "/v1/faults/"+id, "", nil)
		var b strings.Builder
		for range 24 {
			got, _ := get(t, e.Public.URL, "shop", "")
			if got.Status == 503 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first, second := run(), run()
	if first != second {
		t.Errorf("the same seed gave %s, then %s", first, second)
	}
	if !strings.Contains(first, "x") || !strings.Contains(first, ".") {
		t.Errorf("probability 0.5 gave %s: want some of each", first)
	}
	t.Logf("seed 42, probability 0.5: %s", first)
}

// TestFaultRoutes: the rules through the admin API, bad input refused in the
// envelope, and the fault routes themselves never faulted.
func TestFaultRoutes(t *testing.T) {
	e := newEmulator(t)
	id := e.addFault(`{"listener":"admin","action":"error","status":500,"ttl":"1m","times":2}`)
	var list struct {
		Faults []map[string]any `json:"faults"`
	}
	e.MustAdmin(200, "GET", "/v1/faults", "", nil).JSON(t, &list) // not faulted: the rule matches every other admin request
	if len(list.Faults) != 1 || list.Faults[0]["id"] != id || list.Faults[0]["remaining"] != 2.0 || list.Faults[0]["seed"] == nil {
		t.Errorf("GET /v1/faults = %+v, want the one rule with remaining 2 and its seed", list.Faults)
	}
	if r := e.AdminDo("GET", "/v1/accounts", "", nil); r.Status != 500 {
		t.Errorf("an admin request under the rule: %d, want 500", r.Status)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"action":"explode"}`, "action"},
		{`{"action":"error","status":200}`, "status"},
		{`{"action":"delay"}`, "delay"},
		{`{"action":"delay","delay":"soon"}`, "delay"},
		{`{"action":"reset","probability":1.5}`, "probability"},
		{`{"action":"reset","ttl":"48h"}`, "ttl"},
		{`{"action":"reset","listener":"both"}`, "listener"},
		{`{"action":"reset","route":"account"}`, "route"},
		{`{"action":"reset","colour":"red"}`, "colour"},
	} {
		r := e.AdminDo("POST", "/v1/faults", tt.body, nil)
		var env struct {
			RequestError struct {
				ServiceException struct {
					MessageID        string
					ValidationErrors map[string][]string
				}
			}
		}
		r.JSON(t, &env)
		if ex := env.RequestError.ServiceException; r.Status != 400 || ex.MessageID != "BAD_REQUEST" || ex.ValidationErrors[tt.field] == nil {
			t.Errorf("POST /v1/faults %s: %d %s, want 400 BAD_REQUEST naming %s", tt.body, r.Status, r.Body, tt.field)
		}
	}
	if r := e.AdminDo("DELETE", "/v1/faults/flt_999", "", nil); r.Status != 404 {
		t.Errorf("DELETE of an unknown rule: %d %s, want 404", r.Status, r.Body)
	}
	var cleared map[string]int
	e.MustAdmin(200, "DELETE", "/v1/faults", "", nil).JSON(t, &cleared)
	if cleared["removed"] != 1 {
		t.Errorf("DELETE /v1/faults = %v, want removed 1", cleared)
	}
	e.MustAdmin(200, "GET", "/v1/accounts", "", nil)
}

// TestFaultRoutesNeedEmulator: without --emulator the fault and reset routes do
// not exist.
func TestFaultRoutesNeedEmulator(t *testing.T) {
	s := testkit.New(t)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/faults", ""},
		{"POST", "/v1/faults", `{"action":"reset"}`},
		{"DELETE", "/v1/faults", ""},
		{"DELETE", "/v1/faults/flt_1", ""},
		{"POST", "/v1/reset", ""},
	} {
		got := s.AdminDo(r.method, r.path, r.body, nil)
		if got.Status != 404 || !strings.Contains(string(got.Body), `"NOT_FOUND"`) {
			t.Errorf("%s %s without --emulator: %d %s, want 404 NOT_FOUND", r.method, r.path, got.Status, got.Body)
		}
	}
}

// pythonSnippet is the documentation's Python http.client request, one per line
// of argv: it prints what the client saw as JSON.
const pythonSnippet = `
import http.client, json, sys, base64, time
host, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
auth = base64.b64encode((user + ":" + password).encode()).decode()
start = time.monotonic()
try:
    conn = http.client.HTTPConnection(host, timeout=20)
    conn.request("GET", "/account/1/balance", headers={"Authorization": "Basic " + auth, "Accept": "application/json"})
    res = conn.getresponse()
    out = {"status": res.status, "retryAfter": res.getheader("Retry-After") or ""}
    try:
        out["body"] = res.read().decode()
    except http.client.IncompleteRead as e:
        out["body"], out["error"] = e.partial.decode(), "IncompleteRead"
except ConnectionResetError:
    out = {"error": "ConnectionResetError"}
except http.client.RemoteDisconnected:
    out = {"error": "RemoteDisconnected"}
out["seconds"] = time.monotonic() - start
print(json.dumps(out))
`

type pySeen struct {
	Status     int     `json:"status"`
	RetryAfter string  `json:"retryAfter"`
	Body       string  `json:"body"`
	Error      string  `json:"error"`
	Seconds    float64 `json:"seconds"`
}

// TestFaultActionsPython: the same actions as Python's http.client sees them,
// with the request Infobip's documentation shows.
func TestFaultActionsPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	e := newEmulator(t)
	host := strings.TrimPrefix(e.Public.URL, "http://")
	python := func(user string) pySeen {
		t.Helper()
		out, err := exec.Command(py, "-c", pythonSnippet, host, user, passwords[user]).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		var s pySeen
		if err := json.Unmarshal(bytes.TrimSpace(out), &s); err != nil {
			t.Fatalf("python printed %q: %v", out, err)
		}
		return s
	}
	tests := []struct {
		name, rule string
		want       pySeen
		atLeast    float64
	}{
		{"delay", `"action":"delay","delay":"300ms"`, pySeen{Status: 200, Body: shopBalance}, 0.3},
		{"503", `"action":"error","status":503`,
			pySeen{Status: 503, RetryAfter: "1", Body: `{"requestError":{"serviceException":{"messageId":"SERVICE_UNAVAILABLE","text":"Service temporarily unavailable"}}}`}, 0},
		{"429", `"action":"error","status":429,"retryAfter":3`,
			pySeen{Status: 429, RetryAfter: "3", Body: `{"requestError":{"serviceException":{"messageId":"TOO_MANY_REQUESTS","text":"Too many requests"}}}`}, 0},
		{"500", `"action":"error"`,
			pySeen{Status: 500, Body: `{"requestError":{"serviceException":{"messageId":"GENERAL_ERROR","text":"Something went wrong. Please contact support."}}}`}, 0},
		{"reset", `"action":"reset"`, pySeen{Error: "ConnectionResetError"}, 0},
		{"cut", `"action":"cut"`, pySeen{Status: 200, Body: shopBalance[:len(shopBalance)/2], Error: "IncompleteRead"}, 0},
		{"slow", `"action":"slow","chunkBytes":10,"delay":"100ms"`, pySeen{Status: 200, Body: shopBalance}, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.addFault(`{"listener":"public","credential":"shop","times":1,` + tt.rule + `}`)
			got := python("shop")
			if got.Seconds < tt.atLeast {
				t.Errorf("took %.3fs, want at least %.3fs", got.Seconds, tt.atLeast)
			}
			got.Seconds = 0
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("faulted request (-got +want):\n%s", diff)
			}
			bystander := python("bystander")
			bystander.Seconds = 0
			if diff := cmp.Diff(bystander, pySeen{Status: 200, Body: bystanderBalance}); diff != "" {
				t.Errorf("the bystander's request (-got +want):\n%s", diff)
			}
		})
	}
}

// syncBuffer is testkit.SyncBuffer.
type syncBuffer = testkit.SyncBuffer
