package infobipapi

import (
	"testing"

	"github.com/purse-ledger/purse/internal/httpkit"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   httpkit.Format
		ok     bool
	}{
		{"", httpkit.JSON, true},
		{"*/*", httpkit.JSON, true},
		{"application/*", httpkit.JSON, true},
		{"application/json", httpkit.JSON, true},
		{"APPLICATION/JSON", httpkit.JSON, true},
		{"application/json; charset=utf-8", httpkit.JSON, true},
		{"application/xml", httpkit.XML, true},
		{"text/xml", httpkit.XML, true},
		{"text/*", httpkit.XML, true},
		{"application/json;q=0.5, application/xml", httpkit.XML, true},
		{"application/xml;q=0.4, */*;q=0.9", httpkit.JSON, true},
		{"application/json;q=0, */*", httpkit.XML, true},
		{"text/html, application/xml;q=0.9", httpkit.XML, true},
		{"text/html", 0, false},
		{"image/png, text/plain", 0, false},
		{"application/json;q=0", 0, false},
		{"garbage", 0, false},
		{"*/json", 0, false},
		{"application/json;q=abc", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			got, ok := negotiate(tt.accept)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("negotiate(%q) = %v, %v; want %v, %v", tt.accept, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestNegotiateFastPath: the headers negotiate answers without parsing get the
// answer parsing them would give.
func TestNegotiateFastPath(t *testing.T) {
	for _, accept := range []string{"", "*/*", "application/json", "application/xml"} {
		f, ok := negotiate(accept)
		pf, pok := negotiateRanges(accept)
		if f != pf || ok != pok {
			t.Errorf("negotiate(%q) = %v, %v; parsing gives %v, %v", accept, f, ok, pf, pok)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/json;q=0.5, application/xml", "text/*;q=0.1", "a/b;q=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got, ok := negotiate(accept)
		if ok && got != httpkit.JSON && got != httpkit.XML {
			t.Fatalf("negotiate(%q) returned unknown format %v", accept, got)
		}
		if pf, pok := negotiateRanges(accept); pf != got || pok != ok {
			t.Fatalf("negotiate(%q) = %v, %v; parsing gives %v, %v", accept, got, ok, pf, pok)
		}
	})
}
