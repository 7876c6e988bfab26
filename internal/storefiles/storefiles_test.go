package storefiles

import (
	"net"
	"testing"
)

// TestAdminURL: a listener on every interface is reached on loopback; a named
// address as it is.
func TestAdminURL(t *testing.T) {
	tests := []struct {
		addr  string
		https bool
		want  string
	}{
		{"127.0.0.1:8081", false, "http://127.0.0.1:8081"},
		{"0.0.0.0:9000", false, "http://127.0.0.1:9000"},
		{"[::]:9000", true, "https://[::1]:9000"},
		{"192.0.2.7:8081", true, "https://192.0.2.7:8081"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := AdminURL(a, tt.https); got != tt.want {
				t.Errorf("AdminURL(%s) = %s, want %s", tt.addr, got, tt.want)
			}
		})
	}
}

// TestPaths: beside an SQLite file, in the working directory for a URL.
func TestPaths(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{AdminTokenPath("/d/purse.db"), "/d/purse.db.admin-token"},
		{AdminURLPath("/d/purse.db"), "/d/purse.db.admin-url"},
		{TLSCertPath("/d/purse.db"), "/d/purse.db.tls.pem"},
		{AdminTokenPath("postgres://h/db"), "purse-admin-token"},
		{TLSCertPath("postgres://h/db"), "purse-tls.pem"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
