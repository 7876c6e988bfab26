package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/storetest"
	"github.com/purse-ledger/purse/internal/testkit"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// purseBinary builds cmd/purse once per test run: the cluster and crash tests run
// real processes.
func purseBinary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "purse-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "purse")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// node is a `purse serve` process.
type node struct {
	public, admin string
	cmd           *exec.Cmd
	done          chan error
	logs          *syncBuffer
}

const clusterToken = "c1a5e7b0d2f4968a3c5e7f9b1d3a5c7e9f0b2d4a6c8e1f3a5b7d9c0e2f4a6b8d" // 256 bits, as purse serve requires

func startNode(t testing.TB, db string, extra ...string) *node {
	t.Helper()
	args := append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--admin-token", clusterToken, "--log-format", "json"}, extra...)
	cmd := exec.Command(purseBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd, done: make(chan error, 1), logs: &syncBuffer{}}
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.logs.Write([]byte(line + "\n"))
			var l struct{ Msg, Public, Admin string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "purse serving" {
				addrs <- [2]string{l.Public, l.Admin}
			}
		}
	}()
	go func() { n.done <- cmd.Wait() }()
	select {
	case a := <-addrs:
		n.public, n.admin = "http://"+a[0], "http://"+a[1]
	case err := <-n.done:
		t.Fatalf("purse exited: %v\n%s", err, n.logs)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("purse did not start\n%s", n.logs)
	}
	t.Cleanup(func() { n.stop(t) })
	return n
}

func (n *node) stop(t testing.TB) {
	if n.cmd.ProcessState != nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.done
}

func adminReq(t testing.TB, base, method, path, body string, headers map[string]string) testkit.Response {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + clusterToken, "Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return testkit.Do(t, method, base+path, h, b)
}

func mustAdmin(t testing.TB, base string, want int, method, path, body string, headers map[string]string) testkit.Response {
	t.Helper()
	r := adminReq(t, base, method, path, body, headers)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// eventually polls until cond holds, failing after max; it returns how long it took.
func eventually(t testing.TB, max time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > max {
			t.Fatalf("%s: not within %v", what, max)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// TestClusterStress runs the ledger stress test against two purse processes on one
// PostgreSQL database, with workers spread over both and retries crossing nodes:
// twins sent to both nodes at once, later retries on the other node, and refused
// charges retried on the other node after a top-up. Every answer of a key must be
// the same bytes on both nodes, and a key refused with 402 must never move money.
func TestClusterStress(t *testing.T) {
	db := storetest.FreshSchema(t)
	a := startNode(t, db)
	b := startNode(t, db)
	initial := map[string]ledger.Amount{}
	var accounts []string
	for i := 0; i < 4; i++ {
		var acc struct{ ID string }
		mustAdmin(t, a.admin, 201, "POST", "/v1/accounts", `{"name":"c","currency":"EUR"}`, nil).JSON(t, &acc)
		mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/top-ups", `{"amount":"20"}`, map[string]string{"Idempotency-Key": "fund-" + acc.ID})
		accounts = append(accounts, acc.ID)
		initial[acc.ID] = ledger.MustParseAmount("20")
	}
	for _, acc := range accounts {
		eventually(t, 2*time.Second, "node B sees "+acc, func() bool {
			return adminReq(t, b.admin, "GET", "/v1/accounts/"+acc+"/balance", "", nil).Status == 200
		})
	}
	start := time.Now()
	res := testkit.Stress(t, testkit.StressConfig{Admin: []string{a.admin, b.admin}, Token: clusterToken, Accounts: accounts,
		Workers: 16, OpsPerWorker: 60, Seed: uint64(time.Now().UnixNano()), HoldTTL: time.Second})
	elapsed := time.Since(start)
	for _, acc := range accounts {
		eventually(t, 15*time.Second, "holds on "+acc+" end", func() bool {
			_, held := testkit.AdminBalance(t, a.admin, clusterToken, acc)
			return held == 0
		})
	}
	testkit.VerifyStress(t, res, initial,
		func(acc string) []testkit.EntryView { return testkit.AdminEntries(t, a.admin, clusterToken, acc) },
		func(acc string) (ledger.Amount, ledger.Amount) {
			return testkit.AdminBalance(t, a.admin, clusterToken, acc)
		})
	// Node B's cache converges on the same balances and holds. Both, not the
	// balance alone: a hold's expiry changes only what is held, and its change
	// can reach B after the last movement's (seen once in CI under load).
	for _, acc := range accounts {
		want, wantHeld := testkit.AdminBalance(t, a.admin, clusterToken, acc)
		eventually(t, 5*time.Second, "node B's balance and held of "+acc, func() bool {
			got, held := testkit.AdminBalance(t, b.admin, clusterToken, acc)
			return got == want && held == wantHeld
		})
	}
	// And node B tells the same story: every acknowledged entry once, none for a refused key.
	testkit.VerifyStress(t, res, initial,
		func(acc string) []testkit.EntryView { return testkit.AdminEntries(t, b.admin, clusterToken, acc) },
		func(acc string) (ledger.Amount, ledger.Amount) {
			return testkit.AdminBalance(t, b.admin, clusterToken, acc)
		})
	st, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := ledger.Check(context.Background(), st)
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
	t.Logf("two nodes, %v: %d acknowledged entries, %d holds, statuses %v", elapsed, len(res.Acked), len(res.Holds), res.Statuses)
	t.Logf("%d retries (%d twins, %d on the other node, %d after a top-up); %d replayed 402s, %d of them after a top-up",
		res.Retries, res.ConcurrentRetries, res.CrossNodeRetries, res.AfterTopUpRetries, res.Replayed402, res.Replayed402AfterTopUp)
	if res.Replayed402AfterTopUp == 0 || res.ConcurrentRetries == 0 || res.CrossNodeRetries == 0 {
		t.Errorf("the retries did not exercise replays: %d replayed 402s after a top-up, %d twins, %d on the other node",
			res.Replayed402AfterTopUp, res.ConcurrentRetries, res.CrossNodeRetries)
	}
}

// TestClusterChangesReachOtherNode changes credentials and state on node A and
// measures how long node B takes to act on it: each must be under one second.
func TestClusterChangesReachOtherNode(t *testing.T) {
	db := storetest.FreshSchema(t)
	a := startNode(t, db)
	b := startNode(t, db)
	var acc struct{ ID string }
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts", `{"name":"r","currency":"EUR"}`, nil).JSON(t, &acc)
	var key struct{ ID, Key string }
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/api-keys", `{"name":"k"}`, nil).JSON(t, &key)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/users", `{"username":"bob","password":"password1"}`, nil)
	appAuth := map[string]string{"Authorization": "App " + key.Key}
	bobAuth := map[string]string{"Authorization": "Basic " + b64("bob:password1")}
	status := func(h map[string]string) int {
		return testkit.Do(t, "GET", b.public+"/account/1/balance", h, nil).Status
	}
	eventually(t, time.Second, "node B serves the new account", func() bool { return status(appAuth) == 200 && status(bobAuth) == 200 })

	mustAdmin(t, a.admin, 204, "DELETE", "/v1/accounts/"+acc.ID+"/api-keys/"+key.ID, "", nil)
	d := eventually(t, time.Second, "revoked key refused on node B", func() bool { return status(appAuth) == 401 })
	t.Logf("API key revocation reached node B in %v", d)

	// A key the customer makes on node A works on node B, and every change to
	// its restrictions, made on A, holds on B at once (the change feed drops B's
	// credential cache).
	r := testkit.Do(t, "POST", a.public+"/settings/2/api-keys", map[string]string{"Authorization": bobAuth["Authorization"], "Content-Type": "application/json"},
		[]byte(`{"name":"customer's"}`))
	var ck struct{ ID, APIKeySecret string }
	r.JSON(t, &ck)
	if r.Status != 200 {
		t.Fatalf("customer key on node A: %d %s", r.Status, r.Body)
	}
	custAuth := map[string]string{"Authorization": "App " + ck.APIKeySecret}
	eventually(t, time.Second, "node B takes the customer's new key", func() bool { return status(custAuth) == 200 })
	for _, step := range []struct {
		body string
		want int
	}{{`{"enabled":false}`, 401}, {`{"enabled":true}`, 200}, {`{"allowedIPs":["192.0.2.0/24"]}`, 401}, {`{"allowedIPs":["127.0.0.1"]}`, 200},
		{`{"validTo":"2020-01-01T00:00:00Z","validFrom":"2019-01-01T00:00:00Z"}`, 401}} {
		r := testkit.Do(t, "PUT", a.public+"/settings/2/api-keys/"+ck.ID, map[string]string{"Authorization": bobAuth["Authorization"], "Content-Type": "application/json"}, []byte(step.body))
		if r.Status != 200 {
			t.Fatalf("update %s on node A: %d %s", step.body, r.Status, r.Body)
		}
		d := eventually(t, time.Second, "key update "+step.body+" holds on node B", func() bool { return status(custAuth) == step.want })
		t.Logf("key update %s reached node B in %v", step.body, d)
	}

	mustAdmin(t, a.admin, 200, "PATCH", "/v1/accounts/"+acc.ID, `{"status":"suspended"}`, nil)
	d = eventually(t, time.Second, "suspension seen on node B", func() bool { return status(bobAuth) == 403 })
	t.Logf("suspension reached node B in %v", d)

	mustAdmin(t, a.admin, 204, "DELETE", "/v1/accounts/"+acc.ID+"/users/bob", "", nil)
	d = eventually(t, time.Second, "removed user refused on node B", func() bool { return status(bobAuth) == 401 })
	t.Logf("user removal reached node B in %v", d)

	var rot struct{ Token string }
	mustAdmin(t, a.admin, 200, "POST", "/v1/admin-token/rotate", "", nil).JSON(t, &rot)
	d = eventually(t, time.Second, "old admin token refused on node B", func() bool {
		return adminReq(t, b.admin, "GET", "/v1/accounts", "", nil).Status == 401
	})
	r = testkit.Do(t, "GET", b.admin+"/v1/accounts", map[string]string{"Authorization": "Bearer " + rot.Token}, nil)
	if r.Status != 200 {
		t.Errorf("new token on node B: %d", r.Status)
	}
	t.Logf("admin token rotation reached node B in %v", d)
}

// privatePostgres runs a PostgreSQL server of the test's own, on its own port, so
// the test can restart it without disturbing anything else.
type privatePostgres struct {
	dir, bin, port string
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server binaries here")
	}
	p := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1]), port: "5499"}
	dir, err := os.MkdirTemp("", "purse-pg")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	run := func(args ...string) {
		t.Helper()
		cmd := append([]string{}, args...)
		if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
			exec.Command("chown", "-R", "postgres", dir).Run()
			cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
		}
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "root")
	p.ctl(t, "start")
	t.Cleanup(func() {
		p.ctl(t, "stop")
		os.RemoveAll(dir)
	})
	return p
}

// ctl runs pg_ctl start or stop; "crash" stops the server the way a crash would
// (immediate mode: no checkpoint, and WAL still in PostgreSQL's buffers is lost).
func (p *privatePostgres) ctl(t *testing.T, action string) {
	t.Helper()
	mode := "fast"
	if action == "crash" {
		action, mode = "stop", "immediate"
	}
	args := []string{filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-w", "-t", "30", "-l", filepath.Join(p.dir, "log"),
		"-o", "-p " + p.port + " -k " + p.dir + " -c listen_addresses=127.0.0.1", action}
	if action != "start" {
		args = append(args, "-m", mode)
	}
	if os.Geteuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil && action != "stop" {
		t.Fatalf("pg_ctl %s: %v\n%s", action, err, out)
	}
}

func (p *privatePostgres) url() string {
	return "postgres://root@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// TestPostgresRestartUnderLoad crashes PostgreSQL (an immediate stop) and starts it
// again while clients charge through purse: no 500 ever, 503 while the database is
// away, service back within 10 s of the database, and every acknowledged charge in
// the ledger afterwards, although batches commit without waiting for the WAL flush
// (only the sync after them does, store/postgres/sync.go).
func TestPostgresRestartUnderLoad(t *testing.T) {
	storetest.PostgresURL(t) // runs where PostgreSQL tests run
	pg := startPrivatePostgres(t)
	n := startNode(t, pg.url())
	var acc struct{ ID string }
	mustAdmin(t, n.admin, 201, "POST", "/v1/accounts", `{"name":"load","currency":"EUR"}`, nil).JSON(t, &acc)
	mustAdmin(t, n.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/top-ups", `{"amount":"100000"}`, map[string]string{"Idempotency-Key": "fund"})

	var mu sync.Mutex
	statuses := map[int]int{}
	acked := map[string]string{} // idempotency key -> movement id
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				// Retry the same key until it is acknowledged: exactly-once across the outage.
				for {
					req, _ := http.NewRequest("POST", n.admin+"/v1/accounts/"+acc.ID+"/charges", strings.NewReader(`{"amount":"0.01"}`))
					req.Header.Set("Authorization", "Bearer "+clusterToken)
					req.Header.Set("Idempotency-Key", key)
					resp, err := client.Do(req)
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					mu.Lock()
					statuses[resp.StatusCode]++
					if resp.StatusCode == 201 {
						var e struct{ ID string }
						json.Unmarshal(body, &e)
						acked[key] = e.ID
					}
					mu.Unlock()
					if resp.StatusCode == 201 {
						break
					}
					if resp.StatusCode != 503 {
						t.Errorf("charge: %d %s", resp.StatusCode, body)
						return
					}
					time.Sleep(20 * time.Millisecond)
					select {
					case <-stop:
						return
					default:
					}
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	pg.ctl(t, "crash")
	time.Sleep(1500 * time.Millisecond)
	pg.ctl(t, "start")
	up := time.Now()
	back := eventually(t, 10*time.Second, "purse serves again after PostgreSQL is back", func() bool {
		r := testkit.Do(t, "GET", n.admin+"/readyz", nil, nil)
		return r.Status == 200
	})
	_ = up
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if statuses[500] > 0 {
		t.Errorf("%d answers were 500", statuses[500])
	}
	if statuses[503] == 0 {
		t.Errorf("no 503 while PostgreSQL was down: statuses %v", statuses)
	}
	// Every acknowledged charge is in the ledger, once.
	entries := testkit.AdminEntries(t, n.admin, clusterToken, acc.ID)
	byKey := map[string]int{}
	for _, e := range entries {
		byKey[e.Key]++
	}
	for key, id := range acked {
		if byKey[key] != 1 {
			t.Errorf("acknowledged charge %s (key %s) appears %d times", id, key, byKey[key])
		}
	}
	st, err := postgres.Open(context.Background(), pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rep, err := ledger.Check(context.Background(), st); err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
	t.Logf("statuses %v; %d charges acknowledged; ready %v after PostgreSQL was back", statuses, len(acked), back)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestClusterSubAccountSwitchReachesOtherNode: a parent disables its sub-account
// through node A's public API; node B refuses the sub-account's credentials (403)
// as soon as the change feed brings the row (every kind: API key, Basic,
// session, OAuth2 token; the balance, a key route, the audit log), refuses its
// charges and holds, and serves them again once enabled on node B.
// A shared sub-account charged on node B takes its parent's money, and node A
// reads it.
func TestClusterSubAccountSwitchReachesOtherNode(t *testing.T) {
	db := storetest.FreshSchema(t)
	a := startNode(t, db)
	b := startNode(t, db)
	var acc, sub struct{ ID string }
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts", `{"name":"parent","currency":"EUR"}`, nil).JSON(t, &acc)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts", `{"name":"team","parent":"`+acc.ID+`","funding":"shared"}`, nil).JSON(t, &sub)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/users", `{"username":"boss","password":"password1"}`, nil)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+sub.ID+"/users", `{"username":"team","password":"password1"}`, nil)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+acc.ID+"/top-ups", `{"amount":"10"}`, map[string]string{"Idempotency-Key": "t"})
	boss := map[string]string{"Authorization": "Basic " + b64("boss:password1"), "Content-Type": "application/json"}
	team := map[string]string{"Authorization": "Basic " + b64("team:password1")}
	read := func(base string) testkit.Response { return testkit.Do(t, "GET", base+"/account/1/balance", team, nil) }
	eventually(t, time.Second, "node B serves the sub-account", func() bool { return read(b.public).Status == 200 })
	creds := subAccountCredentials(t, a, sub.ID, boss)
	eventually(t, time.Second, "node B serves the sub-account's credentials", func() bool {
		for _, auth := range creds {
			if testkit.Do(t, "GET", b.public+"/account/1/balance", map[string]string{"Authorization": auth}, nil).Status != 200 {
				return false
			}
		}
		return true
	})
	mustAdmin(t, b.admin, 201, "POST", "/v1/accounts/"+sub.ID+"/charges", `{"amount":"2.5"}`, map[string]string{"Idempotency-Key": "c"})
	eventually(t, time.Second, "node A reads the parent's balance after the shared charge", func() bool {
		return string(read(a.public).Body) == `{"balance":7.5,"currency":"EUR"}`
	})
	if r := testkit.Do(t, "PUT", a.public+"/settings/1/accounts/"+sub.ID, boss, []byte(`{"enabled":false}`)); r.Status != 200 {
		t.Fatalf("disable on node A: %d %s", r.Status, r.Body)
	}
	d := eventually(t, time.Second, "node B refuses the disabled sub-account", func() bool { return read(b.public).Status == 403 })
	t.Logf("the switch reached node B in %v", d)
	// Every kind of the sub-account's credential, made on node A, is refused on
	// node B: the balance, a key route, the audit log.
	for kind, auth := range creds {
		for _, path := range []string{"/account/1/balance", "/settings/2/api-keys", "/audit/1/logs"} {
			r := testkit.Do(t, "GET", b.public+path, map[string]string{"Authorization": auth}, nil)
			if r.Status != 403 || kind != "App" && !strings.Contains(string(r.Body), "disabled by its parent") {
				t.Errorf("%s on node B, %s: %d %s, want 403", kind, path, r.Status, r.Body)
			}
		}
	}
	if r := adminReq(t, b.admin, "POST", "/v1/accounts/"+sub.ID+"/charges", `{"amount":"1"}`, map[string]string{"Idempotency-Key": "c2"}); r.Status != 409 {
		t.Errorf("charge of the disabled sub-account on node B: %d %s", r.Status, r.Body)
	}
	if r := adminReq(t, b.admin, "POST", "/v1/accounts/"+sub.ID+"/holds", `{"amount":"1","expiresIn":"60s"}`, map[string]string{"Idempotency-Key": "h2"}); r.Status != 409 {
		t.Errorf("hold of the disabled sub-account on node B: %d %s", r.Status, r.Body)
	}
	if r := testkit.Do(t, "PUT", b.public+"/settings/1/accounts/"+sub.ID, boss, []byte(`{"enabled":true}`)); r.Status != 200 {
		t.Fatalf("enable on node B: %d %s", r.Status, r.Body)
	}
	d = eventually(t, time.Second, "node A serves every credential again", func() bool {
		for _, auth := range creds {
			if testkit.Do(t, "GET", a.public+"/account/1/balance", map[string]string{"Authorization": auth}, nil).Status != 200 {
				return false
			}
		}
		return true
	})
	t.Logf("enabling reached node A in %v", d)
	mustAdmin(t, a.admin, 201, "POST", "/v1/accounts/"+sub.ID+"/holds", `{"amount":"1","expiresIn":"60s"}`, map[string]string{"Idempotency-Key": "h3"})
}

// subAccountCredentials makes, on node n, one credential of each kind for the
// sub-account whose user is team: an API key (by its parent, boss), the user's
// Basic login, a session and an OAuth2 token, each with the family's scopes.
func subAccountCredentials(t *testing.T, n *node, sub string, boss map[string]string) map[string]string {
	t.Helper()
	var k struct{ APIKeySecret string }
	r := testkit.Do(t, "POST", n.public+"/settings/2/api-keys", boss,
		[]byte(`{"name":"team's","accountId":"`+sub+`","scopeGuids":["account-management:manage","audit-logs:read"]}`))
	r.JSON(t, &k)
	if r.Status != 200 {
		t.Fatalf("key for the sub-account: %d %s", r.Status, r.Body)
	}
	var sess struct{ Token string }
	r = testkit.Do(t, "POST", n.public+"/auth/1/session", map[string]string{"Content-Type": "application/json"}, []byte(`{"username":"team","password":"password1"}`))
	r.JSON(t, &sess)
	var oc struct{ ClientID, ClientSecret string }
	mustAdmin(t, n.admin, 201, "POST", "/v1/accounts/"+sub+"/oauth-clients", `{"name":"c","scopes":["account-management:manage","audit-logs:read"]}`, nil).JSON(t, &oc)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r = testkit.Do(t, "POST", n.public+"/auth/1/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		[]byte("grant_type=client_credentials&client_id="+oc.ClientID+"&client_secret="+oc.ClientSecret))
	r.JSON(t, &tok)
	if sess.Token == "" || tok.AccessToken == "" {
		t.Fatalf("session %q, token %q", sess.Token, tok.AccessToken)
	}
	return map[string]string{"App": "App " + k.APIKeySecret, "Basic": "Basic " + b64("team:password1"),
		"IBSSO": "IBSSO " + sess.Token, "Bearer": "Bearer " + tok.AccessToken}
}
