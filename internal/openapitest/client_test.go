package openapitest

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/docs/openapi"
	"github.com/purse-ledger/purse/internal/testkit"
)

// npmPackages are the generator, its fetch client and the compiler, pinned so a
// run is repeatable and the install can be cached.
var npmPackages = []string{"openapi-typescript@7.13.0", "openapi-fetch@0.17.0", "typescript@5.9.3"}

// program reads a balance through openapi-fetch, typed by the generated paths. The
// annotations make tsc check the document's types: a balance the document typed
// as anything but a number would not compile.
const program = `import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

// node's own, declared here rather than installing @types/node.
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

// The public routes answer JSON or XML; this client reads JSON.
const client = createClient<paths, "application/json">({ baseUrl: process.env.PURSE_URL });
const auth = { headers: { Authorization: process.env.PURSE_AUTH ?? "" } };

const { data, error, response } = await client.GET("/account/1/balance", auth);
if (error !== undefined || data === undefined) {
  console.error("balance:", response.status, JSON.stringify(error));
  process.exit(1);
}
const balance: number = data.balance;
const currency: string = data.currency;

const total = await client.GET("/account/1/total-balance", auth);
if (total.data === undefined) {
  console.error("total-balance:", total.response.status, JSON.stringify(total.error));
  process.exit(1);
}
const free: number | undefined = total.data.freeMessages.SMS;
const code: string = total.data.currency.code;

const denied = await client.GET("/account/1/balance", { headers: { Authorization: "App wrong" } });
const messageId: string | undefined = denied.error?.requestError.serviceException.messageId;

console.log("balance " + balance + " " + currency + "; free " + free + " " + code + "; wrong key " + denied.response.status + " " + messageId);
`

// TestGeneratedTypeScriptClient generates a TypeScript client from the public
// document, type-checks a program using it with tsc and runs it with node against
// a purse on loopback: the document is good enough for a mainstream generator, and
// the client it yields reads a balance. Without node it skips, unless CI=true.
func TestGeneratedTypeScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required in CI (.ci/run installs them): %v", err)
		}
		t.Skipf("node or npm not installed: %v", err)
	}
	modules := installTools(t)

	work := t.TempDir()
	write(t, filepath.Join(work, "public.json"), string(openapi.Public))
	write(t, filepath.Join(work, "package.json"), `{"type":"module","private":true}`)
	write(t, filepath.Join(work, "tsconfig.json"), `{"compilerOptions":{"target":"es2022","module":"nodenext","moduleResolution":"nodenext","strict":true,"noUncheckedIndexedAccess":true,"skipLibCheck":true,"outDir":"out"},"files":["main.ts"]}`)
	write(t, filepath.Join(work, "main.ts"), program)
	if err := os.Symlink(modules, filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	run(t, work, nil, node, filepath.Join(modules, "openapi-typescript", "bin", "cli.js"), "public.json", "--output", "schema.d.ts")
	run(t, work, nil, node, filepath.Join(modules, "typescript", "bin", "tsc"), "-p", ".")

	s := testkit.New(t)
	acc := s.CreateAccount("Generated", "EUR")
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/users", `{"username":"generated","password":"password1"}`, nil)
	s.MustAdmin(201, "POST", "/v1/accounts/"+acc+"/top-ups", `{"amount":"47.79134"}`, testkit.Key("gen-1"))
	s.MustAdmin(200, "PATCH", "/v1/accounts/"+acc, `{"freeMessages":3}`, nil)
	env := []string{"PURSE_URL=" + s.Public.URL,
		"PURSE_AUTH=Basic " + base64.StdEncoding.EncodeToString([]byte("generated:password1"))}
	got := strings.TrimSpace(run(t, work, env, node, filepath.Join("out", "main.js")))
	want := "balance 47.79134 EUR; free 3 EUR; wrong key 401 UNAUTHORIZED"
	if got != want {
		t.Errorf("the generated client printed %q, want %q", got, want)
	}
}

// installTools installs npmPackages once per machine, in the user's cache
// directory (a directory per set of versions), and returns its node_modules. An
// install goes to a temporary directory renamed into place, so two test binaries
// installing at once cannot leave half an install behind.
func installTools(t *testing.T) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "purse-openapitest", strings.NewReplacer("@", "-", "/", "-").Replace(strings.Join(npmPackages, "_")))
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "openapi-fetch", "package.json")); err == nil {
		return modules
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	write(t, filepath.Join(tmp, "package.json"), `{"private":true}`)
	run(t, tmp, nil, "npm", append([]string{"install", "--no-audit", "--no-fund", "--loglevel=error"}, npmPackages...)...)
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(modules); statErr != nil {
			t.Fatalf("install npm packages: %v", err)
		}
		// Another test binary installed them first.
	}
	return modules
}

// run runs a command in dir and returns its output, failing the test (with the
// output) when it fails or takes more than five minutes.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) || ctx.Err() != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		t.Fatal(err)
	}
	return string(out)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
