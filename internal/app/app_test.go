package app_test

import (
	"bufio"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestTestsRunWhatUsersRun: the purse a test gets from testkit is the one purse
// serve runs, with its edge, instrumentation, limits and metrics. testkit used to
// wire a second stack without them: no /metrics, no security headers, no Host
// check on the admin listener, and net/http's own errors in plain text.
func TestTestsRunWhatUsersRun(t *testing.T) {
	s := testkit.New(t)
	acc := s.CreateAccount("Seen", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"1"}`, testkit.Key("k"))

	metrics := testkit.Do(t, "GET", s.Admin.URL+"/metrics", nil, nil)
	if metrics.Status != 200 || !strings.Contains(string(metrics.Body), `purse_http_requests_total{listener="admin",route="POST /v1/accounts/{id}/top-ups",status="201"} 1`) ||
		!strings.Contains(string(metrics.Body), "purse_engine_batch_size_count") {
		t.Errorf("GET /metrics: %d, want 200 with the request and engine metrics:\n%.2000s", metrics.Status, metrics.Body)
	}

	balance := testkit.Do(t, "GET", s.Public.URL+"/account/1/balance", nil, nil)
	if got, want := balance.Header.Get("X-Content-Type-Options"), "nosniff"; got != want {
		t.Errorf("public answer's X-Content-Type-Options = %q, want %q (the edge's security headers)", got, want)
	}

	req, err := http.NewRequest("GET", s.Admin.URL+"/v1/accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example" // a page that rebound its own name to the admin address
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	rebound, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rebound.Body.Close()
	if got, want := rebound.StatusCode, http.StatusMisdirectedRequest; got != want {
		t.Errorf("admin request for Host evil.example: %d, want %d", got, want)
	}

	status, body := raw(t, strings.TrimPrefix(s.Public.URL, "http://"), "GARBAGE\r\n\r\n")
	if status != 400 || !strings.Contains(body, `"requestError"`) {
		t.Errorf("a malformed request line: %d %q, want 400 in the requestError envelope", status, body)
	}
}

// raw sends request bytes to addr and reads one response.
func raw(t *testing.T, addr, request string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOneWiring: one place builds the engine, the authenticator, the auditor and
// the HTTP surfaces together, internal/app. Outside it, only tests of the engine
// and the stores open an engine of their own (they test those, not the app): the
// _test files, and storetest, the contract suite the stores' tests run.
func TestOneWiring(t *testing.T) {
	builders := regexp.MustCompile(`\b(engine\.Open|auth\.New|audit\.New|infobipapi\.New|adminapi\.New)\(`)
	var got []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "../.." || d.Name() == "testdata" || d.Name() == "storetest") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if builders.Match(b) {
			got = append(got, filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../../"))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = slices.Compact(got)
	if diff := cmp.Diff(got, []string{"internal/app"}); diff != "" {
		t.Errorf("packages that build the engine, authenticator, auditor or an HTTP surface (-got +want):\n%s", diff)
	}
}

// TestCheapHashesOnlyInTests: Config.CheapPasswordHashes makes password hashes
// worthless, for pursetest's throwaway stores. No production package but pursetest
// (and the two that carry the field, auth and app) names it, so purse serve, the
// commands and bench hash at OWASP's cost.
func TestCheapHashesOnlyInTests(t *testing.T) {
	var got []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "CheapPasswordHashes") {
			got = append(got, filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../../"))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = slices.Compact(got)
	if diff := cmp.Diff(got, []string{"internal/app", "internal/auth", "pursetest"}); diff != "" {
		t.Errorf("packages that name CheapPasswordHashes (-got +want):\n%s", diff)
	}
}
