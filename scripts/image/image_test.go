package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The documentation's request and its answer (README, docs/api.md).
const (
	docAuthorization = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
	docBalance       = `{"balance":47.79134,"currency":"EUR"}`
)

// TestImage builds purse's image with ko into a tarball, as the README does,
// checks its config (a non-root user, purse as the entrypoint, the ports, the
// store's volume), then takes the purse binary out of the image's layers and
// runs the documentation's request against it. There is no container runtime
// here: running the image's own binary, with the image's own environment, is
// what proves the image holds a working purse.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is for linux; it cannot run on", runtime.GOOS)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	fetchKo(ctx, t)

	dir := t.TempDir()
	tarball := filepath.Join(dir, "purse.tar")
	var out bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"build", "--push=false", "--tarball=" + tarball, "--platform=linux/" + runtime.GOARCH}, &out, &out)
	if err != nil {
		t.Fatalf("go run ./scripts/image build: %v\n%s", err, out.String())
	}
	t.Logf("ko build: %s", time.Since(start).Round(time.Millisecond))

	img := readImage(t, tarball)
	checkConfig(t, img.config)
	checkFiles(t, img.files)
	bin := filepath.Join(dir, "purse")
	if err := os.WriteFile(bin, img.files["ko-app/purse"].body, 0o755); err != nil {
		t.Fatal(err)
	}
	checkStatic(t, bin)
	addr := startPurse(t, bin, img.config.Config.Env)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/account/1/balance", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", docAuthorization)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != docBalance {
		t.Errorf("GET /account/1/balance: got %d %s, want 200 %s", resp.StatusCode, body, docBalance)
	}
}

// fetchKo builds the pinned ko. Without the module proxy that fails; a developer
// offline is told and the test skips, but CI, which reaches the proxy, fails.
//
// Outside CI, a machine that has never fetched ko skips too (unless
// PURSE_TEST_IMAGE is set): fetching and compiling it takes minutes, which would
// make the README's `go test ./...` on a fresh machine run near its package timeout.
// `go run ./scripts/image fetch` once, and the test runs from then on.
func fetchKo(ctx context.Context, t *testing.T) {
	t.Helper()
	if os.Getenv("CI") == "" && os.Getenv("PURSE_TEST_IMAGE") == "" && !koFetched() {
		t.Skipf("%s is not fetched yet: run `go run ./scripts/image fetch` once (minutes), or set PURSE_TEST_IMAGE=1", ko)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"fetch"}, &out, &out); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("cannot build %s (offline?): %v\n%s", ko, err, out.String())
		}
		t.Fatalf("CI must be able to build %s: %v\n%s", ko, err, out.String())
	}
}

// image is what the test reads of an image tarball: its config and its file
// system, the layers applied in order.
type image struct {
	config configFile
	files  map[string]file // by path, without a leading /
}

type file struct {
	hdr  *tar.Header
	body []byte
}

// readImage reads the tarball ko writes (docker save's format: manifest.json
// naming the config and the gzipped layers).
func readImage(t *testing.T, tarball string) image {
	t.Helper()
	entries := map[string][]byte{}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = b
	}
	var manifests []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifests); err != nil || len(manifests) != 1 {
		t.Fatalf("manifest.json: %v, %d images, want 1", err, len(manifests))
	}
	img := image{files: map[string]file{}}
	if err := json.Unmarshal(entries[manifests[0].Config], &img.config); err != nil {
		t.Fatalf("config %s: %v", manifests[0].Config, err)
	}
	for _, name := range manifests[0].Layers {
		readLayer(t, name, entries[name], img.files)
	}
	return img
}

func readLayer(t *testing.T, name string, layer []byte, files map[string]file) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatalf("layer %s: %v", name, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("layer %s: %v", name, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("layer %s: %v", name, err)
		}
		files[strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+h.Name), "/"), "/")] = file{hdr: h, body: b}
	}
}

// checkConfig: purse runs as a user who is not root, ko's entrypoint is purse
// with no default command (the container's arguments are purse's: serve, or a
// management command), both listeners' ports are exposed, the store is on the
// /data volume, and the environment puts both listeners on the container's
// interfaces.
func checkConfig(t *testing.T, cfg configFile) {
	t.Helper()
	type want struct {
		User         string
		Entrypoint   []string
		Cmd          []string
		ExposedPorts map[string]struct{}
		Volumes      map[string]struct{}
		WorkingDir   string
		Env          []string
	}
	c := cfg.Config
	got := want{c.User, c.Entrypoint, c.Cmd, c.ExposedPorts, c.Volumes, c.WorkingDir, c.Env}
	wantCfg := want{
		User:         "65532:65532",
		Entrypoint:   []string{"/ko-app/purse"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "8081/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		WorkingDir:   "/data",
		Env: []string{"PURSE_DB=/data/purse.db", "PURSE_LISTEN=:8080", "PURSE_ADMIN_LISTEN=:8081",
			"PATH=/ko-app", "KO_DATA_PATH=/var/run/ko"},
	}
	if diff := cmp.Diff(got, wantCfg); diff != "" {
		t.Errorf("image config (-got +want):\n%s", diff)
	}
	uid, _, _ := strings.Cut(got.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("image user %q: want a numeric uid other than 0 (a name would need /etc/passwd; Kubernetes' runAsNonRoot checks a number)", got.User)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("image platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
}

// checkFiles: the store's directory belongs to purse's user and to no one else
// (purse warns about a store others can read), the user exists in /etc/passwd,
// /tmp is writable, and the binary is where the entrypoint says.
func checkFiles(t *testing.T, files map[string]file) {
	t.Helper()
	tests := []struct {
		path     string
		uid      int
		mode     os.FileMode
		contains string
	}{
		{path: "data", uid: nonrootUID, mode: os.ModeDir | 0o700},
		{path: "tmp", uid: 0, mode: os.ModeDir | os.ModeSticky | 0o777},
		{path: "etc/passwd", uid: 0, mode: 0o644, contains: "nonroot:x:65532:65532:"},
		{path: "ko-app/purse", uid: 0, mode: 0o555},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, ok := files[tt.path]
			if !ok {
				t.Fatalf("/%s is not in the image", tt.path)
			}
			got := struct {
				UID  int
				Mode os.FileMode
			}{f.hdr.Uid, f.hdr.FileInfo().Mode()}
			want := struct {
				UID  int
				Mode os.FileMode
			}{tt.uid, tt.mode}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("/%s (-got +want):\n%s", tt.path, diff)
			}
			if !bytes.Contains(f.body, []byte(tt.contains)) {
				t.Errorf("/%s: got %q, want it to contain %q", tt.path, f.body, tt.contains)
			}
		})
	}
}

// checkStatic: the image has no C library, so the binary must need none: no
// program interpreter and no shared libraries.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: it is not static", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v: it is not static", bin, libs)
	}
}

// startPurse runs the image's binary as the image would, purse serve --demo with
// the image's environment, but with the store in a temp directory and the
// listeners on loopback ports of its own choosing; it returns the public
// listener's address, read from purse's "purse serving" log line.
func startPurse(t *testing.T, bin string, imageEnv []string) string {
	t.Helper()
	store := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(store, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--demo", "--db", filepath.Join(store, "purse.db"),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	cmd.Env = append(imageEnv, "HOME="+store)
	cmd.Dir = store
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A purse that already stopped has said why in the test's failure.
		signalled := cmd.Process.Signal(syscall.SIGTERM) == nil
		if err := cmd.Wait(); err != nil && signalled {
			t.Errorf("purse serve after SIGTERM: %v", err)
		}
	})
	// The reader reports the address, or everything purse logged before it
	// stopped; it never logs itself, so it cannot outlive the test's t.
	type started struct{ addr, log string }
	ready := make(chan started, 1)
	go func() {
		var log strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Public string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "purse serving" {
				ready <- started{addr: line.Public}
				io.Copy(io.Discard, stderr) // drain, so purse never blocks on its log
				return
			}
			log.WriteString(sc.Text() + "\n")
		}
		ready <- started{log: log.String()}
	}()
	select {
	case s := <-ready:
		if s.addr == "" {
			t.Fatalf("purse serve stopped before it served; its log:\n%s", s.log)
		}
		return s.addr
	case <-time.After(30 * time.Second):
		t.Fatal("purse serve did not log \"purse serving\" within 30 s")
	}
	return ""
}

// TestBaseReproducible: the same inputs give the same base, byte for byte, so
// the same commit gives the same image wherever it is built; and the layout
// lists every manifest ko looks up by digest: the index and each platform's
// image.
func TestBaseReproducible(t *testing.T) {
	var digests []string
	for range 2 {
		dir := t.TempDir()
		d, err := writeBase(dir, []byte("a CA bundle\n"))
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
		b, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		var index manifest
		if err := json.Unmarshal(b, &index); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range index.Manifests {
			got = append(got, m.MediaType)
		}
		want := []string{mediaManifest, mediaManifest, mediaIndex}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("index.json's manifests (-got +want):\n%s", diff)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two bases from the same inputs: %s and %s", digests[0], digests[1])
	}
}

// koFetched reports whether the pinned ko's module is in the module cache, that is
// whether this machine has fetched it before.
func koFetched() bool {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return false
	}
	mod, version, _ := strings.Cut(ko, "@")
	mod = strings.TrimSuffix(mod, "/cmd/ko")
	_, err = os.Stat(filepath.Join(strings.TrimSpace(string(out)), mod+"@"+version))
	return err == nil
}
