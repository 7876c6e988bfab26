package storetest_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestContractImports: the store contract is declared in ledger, so imports point
// one way (api packages -> engine -> ledger <- store): the stores import the domain
// only, the engine no store, and this suite, which proves both stores keep the
// contract, nothing but the contract, the engine and the stores under test.
func TestContractImports(t *testing.T) {
	const mod = "github.com/purse-ledger/purse/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, mod+"internal/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, mod) {
				imports[strings.TrimPrefix(pkg, mod)] = append(imports[strings.TrimPrefix(pkg, mod)], strings.TrimPrefix(d, mod))
			}
		}
	}
	allowed := map[string][]string{
		"internal/ledger":          {},
		"internal/engine":          {"internal/codec", "internal/ledger"},
		"internal/store/sqlite":    {"internal/codec", "internal/ledger"},
		"internal/store/postgres":  {"internal/codec", "internal/ledger", "internal/store/rowsum"},
		"internal/store/storetest": {"internal/engine", "internal/ledger", "internal/store/postgres", "internal/store/sqlite"},
	}
	for _, pkg := range slices.Sorted(maps.Keys(allowed)) {
		for _, d := range imports[pkg] {
			if !slices.Contains(allowed[pkg], d) {
				t.Errorf("%s imports %s; it may import only %v", pkg, d, allowed[pkg])
			}
		}
	}
}
