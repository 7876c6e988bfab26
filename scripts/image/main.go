// Command image builds purse's container image with ko, without a Docker daemon
// and without pulling a base image from a registry.
//
//	go run ./scripts/image fetch                 # download and build the pinned ko
//	go run ./scripts/image build [ko flags...]   # ko build ./cmd/purse with purse's base
//
// ko puts a Go binary on a base image; its default base comes from a registry.
// purse's base is written here instead (base.go): a few files around a static
// binary (a non-root user, /tmp, the store directory /data) and the config
// that makes purse serve fit a container (the store on the /data volume, both
// listeners on the container's interfaces, ports 8080 and 8081). It goes into a
// fresh KOCACHE where ko finds it by digest, so a build needs only the Go module
// proxy. The build flags are ko's own: --push=false --tarball=purse.tar writes a
// tarball for docker load, KO_DOCKER_REPO=ko.local loads into a local daemon,
// and KO_DOCKER_REPO=registry/name pushes. .ko.yaml holds the Go build flags.
//
// ko sets the entrypoint, /ko-app/purse, and never a default command: the
// container's arguments are purse's (serve, or a management command).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

// ko is the pinned ko, run from the Go module proxy with go run.
const ko = "github.com/google/ko@v0.19.1"

// baseName names the base image for ko; ko only ever finds it by its digest in
// the cache, so the name is never resolved. .invalid cannot be a registry.
const baseName = "purse-base.invalid/static"

// defaultCABundle is Debian's (and most distributions') CA bundle, copied into
// the image when it exists; PURSE_IMAGE_CA_BUNDLE names another, or "none".
const defaultCABundle = "/etc/ssl/certs/ca-certificates.crt"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		stop()
		os.Exit(1)
	}
}

// run runs one subcommand with ko's output on stdout and stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: go run ./scripts/image fetch | build [ko build flags...]")
	}
	switch args[0] {
	case "fetch":
		return goRunKo(ctx, nil, stdout, stderr, "version")
	case "build":
		return build(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown subcommand %q: want fetch or build", args[0])
}

// build writes the base into a fresh KOCACHE and runs ko build ./cmd/purse from
// the module's root with flags appended. --bare makes KO_DOCKER_REPO the image's
// whole name ("purse" when unset, for a tarball).
func build(ctx context.Context, flags []string, stdout, stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ca, err := caBundle(os.Getenv("PURSE_IMAGE_CA_BUNDLE"))
	if err != nil {
		return err
	}
	cache, err := os.MkdirTemp("", "purse-kocache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	digest, err := writeBase(filepath.Join(cache, "img"), ca)
	if err != nil {
		return fmt.Errorf("writing the base image: %w", err)
	}
	env := []string{"KOCACHE=" + cache, "KO_DEFAULTBASEIMAGE=" + baseName + "@" + digest}
	if os.Getenv("KO_DOCKER_REPO") == "" {
		env = append(env, "KO_DOCKER_REPO=purse")
	}
	args := append([]string{"build", "--bare", "./cmd/purse"}, flags...)
	cmd := koCommand(ctx, env, stdout, stderr, args...)
	cmd.Dir = root
	return cmd.Run()
}

// caBundle reads the CA bundle the image carries: name, else the default when
// it exists; "none" leaves it out.
func caBundle(name string) ([]byte, error) {
	switch name {
	case "none":
		return nil, nil
	case "":
		b, err := os.ReadFile(defaultCABundle)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing (apt-get install ca-certificates); "+
				"set PURSE_IMAGE_CA_BUNDLE to another bundle, or to none for an image that trusts no TLS server", defaultCABundle)
		}
		return b, err
	}
	return os.ReadFile(name)
}

func goRunKo(ctx context.Context, env []string, stdout, stderr io.Writer, args ...string) error {
	return koCommand(ctx, env, stdout, stderr, args...).Run()
}

// koCommand is go run of the pinned ko: go run with a version builds ko as its
// own module, whatever purse's go.mod says, and keeps the binary in the build
// cache, so only the first run downloads and compiles it.
func koCommand(ctx context.Context, env []string, stdout, stderr io.Writer, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", ko}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd
}

// moduleRoot is the directory of purse's go.mod, as go reports it.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run this from inside purse's module")
	}
	return filepath.Dir(gomod), nil
}
