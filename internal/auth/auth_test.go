package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("open sesame")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if ok, err := VerifyPassword(h, "open sesame"); err != nil || !ok {
		t.Errorf("right password: ok=%v err=%v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "open sesamE"); ok {
		t.Error("wrong password accepted")
	}
	if _, err := VerifyPassword("$argon2id$v=19$m=0,t=1,p=1$AA$AA", "x"); err == nil {
		t.Error("malformed hash accepted")
	}
}

// TestPasswordCost: an Authenticator hashes new passwords, and the dummy that
// unknown users are verified against, at OWASP's cost unless CheapPasswordHashes
// (pursetest's throwaway stores) asks for argon2id's cheapest; both verify.
func TestPasswordCost(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"default", Options{}, "$argon2id$v=19$m=19456,t=2,p=1$"},
		{"cheap", Options{CheapPasswordHashes: true}, "$argon2id$v=19$m=8,t=1,p=1$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(nil, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			h, err := hashPassword("open sesame", a.cost)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []string{h, a.dummyHash} {
				if !strings.HasPrefix(got, tt.want) {
					t.Errorf("hash %q, want the prefix %q", got, tt.want)
				}
			}
			if ok, err := VerifyPassword(h, "open sesame"); err != nil || !ok {
				t.Errorf("right password: ok=%v err=%v", ok, err)
			}
			if ok, _ := VerifyPassword(h, "open sesamE"); ok {
				t.Error("wrong password accepted")
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Credential
		wantErr bool
	}{
		{"documented basic", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", Credential{Scheme: SchemeBasic, Username: "Aladdin", Password: "open sesame"}, false},
		{"lower-case scheme", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", Credential{Scheme: SchemeBasic, Username: "Aladdin", Password: "open sesame"}, false},
		{"colon in password", "Basic " + b64std("u:a:b"), Credential{Scheme: SchemeBasic, Username: "u", Password: "a:b"}, false},
		{"app key", "App 0123abcd", Credential{Scheme: SchemeApp, Token: "0123abcd"}, false},
		{"ibsso", "IBSSO tok", Credential{Scheme: SchemeIBSSO, Token: "tok"}, false},
		{"bearer", "Bearer tok", Credential{Scheme: SchemeBearer, Token: "tok"}, false},
		{"empty", "", Credential{}, true},
		{"scheme only", "Basic", Credential{}, true},
		{"scheme and space", "Basic ", Credential{}, true},
		{"not base64", "Basic !!!", Credential{}, true},
		{"no colon", "Basic " + b64std("Aladdin"), Credential{}, true},
		{"empty password", "Basic " + b64std("Aladdin:"), Credential{}, true},
		{"empty user", "Basic " + b64std(":pw"), Credential{}, true},
		{"unknown scheme", "Digest abc", Credential{}, true},
		{"two tokens", "App a b", Credential{}, true},
		{"too long", "App " + strings.Repeat("a", MaxHeaderLen), Credential{}, true},
		{"invalid utf8", "Basic " + b64std("u\xff:pw"), Credential{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "App k", "IBSSO t", "Bearer t", "Basic", "basic Og==", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		switch c.Scheme {
		case SchemeBasic:
			if c.Username == "" || c.Password == "" || strings.Contains(c.Username, ":") {
				t.Fatalf("accepted bad basic credential %+v from %q", c, h)
			}
		case SchemeApp, SchemeIBSSO, SchemeBearer:
			if c.Token == "" || strings.ContainsAny(c.Token, " \t") {
				t.Fatalf("accepted bad token %+v from %q", c, h)
			}
		default:
			t.Fatalf("unknown scheme %q", c.Scheme)
		}
	})
}

func b64std(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}
