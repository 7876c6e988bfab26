package adminapi

import "net/http"

// rotateToken is POST /v1/admin-token/rotate: the new token is in the answer, the
// only time it exists in clear (auth.AdminToken keeps its digest).
func (a *API) rotateToken(w http.ResponseWriter, r *http.Request) {
	tok, err := a.cfg.Token.Rotate(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusOK, map[string]string{"token": tok})
}
