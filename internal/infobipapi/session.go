package infobipapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
)

// createSession is POST /auth/1/session {"username","password"} -> {"token"}: an
// IBSSO token for `Authorization: IBSSO <token>` on every public endpoint, valid
// until deleted or unused for the idle timeout (an hour by default).
func (a *API) createSession(w http.ResponseWriter, r *http.Request, f httpkit.Format) {
	// The public listener has no whole-request read timeout (no other route reads a
	// body), so this route sets its own.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(io.LimitReader(r.Body, httpkit.MaxBodyBytes+1))
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
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
	token, err := a.auth.CreateSession(r.Context(), req.Username, req.Password, clientAddr(r))
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if f == httpkit.XML {
		httpkit.Write(w, f, http.StatusOK, []byte("<session><token>"+token+"</token></session>"))
		return
	}
	httpkit.Write(w, f, http.StatusOK, []byte(`{"token":"`+token+`"}`))
}

// deleteSession is DELETE /auth/1/session with `Authorization: IBSSO <token>`.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, f httpkit.Format) {
	cred, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || cred.Scheme != auth.SchemeIBSSO {
		a.fail(w, r, f, auth.ErrUnauthorized)
		return
	}
	if err := a.auth.DeleteSession(r.Context(), cred.Token); err != nil {
		a.fail(w, r, f, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// issueToken is POST /auth/1/oauth2/token, the OAuth2 client credentials grant
// (RFC 6749 §4.4): a form with client_id, client_secret and
// grant_type=client_credentials (the client may instead authenticate with HTTP
// Basic) -> {"access_token","expires_in","token_type":"Bearer"}. Errors use
// Infobip's envelope, like the rest of the family.
func (a *API) issueToken(w http.ResponseWriter, r *http.Request, f httpkit.Format) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	r.Body = http.MaxBytesReader(w, r.Body, httpkit.MaxBodyBytes)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		a.fail(w, r, f, errBadGrant)
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && id == "" {
		id, secret = u, p
	}
	token, ttl, err := a.auth.IssueToken(r.Context(), id, secret, clientAddr(r))
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpkit.Write(w, httpkit.JSON, http.StatusOK, []byte(`{"access_token":"`+token+`","expires_in":`+strconv.Itoa(int(ttl.Seconds()))+`,"token_type":"Bearer"}`))
}
