package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/sqlite"
	"github.com/purse-ledger/purse/internal/storefiles"
)

// openStore opens PostgreSQL for a postgres:// URL and the SQLite file otherwise,
// unless Config.Store is an open one. This is the one place that names a concrete
// store: past it, the App holds a ledger.Store.
func (a *App) openStore(ctx context.Context) error {
	if a.cfg.Store != nil {
		a.store = a.cfg.Store
		return nil
	}
	if postgres.IsURL(a.cfg.DB) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		pg, err := postgres.Open(ctx, a.cfg.DB)
		if err != nil {
			return err
		}
		a.store, a.ownStore = pg, true
		return nil
	}
	var opts []sqlite.Option
	if a.cfg.IdempotencyWindow > 0 {
		opts = append(opts, sqlite.WithIdempotencyWindow(a.cfg.IdempotencyWindow))
	}
	if a.cfg.CreateDir {
		opts = append(opts, sqlite.CreateDir())
	}
	st, err := sqlite.Open(ctx, a.cfg.DB, opts...)
	switch {
	case errors.Is(err, sqlite.ErrLocked):
		return fmt.Errorf("%w; stop the other purse serve first", err)
	case errors.Is(err, sqlite.ErrNoDirectory):
		return fmt.Errorf("%w; create it, or give purse serve --create", err)
	case err != nil:
		return err
	}
	a.store, a.ownStore = st, true
	for _, problem := range st.Exposed() {
		a.log.Warn("store files are open to other local users: they hold password hashes and the ledger", "problem", problem)
	}
	return nil
}

// loadTLS loads Config.TLSCert and TLSKey, or makes the self-signed certificate;
// nil means plain HTTP. (purse serve refuses the combinations that make no sense
// before it gets here.)
func (a *App) loadTLS() (*tls.Config, error) {
	switch {
	case a.cfg.TLSSelfSigned:
		path := storefiles.TLSCertPath(a.cfg.DB)
		cert, fingerprint, err := httpkit.SelfSigned(path, strings.TrimSuffix(path, ".pem")+".key")
		if err != nil {
			return nil, err
		}
		a.log.Info("self-signed TLS certificate for localhost", "file", path, "sha256", fingerprint)
		return httpkit.TLSConfig(cert), nil
	case a.cfg.TLSCert != "" || a.cfg.TLSKey != "":
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		return httpkit.TLSConfig(cert), nil
	}
	return nil, nil
}

// StoreName is a --db value fit for a log line or a page: a URL without its
// password, in the user part or in the query.
func StoreName(db string) string {
	if !postgres.IsURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
