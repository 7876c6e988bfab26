package infobipapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
)

// createSession is POST /auth/1/session {"username","password"} -> {"token"}: an
// IBSSO token for `Authorization: IBSSO <token>` on every public endpoint, valid
// until deleted or unused for the idle timeout (an hour by default).
func (a *API) createSession(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	// The public listener has no whole-request read timeout (no other route reads a
	// body), so this route sets its own.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(io.LimitReader(r.Body, httpkit.MaxBodyBytes+1))
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		// Unsafe, as at Infobip, makes a session that works from any address;
		// without it the session is bound to the address that made it.
		Unsafe bool `json:"unsafe"`
	}
	if err != nil || len(body) > httpkit.MaxBodyBytes || json.Unmarshal(body, &req) != nil {
		a.fail(w, r, f, errBadRequest)
		return
	}
	// Keys it does not know are ignored, as before (a client may send more than
	// Infobip documents); a key given twice, in another case, or text that is not
	// UTF-8 is refused rather than guessed at.
	if err := httpkit.CheckJSON(body, &req, true); err != nil {
		a.fail(w, r, f, err)
		return
	}
	token, p, err := a.auth.CreateSession(r.Context(), req.Username, req.Password, clientAddr(r), req.Unsafe)
	if err != nil {
		a.recordFailedLogin(r, req.Username, err)
		a.fail(w, r, f, err)
		return
	}
	desc := fmt.Sprintf("User '%s' logged in (IBSSO session bound to %s)", p.Subject, clientAddr(r))
	if req.Unsafe {
		desc = fmt.Sprintf("User '%s' logged in (IBSSO session usable from any address)", p.Subject)
	}
	a.record(r, p, p.AccountID, "Login", "User", desc)
	w.Header().Set("Cache-Control", "no-store")
	if f == httpkit.XML {
		httpkit.Write(w, f, http.StatusOK, []byte("<session><token>"+token+"</token></session>"))
		return
	}
	httpkit.Write(w, f, http.StatusOK, []byte(`{"token":"`+token+`"}`))
}

// recordFailedLogin puts a wrong password for an existing user in its
// account's audit log (Unsuccessful, User), so the customer sees guesses at its
// logins. An unknown username is recorded nowhere: there is no one to tell, and
// the answer stays the same 401 either way. The failed-login limits bound how
// many such records a guesser can cause.
func (a *API) recordFailedLogin(r *http.Request, username string, err error) {
	if !errors.Is(err, auth.ErrUnauthorized) || username == "" || a.Audit == nil {
		return
	}
	if account, ok := a.auth.UserAccount(r.Context(), username); ok {
		a.record(r, auth.Principal{Scheme: auth.SchemeBasic, Subject: username}, account, "Unsuccessful", "User",
			fmt.Sprintf("Failed login of user '%s' (wrong password)", username))
	}
}

// deleteSession is DELETE /auth/1/session with `Authorization: IBSSO <token>`.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	cred, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || cred.Scheme != auth.SchemeIBSSO {
		a.fail(w, r, f, auth.ErrUnauthorized)
		return
	}
	// Authenticated first: a session bound to an address is ended only from
	// there, and the logout is recorded for its account.
	p, err := a.auth.Authenticate(r.Context(), r.Header.Get("Authorization"), clientAddr(r))
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	if err := a.auth.DeleteSession(r.Context(), cred.Token); err != nil {
		a.fail(w, r, f, err)
		return
	}
	a.record(r, p, p.AccountID, "Logout", "User", fmt.Sprintf("User '%s' logged out", p.Subject))
	w.WriteHeader(http.StatusNoContent)
}

// issueToken is POST /auth/1/oauth2/token, the OAuth2 client credentials grant
// (RFC 6749 §4.4): client_id, client_secret and grant_type=client_credentials ->
// {"access_token","expires_in","token_type":"Bearer"}. The parameters may come in a
// form body, in the query string, or both (see tokenRequest); the client may
// instead authenticate with HTTP Basic. Errors are the spec's OAuthApiException
// (see failOAuth).
func (a *API) issueToken(w http.ResponseWriter, r *http.Request, _ *exchange) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	r.Body = http.MaxBytesReader(w, r.Body, httpkit.MaxBodyBytes)
	id, secret, err := tokenRequest(r)
	if err != nil {
		a.failOAuth(w, r, err)
		return
	}
	token, ttl, err := a.auth.IssueToken(r.Context(), id, secret, clientAddr(r))
	if err != nil {
		a.failOAuth(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpkit.Write(w, httpkit.JSON, http.StatusOK, []byte(`{"access_token":"`+token+`","expires_in":`+strconv.Itoa(int(ttl.Seconds()))+`,"token_type":"Bearer"}`))
}

// tokenRequest reads the grant's parameters and returns the client's id and
// secret. Each parameter may come from the form body or from the query string:
// Infobip's Node SDK (@infobip-api/sdk) sends all three in the query with an
// empty form body. RFC 6749 §2.3.1 keeps a secret out of URLs, but an Infobip
// stand-in that refused it would refuse Infobip's own SDK. A parameter given in both places must agree
// (two different client ids in one request is a broken client, not a choice to
// make for it), and none may be repeated (RFC 6749 §3.2). HTTP Basic supplies the
// id and secret when the parameters do not; when both do, they too must agree.
func tokenRequest(r *http.Request) (id, secret string, err error) {
	// ParseForm reads the body only for application/x-www-form-urlencoded; a JSON
	// or empty body leaves PostForm empty, and the query can still carry it all.
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", "", &tokenRequestError{"the form body is larger than 64 KiB"}
		}
		return "", "", &tokenRequestError{"the form body or the query string is not valid application/x-www-form-urlencoded"}
	}
	query := r.URL.Query()
	grant, err := formParam(r, query, "grant_type")
	if err != nil {
		return "", "", err
	}
	if err := checkGrant(grant); err != nil {
		return "", "", err
	}
	if id, err = formParam(r, query, "client_id"); err != nil {
		return "", "", err
	}
	if secret, err = formParam(r, query, "client_secret"); err != nil {
		return "", "", err
	}
	if id, secret, err = withBasic(r, id, secret); err != nil {
		return "", "", err
	}
	// A missing id or secret is left to IssueToken: it is an unknown client
	// (invalid_client), and it counts against the failed-login limits like one.
	return id, secret, nil
}

// formParam is one parameter of a token request, from the form body or the query
// string (r.ParseForm has run): given at most once in each, and the same in both
// when both give it.
func formParam(r *http.Request, query url.Values, name string) (string, error) {
	body, q := r.PostForm[name], query[name]
	if len(body) > 1 || len(q) > 1 {
		return "", &tokenRequestError{name + " is given more than once"}
	}
	var b, v string
	if len(body) == 1 {
		b = body[0]
	}
	if len(q) == 1 {
		v = q[0]
	}
	if b != "" && v != "" && b != v {
		return "", &tokenRequestError{name + " differs between the form body and the query string"}
	}
	if b != "" {
		return b, nil
	}
	return v, nil
}

// checkGrant refuses every grant type but client_credentials.
func checkGrant(grant string) error {
	switch grant {
	case "client_credentials":
		return nil
	case "":
		return &tokenRequestError{"grant_type is missing; send grant_type=client_credentials"}
	}
	return errUnsupportedGrant
}

// withBasic takes the client's id and secret from HTTP Basic when the parameters
// gave neither; when both give them, they must agree.
func withBasic(r *http.Request, id, secret string) (string, string, error) {
	u, p, ok := r.BasicAuth()
	switch {
	case !ok:
		return id, secret, nil
	case id == "" && secret == "":
		return u, p, nil
	case id != u || secret != p:
		return "", "", &tokenRequestError{"the client is authenticated twice, with HTTP Basic and with client_id and client_secret, and they differ"}
	}
	return id, secret, nil
}

// oauthErrorBody is the spec's OAuthApiException: Infobip's envelope with, first,
// the RFC 6749 §5.2 error code that OAuth2 libraries read.
type oauthErrorBody struct {
	Error        string `json:"error,omitempty"`
	RequestError struct {
		ServiceException httpkit.ServiceException `json:"serviceException"`
	} `json:"requestError"`
}

// oauthCode is the RFC 6749 §5.2 error code of a token request's failure, or ""
// where OAuth2 has none (429, 5xx): those keep the plain envelope, as the spec
// documents them (ApiException429, ApiException500).
func oauthCode(err error) string {
	var bad *tokenRequestError
	switch {
	case errors.As(err, &bad):
		return "invalid_request"
	case errors.Is(err, errUnsupportedGrant):
		return "unsupported_grant_type"
	case errors.Is(err, auth.ErrUnauthorized):
		return "invalid_client"
	}
	return ""
}

// failOAuth answers a failed token request. It is always JSON, whatever the
// Accept header: the spec documents the route's errors as application/json only,
// like its answer, and RFC 6749 §5.2 requires it. Like the answer, no cache may
// keep it.
func (a *API) failOAuth(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Cache-Control", "no-store")
	code := oauthCode(err)
	if code == "" {
		a.fail(w, r, httpkit.JSON, err)
		return
	}
	status, ex := statusOf(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="purse", charset="UTF-8"`)
	}
	body := oauthErrorBody{Error: code}
	body.RequestError.ServiceException = ex
	b, err := json.Marshal(body)
	if err != nil { // cannot happen: strings only
		a.fail(w, r, httpkit.JSON, err)
		return
	}
	httpkit.Write(w, httpkit.JSON, status, b)
}
