package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/purse-ledger/purse/"

// graphCommand prints the module's import graph trimmed to its own packages: one
// line per package, "pkg -> the module packages it imports". docs/design.md shows
// its output under the same command.
const graphCommand = `go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./... |
  awk -v m=` + module + ` '{ s = substr($1, length(m) + 1) " ->"
    for (i = 2; i <= NF; i++) if (index($i, m) == 1) s = s " " substr($i, length(m) + 1)
    print s }'`

// pkg is one package of the module as go list reports it, paths trimmed of the
// module prefix and limited to the module's own packages.
type pkg struct {
	path    string
	imports []string // direct imports
	deps    []string // every package it depends on, directly or not
}

// arrow is a rule of the layout: a package (or every package under a prefix) that
// must not depend, directly or through another package, on what forbidden names.
type arrow struct {
	rule      string
	from      []string
	forbidden func(dep string) bool
}

func under(prefixes ...string) func(string) bool {
	return func(dep string) bool {
		for _, p := range prefixes {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				return true
			}
		}
		return false
	}
}

func anything(string) bool { return true }

// arrows are the rules docs/design.md states. They are on production imports,
// direct or transitive; tests may wire more (an API package's tests run against a
// real SQLite file).
var arrows = []arrow{
	{"no API package imports a store", []string{"internal/adminapi", "internal/infobipapi", "internal/console"}, under("internal/store")},
	{"the engine imports no store", []string{"internal/engine"}, under("internal/store")},
	{"ledger imports nothing internal", []string{"internal/ledger"}, anything},
	{"storetest imports no API package (it depends on ledger, engine and the stores only)", []string{"internal/store/storetest"},
		under("internal/adminapi", "internal/infobipapi", "internal/httpkit", "internal/auth", "internal/testkit", "internal/app")},
	{"client imports nothing internal", []string{"client"}, under("internal")},
	{"a store imports the domain, codec and rowsum only", []string{"internal/store/sqlite", "internal/store/postgres"},
		func(dep string) bool {
			return !slices.Contains([]string{"internal/ledger", "internal/codec", "internal/store/rowsum"}, dep)
		}},
}

// TestImportArrows: no package depends on what the layout forbids it.
func TestImportArrows(t *testing.T) {
	pkgs := goList(t)
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.path] = p
	}
	for _, a := range arrows {
		for _, from := range a.from {
			p, ok := byPath[from]
			if !ok {
				t.Errorf("%s: no package %s in the module; update the rule", a.rule, from)
				continue
			}
			for _, dep := range p.deps {
				if a.forbidden(dep) {
					t.Errorf("%s imports %s%s, but %s", from, dep, via(p, dep, byPath), a.rule)
				}
			}
		}
	}
}

// via names the direct import through which p reaches dep, when it is not direct.
func via(p pkg, dep string, byPath map[string]pkg) string {
	if slices.Contains(p.imports, dep) {
		return ""
	}
	for _, d := range p.imports {
		if slices.Contains(byPath[d].deps, dep) {
			return " (through " + d + ")"
		}
	}
	return ""
}

// TestImportGraphDocumented: the graph in docs/design.md is the one go list
// reports, so the picture a newcomer reads is the code's.
func TestImportGraphDocumented(t *testing.T) {
	var want []string
	for _, p := range goList(t) {
		want = append(want, strings.TrimSpace(p.path+" -> "+strings.Join(p.imports, " ")))
	}
	got := documentedGraph(t, filepath.Join(moduleRoot(t), "docs", "design.md"))
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("docs/design.md's import graph is not go list's (-doc +go list); regenerate it with\n%s\n%s", graphCommand, diff)
	}
}

// documentedGraph reads the fenced block that follows the fenced command (whose
// first line is graphCommand's) in the design notes.
func documentedGraph(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(graphCommand, "\n")
	_, after, ok := bytes.Cut(b, []byte(first))
	if !ok {
		t.Fatalf("%s does not show the command %q", path, first)
	}
	// Fences after the command's first line: the command's closing one, then the
	// graph's opening and closing ones.
	var lines []string
	fences := 0
	sc := bufio.NewScanner(bytes.NewReader(after))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			fences++
			if fences == 3 {
				return lines
			}
		case fences == 2:
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	t.Fatalf("%s: no fenced block of the graph after the command", path)
	return nil
}

// goList reports the module's packages, trimmed to the module's own imports.
func goList(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkgs = append(pkgs, pkg{path: strings.TrimPrefix(f[0], module), imports: own(f[1]), deps: own(f[2])})
	}
	return pkgs
}

func own(list string) []string {
	var ps []string
	for _, p := range strings.Fields(list) {
		if strings.HasPrefix(p, module) {
			ps = append(ps, strings.TrimPrefix(p, module))
		}
	}
	return ps
}
