package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/storefiles"
)

// defaultAdminURL is where purse serve's admin listener is unless told otherwise.
const defaultAdminURL = "http://127.0.0.1:8081"

// conn is how an admin command reaches the admin API: the connection flags.
type conn struct {
	adminURL, urlFrom string
	adminToken        string
	tokenFile         string
	db                string
	tlsCA             string
}

func connFlags(fs *flag.FlagSet, e Env) *conn {
	c := &conn{}
	fs.StringVar(&c.adminURL, "admin-url", EnvOr(e, "PURSE_ADMIN_URL", ""),
		"admin API base URL (env PURSE_ADMIN_URL); default: the URL purse serve wrote to DB.admin-url, else "+defaultAdminURL)
	fs.StringVar(&c.adminToken, "admin-token", EnvOr(e, "PURSE_ADMIN_TOKEN", ""),
		"admin token (env PURSE_ADMIN_TOKEN; prefer a file: a flag is visible in the process list); default: read DB.admin-token")
	fs.StringVar(&c.tokenFile, "admin-token-file", EnvOr(e, "PURSE_ADMIN_TOKEN_FILE", ""), "read the admin token from this file (env PURSE_ADMIN_TOKEN_FILE)")
	fs.StringVar(&c.db, "db", EnvOr(e, "PURSE_DB", "purse.db"), "the store purse serve runs on, beside which it keeps DB.admin-token and DB.admin-url (env PURSE_DB)")
	fs.StringVar(&c.tlsCA, "tls-ca", EnvOr(e, "PURSE_TLS_CA", ""), "PEM certificate to trust for an https:// URL (env PURSE_TLS_CA); default: DB.tls.pem when it exists")
	return c
}

// url is the admin API's base URL and where it came from, for an error that
// says which address was tried.
func (c *conn) url() (string, string, error) {
	if c.adminURL != "" {
		return c.adminURL, "--admin-url or PURSE_ADMIN_URL", nil
	}
	u, err := storefiles.ReadAdminURL(c.db)
	if err != nil {
		return "", "", fmt.Errorf("admin URL: %w", err)
	}
	if u != "" {
		return u, "written by purse serve to " + storefiles.AdminURLPath(c.db), nil
	}
	return defaultAdminURL, "the default", nil
}

// httpClient trusts --tls-ca, or the self-signed certificate purse serve wrote
// beside the database, in addition to the system's roots.
func (c *conn) httpClient() (*http.Client, error) {
	ca := c.tlsCA
	if ca == "" {
		if _, err := os.Stat(storefiles.TLSCertPath(c.db)); err == nil {
			ca = storefiles.TLSCertPath(c.db)
		}
	}
	if ca == "" {
		return &http.Client{Timeout: 30 * time.Second}, nil
	}
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--tls-ca: %s holds no PEM certificate", ca)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}, nil
}

// token is the admin token: --admin-token, else --admin-token-file, else the
// token file beside the store.
func (c *conn) token() (string, error) {
	if c.adminToken != "" {
		return c.adminToken, nil
	}
	if c.tokenFile != "" {
		return ReadSecretFile(c.tokenFile, "--admin-token-file", nil)
	}
	path := storefiles.AdminTokenPath(c.db)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no admin token: pass --admin-token-file, set PURSE_ADMIN_TOKEN_FILE or PURSE_ADMIN_TOKEN, or run where %s is readable (--db names the store) (%v)", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *conn) client() (*client.Client, error) {
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	u, from, err := c.url()
	if err != nil {
		return nil, err
	}
	c.adminURL, c.urlFrom = u, from
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	return client.New(u, client.WithAdminToken(tok), client.WithHTTPClient(hc))
}

// explain adds to a refused connection which address was tried, where it came
// from, and how to name another.
func (c *conn) explain(err error) error {
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return fmt.Errorf("nothing answers at %s (%s): is purse serve running? Name its admin listener with --admin-url URL or PURSE_ADMIN_URL, "+
		"or --db for the store it serves (it writes its URL to DB.admin-url): %w", c.adminURL, c.urlFrom, err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
