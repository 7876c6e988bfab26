package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with what the commands print now")

// stubServe stands for cmd/purse's serve row: its name and help are the real
// ones (Serve), its flags two of the real ones, enough to show that they are
// listed and completed. cmd/purse has the golden file of the real purse serve -h.
var stubServe = Serve(func(fs *flag.FlagSet, e Env) {
	fs.String("db", EnvOr(e, "PURSE_DB", "purse.db"), "SQLite database file, or a postgres:// URL (env PURSE_DB)")
	fs.Bool("demo", false, "seed Infobip's documented example account")
}, func(context.Context) error { return nil })

// run runs the command line with no environment and returns stdout, stderr and
// the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(string) string { return "" }}, stubServe)
	return out.String(), errb.String(), err
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to write it)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("%s differs (-got +want); if the change is meant, run go test ./internal/cli -update:\n%s", path, diff)
	}
}

// TestHelpGolden: purse help, and purse CMD -h for every row of the table, each
// on stdout with status 0; purse help CMD prints the same as purse CMD -h.
func TestHelpGolden(t *testing.T) {
	out, errOut, err := run(t, "help")
	if err != nil || errOut != "" {
		t.Fatalf("purse help: %v, stderr %q", err, errOut)
	}
	golden(t, "help.txt", out)
	for _, c := range table(stubServe) {
		if c.Name == "serve" {
			continue // cmd/purse: TestServeHelpGolden
		}
		t.Run(c.Name, func(t *testing.T) {
			args := append(strings.Fields(c.Name), "-h")
			out, errOut, err := run(t, args...)
			if err != nil || errOut != "" {
				t.Fatalf("purse %s -h: %v, stderr %q", c.Name, err, errOut)
			}
			golden(t, filepath.Join("help", strings.ReplaceAll(c.Name, " ", "_")+".txt"), out)
			viaHelp, _, err := run(t, append([]string{"help"}, strings.Fields(c.Name)...)...)
			if err != nil || viaHelp != out {
				t.Errorf("purse help %s differs from purse %s -h (%v):\n%s", c.Name, c.Name, err, viaHelp)
			}
		})
	}
}

// TestVersionGolden: purse --version and purse version print the version, the
// commit and the Go version from the build information, nothing else.
func TestVersionGolden(t *testing.T) {
	defer func(f func() (*debug.BuildInfo, bool)) { readBuildInfo = f }(readBuildInfo)
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/purse-ledger/purse", Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8f677c2e0b1d"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	for _, arg := range []string{"--version", "version", "-version"} {
		out, errOut, err := run(t, arg)
		if err != nil || errOut != "" {
			t.Fatalf("purse %s: %v, stderr %q", arg, err, errOut)
		}
		// The platform is the test's own; the golden file has linux/amd64.
		out = strings.Replace(out, runtimeOSArch(), "linux/amd64", 1)
		golden(t, "version.txt", out)
	}
	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	out, _, _ := run(t, "version")
	if !strings.Contains(out, "purse (devel)") || !strings.Contains(out, "commit unknown") {
		t.Errorf("without build information: %q", out)
	}
}

// TestCompletionGolden: the bash and zsh scripts.
func TestCompletionGolden(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		out, errOut, err := run(t, "completion", shell)
		if err != nil || errOut != "" {
			t.Fatalf("purse completion %s: %v, stderr %q", shell, err, errOut)
		}
		golden(t, "completion."+shell, out)
	}
	if _, _, err := run(t, "completion", "fish"); err == nil {
		t.Error("purse completion fish: no error")
	}
}
