package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/cli"
	"github.com/purse-ledger/purse/internal/store/storetest"
)

// Tests of the edges around the ledger (issue #17): which store a server opens,
// whether it tells the truth about its health, and which flags it takes.

// testToken is an admin token with enough entropy for --admin-token.
const testToken = "5f0c6a1e9b8d7c3f2a4e6b1d0c9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"

// tryServe runs purse serve with args and the given environment. If it comes up,
// up (when set) gets the listeners' base URLs, then the server is stopped. It
// reports whether the server came up, what run returned and what it logged.
func tryServe(t *testing.T, environ map[string]string, up func(public, admin string), args ...string) (bool, string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	started := false
	full := append([]string{"serve", "--log-format", "text"}, args...)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, full, env{stdout: logs, stderr: logs, getenv: func(k string) string { return environ[k] },
			ready: func(p, a string) {
				started = true
				if up != nil {
					up("http://"+p, "http://"+a)
				}
				cancel()
			}})
	}()
	select {
	case err := <-done:
		return started, logs.String(), err
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve %q did not finish\n%s", args, logs)
	}
	return false, "", nil
}

// local are the flags that keep a test server on loopback, on ports of its own.
func local(db string, extra ...string) []string {
	return append([]string{"--db", db, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, extra...)
}

// TestOneWriterPerStoreWhateverThePath starts purse on a file and then a second
// purse on other names of the same file: a symlink, a hard link, a path through
// "./" and "../". Each must be refused while the first runs: two writers would each
// keep balances in memory and acknowledge charges the other cannot see.
func TestOneWriterPerStoreWhateverThePath(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "purse.db")
	s := startServe(t, db)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(db, filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(db, filepath.Join(dir, "hard.db")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"symlink", filepath.Join(dir, "link.db")},
		{"hard link", filepath.Join(dir, "hard.db")},
		{"dot", dir + "/./purse.db"},
		{"dot-dot", sub + "/../purse.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started, logs, err := tryServe(t, nil, nil, local(tc.path, "--admin-token", testToken)...)
			if started || err == nil {
				t.Fatalf("a second server started on %s: %v\n%s", tc.path, err, logs)
			}
			if !strings.Contains(err.Error(), "in use") {
				t.Errorf("got %v, want an error saying the store is in use", err)
			}
		})
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	// Stopped, the hard link is still refused: SQLite names the write-ahead log after
	// the path, so through a second name committed transactions could be missed.
	started, logs, err := tryServe(t, nil, nil, local(filepath.Join(dir, "hard.db"), "--admin-token", testToken)...)
	if started || err == nil || !strings.Contains(err.Error(), "hard link") {
		t.Errorf("serve through a hard link of a stopped store: started=%v %v\n%s", started, err, logs)
	}
}

// unwritable makes path impossible to open for writing, even for root (which
// ignores file modes): chmod for other users, chattr +i for root.
func unwritable(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only as root: %v %s", path, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
}

// TestReadOnlyStoreIsRefused: a database file purse cannot write used to be served,
// with /readyz at 200 while every write failed. It must not start.
func TestReadOnlyStoreIsRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	unwritable(t, db)
	ready := 0
	started, logs, err := tryServe(t, nil, func(public, admin string) {
		ready, _, _ = get(t, admin+"/readyz", nil)
	}, local(db)...)
	if started || err == nil {
		t.Fatalf("purse served a read-only store (readyz %d): %v\n%s", ready, err, logs)
	}
	if !strings.Contains(err.Error(), "not writable") {
		t.Errorf("got %v, want a reason that names the unwritable file", err)
	}
}

// TestHealthOnThePublicListener: a load balancer in front of the public listener
// asks it, not the private admin listener, whether a node is up and ready.
func TestHealthOnThePublicListener(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "purse.db"))
	for _, tc := range []struct{ path, want string }{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"status":"ready"}`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, body, h := get(t, s.public+tc.path, nil)
			if status != 200 || strings.TrimSpace(body) != tc.want || h.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s (%s), want 200 %s", status, body, h.Get("Content-Type"), tc.want)
			}
		})
	}
}

// TestMissingDirectoryIsNotCreated: a typo in --db's directory used to create the
// directory and an empty ledger in it. The directory must exist, or --create.
func TestMissingDirectoryIsNotCreated(t *testing.T) {
	base := t.TempDir()
	db := filepath.Join(base, "no", "such", "purse.db")
	started, logs, err := tryServe(t, nil, nil, local(db)...)
	if started || err == nil || !strings.Contains(err.Error(), "--create") {
		t.Errorf("serve into a missing directory: started=%v %v\n%s", started, err, logs)
	}
	if _, err := os.Stat(filepath.Join(base, "no")); err == nil {
		t.Error("the missing directory was created")
	}
	started, logs, err = tryServe(t, nil, nil, local(db, "--create")...)
	if !started || err != nil {
		t.Errorf("serve --create: started=%v %v\n%s", started, err, logs)
	}
	if fi, err := os.Stat(filepath.Dir(db)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("--create made the directory: %v %v", err, fi)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCheckNeverChangesWhatItChecks: `purse check` on an empty file printed "ok"
// and wrote a schema into it. It must open read-only, never migrate, and fail on
// anything that is not a purse store of a schema version it knows.
func TestCheckNeverChangesWhatItChecks(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "purse.db")
	s := startServe(t, good, "--demo")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	future := filepath.Join(dir, "future.db")
	copyFile(t, good, future)
	sqliteExec(t, future, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`)
	notPurse := filepath.Join(dir, "other.db")
	sqliteExec(t, notPurse, `CREATE TABLE t (x INTEGER)`)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a database at all, but long enough to have a header of sorts\n"), 0o600)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	for _, tc := range []struct {
		name, db, wantErr string
	}{
		{"empty file", empty, "not a purse store"},
		{"another SQLite database", notPurse, "not a purse store"},
		{"not SQLite", text, "not a purse store"},
		{"schema from a newer purse", future, "schema version 9999"},
		{"missing", filepath.Join(dir, "typo.db"), "no such file"},
		{"good", good, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before string
			if _, err := os.Stat(tc.db); err == nil {
				before = fileSum(t, tc.db)
			}
			var out bytes.Buffer
			err := run(context.Background(), []string{"check", "--db", tc.db}, env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("check: %v\n%s", err, out.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("check: got %v (%s), want an error containing %q", err, out.String(), tc.wantErr)
			}
			if before == "" {
				if _, err := os.Stat(tc.db); err == nil {
					t.Error("check created the file")
				}
			} else if after := fileSum(t, tc.db); after != before {
				t.Error("check changed the file")
			}
		})
	}
}

// TestFlagsMeanWhatTheySay: booleans parse one way from flags and environment,
// durations must be positive, an admin token must be strong, and a start that fails
// on its flags leaves no file behind.
func TestFlagsMeanWhatTheySay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		wantErr string // "" : starts
	}{
		{"PURSE_DEMO=1", map[string]string{"PURSE_DEMO": "1"}, nil, ""},
		{"PURSE_DEMO=TRUE", map[string]string{"PURSE_DEMO": "TRUE"}, nil, ""},
		{"PURSE_DEMO=yes", map[string]string{"PURSE_DEMO": "yes"}, nil, "PURSE_DEMO"},
		{"--demo=maybe", nil, []string{"--demo=maybe"}, `invalid boolean value "maybe" for -demo`},
		{"--session-idle 0s", nil, []string{"--session-idle", "0s"}, "--session-idle"},
		{"PURSE_SESSION_IDLE=soon", map[string]string{"PURSE_SESSION_IDLE": "soon"}, nil, "PURSE_SESSION_IDLE"},
		{"--idempotency-window -1h", nil, []string{"--idempotency-window", "-1h"}, "--idempotency-window"},
		{"--shutdown-timeout -5s", nil, []string{"--shutdown-timeout", "-5s"}, "--shutdown-timeout"},
		{"--admin-token a", nil, []string{"--admin-token", "a"}, "openssl rand -hex 32"},
		{"PURSE_ADMIN_TOKEN=password123", map[string]string{"PURSE_ADMIN_TOKEN": "password123password123password123"}, nil, "openssl rand -hex 32"},
		{"--admin-token of 64 hex digits", nil, []string{"--admin-token", testToken}, ""},
		{"--listen nonsense", nil, []string{"--listen", "no-such-host.invalid:http-nope"}, "public listener"},
		{"--admin-listen nonsense", nil, []string{"--admin-listen", "999.1.1.1:0"}, "admin listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "purse.db")
			demo := 0
			started, logs, err := tryServe(t, tc.environ, func(public, admin string) {
				demo, _, _ = get(t, public+"/account/1/balance", map[string]string{"Authorization": "Basic " + b64("Aladdin:open sesame")})
			}, append(local(db), tc.args...)...)
			if tc.wantErr == "" {
				if !started || err != nil {
					t.Fatalf("did not start: %v\n%s", err, logs)
				}
				if wantDemo := tc.environ["PURSE_DEMO"] != ""; wantDemo != (demo == 200) {
					t.Errorf("demo account answered %d, demo wanted: %v", demo, wantDemo)
				}
				return
			}
			// A mistake the flag package finds is printed by it; run returns a bare
			// usage error (exit status 2).
			var u cli.UsageError
			if errors.As(err, &u) && u.Msg == "" {
				err = errors.New(logs)
			}
			if started || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got started=%v err=%v, want an error containing %q\n%s", started, err, tc.wantErr, logs)
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("a failed start left %v behind", names(left))
			}
		})
	}
}

func names(des []os.DirEntry) []string {
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}

// TestAdminTokenResetRefusesAMissingStore: a typo in --db used to create a new
// empty store holding the new token.
func TestAdminTokenResetRefusesAMissingStore(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin-token", "reset", "--db", filepath.Join(dir, "typo.db")},
		env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("admin-token reset on a missing store: %v\n%s", err, out.String())
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("reset left %v behind", names(left))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sqliteExec runs statements on a SQLite file directly, below purse.
func sqliteExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestCheckNeverMigratesPostgres: `purse check` on an empty PostgreSQL database
// used to create purse's schema in it and report a healthy empty ledger.
func TestCheckNeverMigratesPostgres(t *testing.T) {
	target := storetest.FreshSchema(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--db", target}, env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "no purse schema") {
		t.Errorf("check on an empty database: %v\n%s", err, out.String())
	}
	conn, err := pgx.Connect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("check created %d tables", n)
	}
}
