package adminapi_test

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/adminapi"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/testkit"

	_ "modernc.org/sqlite" // the fixture builder's VACUUM INTO
)

var updateFixtures = flag.Bool("update", false, "rebuild testdata/outcomes (the fixture store and its golden replays)")

// The fixture store (testdata/outcomes/purse.db) holds one stored outcome of every
// kind: a success of each route that keeps one, each refusal a key keeps, batches
// with mixed results, and a record from before outcomes. requests.json lists the
// requests that made them, and <name>.golden the answer each replays to. A purse
// that changes how any of them replays fails TestFixtureOutcomesReplay: stored
// outcomes must replay byte for byte across upgrades. Rebuild it only for a new
// kind of outcome (go test -run TestFixtureOutcomesReplay -update ./internal/adminapi/),
// never to make a changed replay pass.
const fixtureDir = "testdata/outcomes"

// fixture is requests.json: when the store was made (its engine's clock; the
// credential routes use the wall clock, so it is the time of the build) and the
// requests that made it.
type fixture struct {
	At       time.Time        `json:"at"`
	Requests []fixtureRequest `json:"requests"`
}

type fixtureRequest struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Key    string `json:"key"`
	Body   string `json:"body"`
}

func TestFixtureOutcomesReplay(t *testing.T) {
	if *updateFixtures {
		buildFixtures(t)
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	// A copy: opening a store may write to it (expired holds, a migration).
	path := filepath.Join(t.TempDir(), "purse.db")
	copyFile(t, filepath.Join(fixtureDir, "purse.db"), path)
	// The fixture's own time: a store keeps keys for a window counted back from its
	// newest record, and a purse whose clock ran on would expire the holds.
	s := testkit.Open(t, path, testkit.Options{Now: testkit.NewClock(fx.At.Add(time.Minute)).Now})
	kinds := map[string]bool{}
	for _, rq := range fx.Requests {
		t.Run(rq.Name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(fixtureDir, rq.Name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			r := s.AdminDo(rq.Method, rq.Path, rq.Body, testkit.Key(rq.Key))
			if got := goldenOf(r); got != string(want) {
				t.Errorf("replay differs from the stored outcome's first answer\n got %s\nwant %s", got, want)
			}
			if r.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("Idempotent-Replayed = %q", r.Header.Get("Idempotent-Replayed"))
			}
			kinds[strings.SplitN(string(want), "\n", 2)[0]] = true
		})
	}
	// The fixture covers what the issue asks for: every business status.
	for _, k := range []string{"200", "201", "204", "402 INSUFFICIENT_FUNDS", "402 MONTHLY_LIMIT_EXCEEDED", "402 NO_FREE_MESSAGES",
		"404 NOT_FOUND", "409 ACCOUNT_NOT_ACTIVE", "409 HOLD_EXPIRED", "409 HOLD_CAPTURED", "409 HOLD_VOIDED",
		"409 REFUND_EXCEEDS_CHARGE", "409 NOT_A_CHARGE", "409 CONFLICT"} {
		if !kinds[k] {
			t.Errorf("the fixture store has no outcome answered %s", k)
		}
	}
}

// goldenOf is a response as a golden file keeps it: the status (and messageId of
// an error), then the body.
func goldenOf(r testkit.Response) string {
	head := fmt.Sprint(r.Status)
	var env struct {
		RequestError struct{ ServiceException struct{ MessageID string } }
	}
	if r.Status >= 400 && json.Unmarshal(r.Body, &env) == nil {
		head += " " + env.RequestError.ServiceException.MessageID
	}
	return head + "\n" + string(r.Body)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// buildFixtures makes the fixture store afresh through the real admin API.
func buildFixtures(t *testing.T) {
	dir := t.TempDir()
	at := time.Now().UTC().Truncate(time.Second)
	clock := testkit.NewClock(at)
	s := testkit.Open(t, filepath.Join(dir, "purse.db"), testkit.Options{Now: clock.Now})
	var reqs []fixtureRequest
	answers := map[string]testkit.Response{}
	// send makes one request with its own key and keeps it when keep says so.
	send := func(name, method, path, body string, want int) testkit.Response {
		t.Helper()
		rq := fixtureRequest{Name: name, Method: method, Path: path, Key: "fixture-" + name, Body: body}
		first := s.MustAdmin(want, method, path, body, testkit.Key(rq.Key))
		again := s.AdminDo(method, path, body, testkit.Key(rq.Key))
		secret := strings.Contains(string(first.Body), `"key"`) || strings.Contains(string(first.Body), `"clientSecret"`)
		if !secret && goldenOf(again) != goldenOf(first) {
			t.Fatalf("%s: replay %s differs from %s", name, again.Body, first.Body)
		}
		reqs = append(reqs, rq)
		answers[name] = again
		return first
	}
	id := func(r testkit.Response) string {
		var v struct{ ID string }
		r.JSON(t, &v)
		return v.ID
	}

	acc := id(send("create_account", "POST", "/v1/accounts", `{"name":"Fixture Ltd","currency":"EUR"}`, 201))
	a := "/v1/accounts/" + acc
	send("update_account", "PATCH", a, `{"monthlyLimit":"10","freeMessages":1}`, 200)
	topUp := id(send("top_up", "POST", a+"/top-ups", `{"amount":"50.5","reference":"invoice-17","metadata":{"po":"4711"}}`, 201))
	charge := id(send("charge", "POST", a+"/charges", `{"amount":"1.25","reference":"sms-1"}`, 201))
	send("charge_free_message", "POST", a+"/charges", `{"amount":"0.05","useFreeMessage":true}`, 201)
	send("refund", "POST", a+"/refunds", `{"chargeId":"`+charge+`","amount":"0.25"}`, 201)
	send("adjustment", "POST", a+"/adjustments", `{"amount":"-0.5","reason":"correction"}`, 201)
	hold := id(send("hold", "POST", a+"/holds", `{"amount":"2","expiresIn":600,"reference":"job-1"}`, 201))
	send("capture", "POST", "/v1/holds/"+hold+"/capture", `{"amount":"1.5"}`, 200)
	voided := id(send("hold_to_void", "POST", a+"/holds", `{"amount":"1"}`, 201))
	send("void", "POST", "/v1/holds/"+voided+"/void", "", 200)
	send("add_user", "POST", a+"/users", `{"username":"fixture","password":"a long secret"}`, 201)
	send("remove_user", "DELETE", a+"/users/fixture", "", 204)
	key := id(send("create_api_key", "POST", a+"/api-keys", `{"name":"production"}`, 201))
	send("revoke_api_key", "DELETE", a+"/api-keys/"+key, "", 204)
	var oc struct{ ClientID string }
	send("create_oauth_client", "POST", a+"/oauth-clients", `{"name":"backend"}`, 201).JSON(t, &oc)
	send("revoke_oauth_client", "DELETE", a+"/oauth-clients/"+oc.ClientID, "", 204)

	send("refused_insufficient_funds", "POST", a+"/charges", `{"amount":"500"}`, 402)
	send("refused_monthly_limit", "POST", a+"/charges", `{"amount":"9"}`, 402)
	send("refused_no_free_messages", "POST", a+"/charges", `{"amount":"0.05","useFreeMessage":true,"fallbackToMoney":false}`, 402)
	send("refused_unknown_hold", "POST", "/v1/holds/hold_0000000000000000000000000/capture", "", 404)
	send("refused_unknown_charge", "POST", a+"/refunds", `{"chargeId":"mov_0000000000000000000000000"}`, 404)
	send("refused_unknown_account", "POST", "/v1/accounts/acc_0000000000000000000000000/charges", `{"amount":"1"}`, 404)
	send("refused_hold_captured", "POST", "/v1/holds/"+hold+"/capture", "", 409)
	send("refused_hold_voided", "POST", "/v1/holds/"+voided+"/capture", "", 409)
	send("refused_refund_exceeds_charge", "POST", a+"/refunds", `{"chargeId":"`+charge+`","amount":"5"}`, 409)
	send("refused_not_a_charge", "POST", a+"/refunds", `{"chargeId":"`+topUp+`"}`, 409)
	expiring := id(send("hold_to_expire", "POST", a+"/holds", `{"amount":"1","expiresIn":1}`, 201))
	clock.Advance(2 * time.Second)
	send("refused_hold_expired", "POST", "/v1/holds/"+expiring+"/capture", "", 409)
	send("batch_mixed", "POST", "/v1/batch", `{"operations":[
		{"op":"top_up","accountId":"`+acc+`","amount":"3"},
		{"op":"charge","accountId":"`+acc+`","amount":"1000"},
		{"op":"hold","accountId":"`+acc+`","amount":"0.5","expiresIn":"10m"},
		{"op":"capture","holdId":"hold_0000000000000000000000000"},
		{"op":"refund","accountId":"`+acc+`","chargeId":"`+charge+`","amount":"0.1"},
		{"op":"adjustment","accountId":"`+acc+`","amount":"0.01","reason":"goodwill"}]}`, 200)
	send("batch_atomic_aborted", "POST", "/v1/batch", `{"atomic":true,"operations":[
		{"op":"charge","accountId":"`+acc+`","amount":"0.01"},
		{"op":"charge","accountId":"`+acc+`","amount":"1000"}]}`, 200)

	suspended := id(send("create_account_to_suspend", "POST", "/v1/accounts", `{"name":"Suspended Ltd","currency":"USD"}`, 201))
	send("suspend", "PATCH", "/v1/accounts/"+suspended, `{"status":"suspended"}`, 200)
	send("refused_account_not_active", "POST", "/v1/accounts/"+suspended+"/charges", `{"amount":"1"}`, 409)
	send("close", "PATCH", "/v1/accounts/"+suspended, `{"status":"closed"}`, 200)
	send("refused_closed_account", "POST", "/v1/accounts/"+suspended+"/top-ups", `{"amount":"1"}`, 409)

	// A record from before outcomes: the response itself, with its status.
	legacy := fixtureRequest{Name: "legacy_rendered_record", Method: "POST", Path: a + "/charges", Key: "fixture-legacy", Body: `{"amount":"7"}`}
	tx, err := s.Store.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	legacyBody := `{"id":"mov_legacy","sequence":1,"accountId":"` + acc + `","kind":"charge","amount":"-7","balanceAfter":"1","reference":"","createdAt":"2026-11-29T08:00:00.123456789Z"}`
	if err := tx.Commit(t.Context(), &ledger.Batch{Idempotency: []ledger.IdempotencyRecord{{Key: "admin:" + legacy.Key,
		RequestHash: adminapi.AdminRequestHash("POST", legacy.Path, []byte(legacy.Body)), Status: http.StatusCreated, Body: []byte(legacyBody), CreatedAt: clock.Now()}}}); err != nil {
		t.Fatal(err)
	}
	reqs = append(reqs, legacy)
	answers[legacy.Name] = s.AdminDo(legacy.Method, legacy.Path, legacy.Body, testkit.Key(legacy.Key))
	if string(answers[legacy.Name].Body) != legacyBody {
		t.Fatalf("legacy record replayed as %s", answers[legacy.Name].Body)
	}
	s.Close()

	if err := os.RemoveAll(fixtureDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// VACUUM INTO: one self-contained file, whatever the WAL still holds.
	db, err := sql.Open("sqlite", filepath.Join(dir, "purse.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`VACUUM INTO ?`, filepath.Join(fixtureDir, "purse.db")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, rq := range reqs {
		if err := os.WriteFile(filepath.Join(fixtureDir, rq.Name+".golden"), []byte(goldenOf(answers[rq.Name])), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := json.MarshalIndent(fixture{At: at, Requests: reqs}, "", "  ")
	if err := os.WriteFile(filepath.Join(fixtureDir, "requests.json"), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
