package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// Scheme is the kind of credential in an Authorization header.
type Scheme string

// The schemes Infobip documents for its public API.
const (
	SchemeBasic  Scheme = "Basic"
	SchemeApp    Scheme = "App"
	SchemeIBSSO  Scheme = "IBSSO"
	SchemeBearer Scheme = "Bearer"
)

// Credential is a parsed Authorization header.
type Credential struct {
	Scheme   Scheme
	Username string // Basic only
	Password string // Basic only
	Token    string // App, IBSSO and Bearer
}

// MaxHeaderLen bounds the Authorization header purse will look at.
const MaxHeaderLen = 4096

// ErrMalformed is returned for an Authorization header purse cannot read. The api
// packages answer it with the same 401 as a wrong credential.
var ErrMalformed = errors.New("auth: malformed authorization header")

// ParseAuthorization reads `Basic base64(user:password)`, `App <key>`,
// `IBSSO <token>` or `Bearer <token>`. Scheme names match case-insensitively, as
// RFC 9110 says; anything else, an empty user or password, or bytes that are not
// UTF-8 are ErrMalformed.
func ParseAuthorization(h string) (Credential, error) {
	if h == "" || len(h) > MaxHeaderLen {
		return Credential{}, ErrMalformed
	}
	scheme, rest, ok := strings.Cut(h, " ")
	rest = strings.TrimLeft(rest, " ")
	if !ok || rest == "" || strings.ContainsAny(rest, " \t") {
		return Credential{}, ErrMalformed
	}
	switch {
	case strings.EqualFold(scheme, string(SchemeBasic)):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Credential{}, ErrMalformed
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || user == "" || pass == "" || !utf8.ValidString(user) || !utf8.ValidString(pass) {
			return Credential{}, ErrMalformed
		}
		return Credential{Scheme: SchemeBasic, Username: user, Password: pass}, nil
	case strings.EqualFold(scheme, string(SchemeApp)):
		return Credential{Scheme: SchemeApp, Token: rest}, nil
	case strings.EqualFold(scheme, string(SchemeIBSSO)):
		return Credential{Scheme: SchemeIBSSO, Token: rest}, nil
	case strings.EqualFold(scheme, string(SchemeBearer)):
		return Credential{Scheme: SchemeBearer, Token: rest}, nil
	}
	return Credential{}, ErrMalformed
}
