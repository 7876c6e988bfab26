// Package pursetest starts a real purse inside a Go test, for testing code that
// speaks Infobip's account API (or purse's admin API) without a network, a
// container or a mock that forgets what it was told:
//
//	srv := pursetest.New(t)
//	acc := srv.Account(t, pursetest.AccountSpec{Balance: "47.79134", Username: "Aladdin", Password: "open sesame"})
//	balance, err := yourpkg.ReadBalance(srv.PublicURL, acc.Username, acc.Password) // {"balance":47.79134,"currency":"EUR"}
//
// The purse is the one purse serve runs (internal/app: the same routes, ledger,
// authentication, limits and error envelope), on its embedded SQLite store in
// t.TempDir(), serving the public (Infobip) API and the admin API on two random
// loopback ports. It keeps state for the test's length: a charge made through the
// admin client shows in the next balance the code under test reads. t.Cleanup
// stops it and the temp directory goes with the test. Servers started by one test
// or by parallel tests are independent of each other.
//
// Where it differs from purse serve, on purpose, so that a start takes a few
// milliseconds (BENCHMARKS.md, "pursetest start-up"):
//
//   - Passwords are hashed with argon2id's cheapest parameters (t=1, 8 KiB) rather
//     than OWASP's (t=2, 19 MiB), which take tens of milliseconds a hash and a
//     first login. Login answers are the same; only the hash is weak, which does
//     not matter for a store that is deleted with the test. Never copy a pursetest
//     store into production.
//   - The store starts as a copy of an empty store migrated once per test binary,
//     instead of running the schema's migrations (a dozen fsyncs) every time.
//
// Everything else is purse serve's, the failed-login limits too: a username given
// a wrong password ten times is answered 429 with Retry-After, as in production.
//
// An Example has no *testing.T: Start and Close do what New and t.Cleanup do.
package pursetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/app"
)

// Server is a purse running in this process.
type Server struct {
	// PublicURL is the base URL of Infobip's API ("http://127.0.0.1:PORT"): point
	// the code under test at it where it would use https://xxxxx.api.infobip.com.
	PublicURL string
	// AdminURL is the base URL of purse's admin API.
	AdminURL string
	// AdminToken is the admin API's bearer token, random for each Server.
	AdminToken string
	// Admin is a client of the admin API with AdminToken: accounts, top-ups,
	// charges, holds, users, keys (see the client package).
	Admin *client.Client
	// DB is the SQLite store's path, for purse check --db after Close.
	DB string

	app       *app.App
	removeDir string // the directory Close removes: Start's own; "" for New's t.TempDir()
	closeOnce sync.Once
	closeErr  error
	accounts  int // numbers the accounts an AccountSpec leaves unnamed
	mu        sync.Mutex
}

// Option changes how a Server starts.
type Option func(*options)

type options struct {
	now     func() time.Time
	log     *slog.Logger
	testLog bool
	demo    bool
}

// WithClock gives purse a clock instead of time.Now: hold expiry, the monthly
// limit's month, IBSSO session idleness and the failed-login limits all read it
// (see Clock). Idle holds are checked for expiry every 50 ms of real time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sends purse's log (one line per request, and start and stop) to l;
// by default it is discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTestLog sends purse's log to the test's output, shown when the test fails
// or with go test -v; a Server from Start (no test) writes it to stderr.
func WithTestLog() Option { return func(o *options) { o.testLog = true } }

// WithDemo seeds Infobip's documented example account, as purse serve --demo does:
// user Aladdin, password "open sesame", 47.79134 EUR, so the documentation's
// snippets run unchanged. Its username is then taken.
func WithDemo() Option { return func(o *options) { o.demo = true } }

// New starts a purse for the test t, with its store in t.TempDir(), and stops it
// in t.Cleanup. It fails the test if purse does not start.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := collect(opts)
	if o.testLog && o.log == nil {
		o.log = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	s, err := start(t.TempDir(), false, o)
	if err != nil {
		t.Fatalf("pursetest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pursetest: close: %v", err)
		}
	})
	return s
}

// Start starts a purse with its store in a new temporary directory, for an
// Example or a TestMain; Close stops it and removes the directory.
func Start(opts ...Option) (*Server, error) {
	o := collect(opts)
	if o.testLog && o.log == nil {
		o.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	dir, err := os.MkdirTemp("", "pursetest-")
	if err != nil {
		return nil, fmt.Errorf("pursetest: %w", err)
	}
	s, err := start(dir, true, o)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pursetest: %w", err)
	}
	return s, nil
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// start runs purse on a store in a directory of its own under dir, of mode 0700 as
// purse asks of a store's directory (t.TempDir's are 0755).
func start(dir string, removeDir bool, o options) (*Server, error) {
	db := filepath.Join(dir, "purse", "purse.db")
	if err := os.Mkdir(filepath.Dir(db), 0o700); err != nil {
		return nil, err
	}
	if err := copyTemplate(db); err != nil {
		return nil, err
	}
	token, secret := random(32), random(32)
	log := o.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, err := app.New(context.Background(), app.Config{
		DB: db, Log: log, AdminToken: hex.EncodeToString(token), OAuthSecret: secret,
		Now: o.now, Demo: o.demo, CheapPasswordHashes: true,
	})
	if err != nil {
		return nil, err
	}
	public, admin, err := listen()
	if err == nil {
		err = a.Start(public, admin)
	}
	if err != nil {
		if public != nil {
			public.Close()
			admin.Close()
		}
		return nil, errors.Join(err, a.Close())
	}
	s := &Server{
		PublicURL: "http://" + public.Addr().String(), AdminURL: "http://" + admin.Addr().String(),
		AdminToken: hex.EncodeToString(token), DB: db, app: a,
	}
	if removeDir {
		s.removeDir = dir
	}
	if s.Admin, err = client.New(s.AdminURL, client.WithAdminToken(s.AdminToken)); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// listen opens the two loopback listeners on free ports.
func listen() (public, admin net.Listener, err error) {
	if public, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	if admin, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		public.Close()
		return nil, nil, err
	}
	return public, admin, nil
}

// random returns n random bytes.
func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return b
}

// Close stops purse (letting requests in flight finish) and closes its store; a
// Server from Start also removes its directory. Calling it twice is fine.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.app.Close()
		if s.removeDir != "" {
			if err := os.RemoveAll(s.removeDir); err != nil {
				s.closeErr = errors.Join(s.closeErr, err)
			}
		}
	})
	return s.closeErr
}
