// Package storefiles names the files purse serve keeps beside its store, where
// the command line looks for them: the admin token, the admin listener's
// address and the self-signed TLS certificate. For an SQLite store they sit next
// to the database file (purse.db.admin-token); for a PostgreSQL URL, which has no
// directory, in the working directory (purse-admin-token).
package storefiles

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/purse-ledger/purse/internal/store/postgres"
)

// AdminTokenPath is where serve keeps the generated admin token.
func AdminTokenPath(db string) string { return beside(db, ".admin-token", "purse-admin-token") }

// AdminURLPath is where serve writes its admin listener's base URL while it runs,
// so that a command finds a server started on another port without --admin-url.
func AdminURLPath(db string) string { return beside(db, ".admin-url", "purse-admin-url") }

// TLSCertPath is where --tls-self-signed writes its certificate.
func TLSCertPath(db string) string { return beside(db, ".tls.pem", "purse-tls.pem") }

// beside is db+suffix for a database file, and name for a PostgreSQL URL.
func beside(db, suffix, name string) string {
	if postgres.IsURL(db) {
		return name
	}
	return db + suffix
}

// AdminURL is the base URL a command on this machine reaches a listener on addr
// with: an address that listens on every interface (":8081", "[::]:8081") is
// reached on the loopback address.
func AdminURL(addr net.Addr, https bool) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// WriteAdminURL writes url to the admin-url file of db, mode 0600 (replacing a
// file a server that did not stop cleanly left behind), and returns the function
// that removes it at a clean shutdown; that leaves alone a file another node has
// since written in its place.
func WriteAdminURL(db, url string) (remove func(), err error) {
	path := AdminURLPath(db)
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("admin URL file: %w", err)
	}
	_, err = f.WriteString(url + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("admin URL file: %w", err)
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == url {
			os.Remove(path)
		}
	}, nil
}

// ReadAdminURL is the URL in the admin-url file of db; "" when there is none.
func ReadAdminURL(db string) (string, error) {
	b, err := os.ReadFile(AdminURLPath(db))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
