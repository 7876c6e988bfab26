package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The command line's own tests live with it, in internal/cli; these are the
// parts that need the real purse serve.

var update = flag.Bool("update", false, "rewrite testdata/serve-help.txt with what purse serve -h prints now")

// TestServeHelpGolden: purse serve -h and purse help serve print serve's own
// flags, on stdout, with status 0.
func TestServeHelpGolden(t *testing.T) {
	for _, args := range [][]string{{"serve", "-h"}, {"help", "serve"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}); err != nil || errb.Len() > 0 {
			t.Fatalf("purse %s: %v, stderr %q", strings.Join(args, " "), err, errb.String())
		}
		path := filepath.Join("testdata", "serve-help.txt")
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./cmd/purse -run TestServeHelpGolden -update writes it)", err)
		}
		if diff := cmp.Diff(out.String(), string(want)); diff != "" {
			t.Errorf("purse %s (-got +want):\n%s", strings.Join(args, " "), diff)
		}
	}
}

// TestServeWritesItsAdminURL: purse serve writes its admin listener's URL beside
// the store (mode 0600); a command with no --admin-url finds the server there,
// on a port it chose; the file goes at a clean shutdown.
func TestServeWritesItsAdminURL(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db)
	fi, err := os.Stat(db + ".admin-url")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin URL file: %v, mode %v", err, fi.Mode())
	}
	if got := mustRead(t, db+".admin-url"); got != s.admin {
		t.Errorf("admin URL file holds %q, the admin listener is %s", got, s.admin)
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"accounts", "create", "-q", "--name", "A", "--currency", "EUR", "--db", db},
		env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err != nil || !strings.HasPrefix(out.String(), "acc_") {
		t.Fatalf("accounts create without --admin-url: %v %s%s", err, out.String(), errb.String())
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + ".admin-url"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin URL file after shutdown: %v", err)
	}
}

// TestStartErrorPrintedOnce: an error that stops purse serve from starting is
// printed once, by main, not logged and printed again; and durations in serve's
// JSON log lines read as "2s".
func TestStartErrorPrintedOnce(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var stderr bytes.Buffer
	err = run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "purse.db"), "--listen", "127.0.0.1:0", "--admin-listen", taken.Addr().String()},
		env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }})
	if status := exitStatus(err, &stderr); status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
	if n := strings.Count(stderr.String(), "address already in use"); n != 1 {
		t.Errorf("the start-up error appears %d times:\n%s", n, stderr.String())
	}

	// A clean start and stop in JSON: the shutdown line's timeout is "2s".
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", filepath.Join(t.TempDir(), "purse.db"), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--shutdown-timeout", "2s"},
			env{stdout: io.Discard, stderr: logs, getenv: func(string) string { return "" }, ready: func(string, string) { cancel() }})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"timeout":"2s"`) {
		t.Errorf("no \"timeout\":\"2s\" in the log:\n%s", logs.String())
	}
}
