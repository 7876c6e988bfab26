package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSSelfSigned serves the demo over HTTPS with a self-signed certificate and
// sends the documentation's request to it, trusting the certificate purse wrote.
func TestTLSSelfSigned(t *testing.T) {
	db := filepath.Join(t.TempDir(), "purse.db")
	s := startServe(t, db, "--demo", "--tls-self-signed")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(mustRead(t, db+".tls.pem"))) {
		t.Fatal("no certificate in DB.tls.pem")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	public := strings.Replace(s.public, "http://", "https://", 1)
	req, _ := http.NewRequest("GET", public+"/account/1/balance", nil)
	req.Header.Set("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"balance":47.79134,"currency":"EUR"}` || resp.TLS == nil {
		t.Errorf("HTTPS: %d %s", resp.StatusCode, body)
	}
	// Plain HTTP to the TLS port is refused.
	if r, err := http.Get(s.public + "/account/1/balance"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS listener: %d", r.StatusCode)
		}
	}
	// An untrusting client is refused too.
	if _, err := http.Get(public + "/account/1/balance"); err == nil {
		t.Error("a client without the certificate connected")
	}
	// The purse command trusts DB.tls.pem by itself.
	s.admin = strings.Replace(s.admin, "http://", "https://", 1)
	if out := mustCLI(t, s, "balance", "acc_demo"); out != "47.79134 EUR\n" {
		t.Errorf("purse balance over HTTPS: %q", out)
	}
	if out := mustCLI(t, s, "balance", "--url", public, "--username", "Aladdin", "--password", "open sesame"); out != "47.79134 EUR\n" {
		t.Errorf("purse balance --url over HTTPS: %q", out)
	}
	// A restart keeps the certificate: a client that trusted it keeps working.
	before := mustRead(t, db+".tls.pem")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s2 := startServe(t, db, "--tls-self-signed")
	if after := mustRead(t, db+".tls.pem"); after != before {
		t.Error("the self-signed certificate changed across a restart")
	}
	req, _ = http.NewRequest("GET", strings.Replace(s2.public, "http://", "https://", 1)+"/account/1/balance", nil)
	req.Header.Set("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatalf("the trusted certificate after a restart: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after restart: %d", resp.StatusCode)
	}
}
