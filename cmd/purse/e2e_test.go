package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/purse-ledger/purse/internal/testkit"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is a `purse serve` started through run, as main starts it.
type server struct {
	public, admin string // base URLs
	db            string
	stop          func() error
	logs          *syncBuffer
}

// syncBuffer is testkit.SyncBuffer.
type syncBuffer = testkit.SyncBuffer

func startServe(t *testing.T, db string, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{db: db, logs: &syncBuffer{}}
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	args := append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--log-format", "text"}, extra...)
	go func() {
		done <- run(ctx, args, env{stdout: io.Discard, stderr: s.logs, getenv: func(string) string { return "" },
			ready: func(p, a string) { ready <- [2]string{p, a} }})
	}()
	select {
	case addrs := <-ready:
		s.public, s.admin = "http://"+addrs[0], "http://"+addrs[1]
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, s.logs)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("serve did not start\n%s", s.logs)
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func get(t *testing.T, url string, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestDemoAnswersTheDocumentedRequest sends the request of Infobip's documentation
// to `purse serve --demo` and expects the documented responses, byte for byte.
func TestDemoAnswersTheDocumentedRequest(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	docAuth := map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Accept": "application/json"}
	status, body, h := get(t, s.public+"/account/1/balance", docAuth)
	if status != 200 || body != `{"balance":47.79134,"currency":"EUR"}` || h.Get("Content-Type") != "application/json" {
		t.Errorf("JSON: %d %s %q", status, body, h.Get("Content-Type"))
	}
	docAuth["Accept"] = "application/xml"
	status, body, h = get(t, s.public+"/account/1/balance", docAuth)
	if status != 200 || body != `<accountBalance><balance>47.79134</balance><currency>EUR</currency></accountBalance>` || h.Get("Content-Type") != "application/xml" {
		t.Errorf("XML: %d %s %q", status, body, h.Get("Content-Type"))
	}
	// Log lines are buffered for up to 100 ms.
	eventually(t, 2*time.Second, "a request log line", func() bool {
		return strings.Contains(s.logs.String(), "path=/account/1/balance status=200")
	})
	if strings.Contains(s.logs.String(), mustRead(t, s.db+".admin-token")) {
		t.Error("the admin token appears in the logs")
	}
	if fi, err := os.Stat(s.db + ".admin-token"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin token file: %v, mode %v", err, fi.Mode())
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// runCLI runs a management command through run against s and returns its stdout.
func runCLI(t *testing.T, s *server, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{}, args...)
	switch args[0] {
	case "migrate": // offline: its own flags only
	case "check":
		if !slices.Contains(args, "--db") {
			full = append(full, "--db", s.db)
		}
	default:
		full = append(full, "--admin-url", s.admin, "--db", s.db)
	}
	err := run(context.Background(), full, env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }})
	if err != nil {
		return out.String() + errb.String() + err.Error(), err
	}
	return out.String(), nil
}

func mustCLI(t *testing.T, s *server, args ...string) string {
	t.Helper()
	out, err := runCLI(t, s, args...)
	if err != nil {
		t.Fatalf("purse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestCLIAndRestart drives every management command, restarts purse, and checks
// that everything written before the restart is there after it, and that the demo
// seed is idempotent.
func TestCLIAndRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db, "--demo")

	var acc struct{ ID, Balance string }
	json.Unmarshal([]byte(mustCLI(t, s, "accounts", "create", "--name", "Acme", "--currency", "usd", "--json")), &acc)
	if acc.ID == "" || acc.Balance != "0" {
		t.Fatalf("accounts create: %+v", acc)
	}
	if out := mustCLI(t, s, "accounts", "get", acc.ID); !strings.Contains(out, "Acme") || !strings.Contains(out, "USD") {
		t.Errorf("accounts get: %s", out)
	}
	mustCLI(t, s, "users", "add", acc.ID, "--username", "acme", "--password", "s3cret-pass")
	var key struct{ ID, Key string }
	json.Unmarshal([]byte(mustCLI(t, s, "api-keys", "create", acc.ID, "--name", "prod", "--json")), &key)
	var key2 struct{ ID, Key string }
	json.Unmarshal([]byte(mustCLI(t, s, "api-keys", "create", acc.ID, "--name", "old", "--json")), &key2)
	mustCLI(t, s, "api-keys", "revoke", acc.ID, key2.ID)
	if out := mustCLI(t, s, "top-up", acc.ID, "12.345678", "--reference", "inv-1", "--idempotency-key", "t1"); !strings.Contains(out, "12.345678") {
		t.Errorf("top-up: %s", out)
	}
	mustCLI(t, s, "top-up", acc.ID, "12.345678", "--idempotency-key", "t1", "--reference", "inv-1") // a retry: no second top-up
	if out := mustCLI(t, s, "balance", acc.ID); out != "12.345678 USD\n" {
		t.Errorf("balance: %q", out)
	}
	if out := mustCLI(t, s, "balance", "--url", s.public, "--api-key", key.Key); out != "12.345678 USD\n" {
		t.Errorf("balance via Infobip API: %q", out)
	}
	if out := mustCLI(t, s, "accounts", "list"); !strings.Contains(out, acc.ID) || !strings.Contains(out, "acc_demo") {
		t.Errorf("accounts list: %s", out)
	}
	if out, err := runCLI(t, s, "top-up", acc.ID, "-1"); err == nil || !strings.Contains(out, "amount") {
		t.Errorf("negative top-up: err=%v out=%s", err, out)
	}
	if out, err := runCLI(t, s, "accounts", "get", acc.ID, "--admin-token", "wrong"); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("wrong token: err=%v out=%s", err, out)
	}
	// A second purse on the same file exits at once and leaves it alone.
	err := run(context.Background(), []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
		env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second serve: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s2 := startServe(t, db, "--demo")
	if out := mustCLI(t, s2, "balance", acc.ID); out != "12.345678 USD\n" {
		t.Errorf("balance after restart: %q", out)
	}
	if out := mustCLI(t, s2, "balance", "--url", s2.public, "--username", "acme", "--password", "s3cret-pass"); out != "12.345678 USD\n" {
		t.Errorf("user after restart: %q", out)
	}
	if out := mustCLI(t, s2, "balance", "--url", s2.public, "--api-key", key.Key); out != "12.345678 USD\n" {
		t.Errorf("key after restart: %q", out)
	}
	if out, err := runCLI(t, s2, "balance", "--url", s2.public, "--api-key", key2.Key); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("revoked key after restart: err=%v out=%q", err, out)
	}
	// The idempotency record survived too: the same key replays, it does not apply again.
	mustCLI(t, s2, "top-up", acc.ID, "12.345678", "--idempotency-key", "t1", "--reference", "inv-1")
	if out := mustCLI(t, s2, "balance", acc.ID); out != "12.345678 USD\n" {
		t.Errorf("balance after replay across restart: %q", out)
	}
	if out := mustCLI(t, s2, "balance", "acc_demo"); out != "47.79134 EUR\n" {
		t.Errorf("demo balance after a second --demo start: %q", out)
	}
	var users []struct{ Username string }
	json.Unmarshal([]byte(mustCLI(t, s2, "users", "list", "acc_demo", "--json")), &users)
	if len(users) != 1 || users[0].Username != "Aladdin" {
		t.Errorf("demo users after restart: %+v", users)
	}
}

// TestGracefulShutdown stops purse while a request is inside its handler and
// expects the request to finish: a charge sent with "Expect: 100-continue", whose
// handler has asked for the body (the 100 Continue says so) when the shutdown
// begins, and gets it only once new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	host := strings.TrimPrefix(s.admin, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"amount":"0.5"}`
	head := "POST /v1/accounts/acc_demo/charges HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + mustRead(t, s.db+".admin-token") +
		"\r\nContent-Type: application/json\r\nIdempotency-Key: graceful-1\r\nExpect: 100-continue\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	for deadline := time.Now().Add(10 * time.Second); ; { // the shutdown has begun once new connections are refused
		c, err := net.Dial("tcp", host)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still open 10 s after the shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := conn.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight charge: %d, want 201", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownEndsLongPolls: a consumer long-polling the events feed when purse
// is stopped gets its answer at once (no events, its cursor unchanged), to ask
// again of the node that takes over; the shutdown does not wait out its timeout
// for it, and cuts no connection.
func TestShutdownEndsLongPolls(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	token := mustRead(t, s.db+".admin-token")
	var head struct{ Next int64 }
	_, body, _ := get(t, s.admin+"/v1/events?limit=1000", map[string]string{"Authorization": "Bearer " + token})
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	polled := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.admin+"/v1/events?wait=25s&after="+strconv.FormatInt(head.Next, 10), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			polled <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		polled <- answer{resp.StatusCode, string(b), err}
	}()
	time.Sleep(300 * time.Millisecond) // the poll is waiting
	if err := s.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	a := <-polled
	if want := `"next":` + strconv.FormatInt(head.Next, 10); a.err != nil || a.status != 200 || !strings.Contains(a.body, want) {
		t.Fatalf("the waiting poll got %d %s (%v), want 200 with %s", a.status, a.body, a.err, want)
	}
	if strings.Contains(s.logs.String(), "admin shutdown") {
		t.Errorf("the shutdown waited for the poll:\n%s", s.logs)
	}
}

// TestMetrics reads /metrics after some traffic: request counts by route and
// status, batch sizes, commit latency, queue depth and the credential cache.
func TestMetrics(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"), "--demo")
	for i := 0; i < 3; i++ {
		get(t, s.public+"/account/1/balance", map[string]string{"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="})
	}
	get(t, s.public+"/nowhere/at/all", nil)
	_, body, _ := get(t, s.admin+"/metrics", nil)
	for _, want := range []string{
		`purse_http_requests_total{listener="public",route="/account/1/balance",status="200"} 3`,
		`purse_http_requests_total{listener="public",route="other",status="404"} 1`,
		`purse_http_request_duration_seconds_bucket{listener="public",route="/account/1/balance"`,
		"purse_engine_batch_size_count", "purse_engine_commit_seconds_bucket", "purse_engine_queue_depth 0",
		"purse_auth_cache_hits_total 2", "purse_auth_cache_misses_total 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if status, _, _ := get(t, s.admin+"/debug/pprof/", nil); status != 404 {
		t.Errorf("pprof without --pprof: %d, want 404", status)
	}
}
