package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// TestSessionExpiry: the cookie is Secure under TLS; a session ends after 30
// minutes unused, and after 12 hours however busy.
func TestSessionExpiry(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ops, err := auth.NewOperators(st, auth.Options{CheapPasswordHashes: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Add(context.Background(), "ann", ledger.RoleViewer, "ann-password"); err != nil {
		t.Fatal(err)
	}
	c := New(Config{Operators: ops, TLS: true, Now: clock})
	login := func() *http.Cookie {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"name": {"ann"}, "password": {"ann-password"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c.ServeHTTP(w, r)
		ck := w.Result().Cookies()
		if w.Code != http.StatusSeeOther || len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("login: %d %v", w.Code, w.Header())
		}
		return ck[0]
	}
	// alive posts a logout with a wrong CSRF token: a live session is refused for
	// the token (403), an ended one is told to log in again (401); neither logs out.
	alive := func(ck *http.Cookie) bool {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/console/logout", strings.NewReader("csrf=wrong"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(ck)
		c.ServeHTTP(w, r)
		return w.Code == http.StatusForbidden // a live session, refused for its token
	}
	ck := login()
	now = now.Add(29 * time.Minute)
	if !alive(ck) {
		t.Fatal("the session ended before 30 idle minutes")
	}
	now = now.Add(30 * time.Minute)
	if alive(ck) {
		t.Error("the session outlived 30 idle minutes")
	}
	ck = login()
	for i := 0; i < 12*3-1; i++ { // busy every 20 minutes for just under 12 hours
		now = now.Add(20 * time.Minute)
		if !alive(ck) {
			t.Fatalf("the busy session ended after %v", time.Duration(i+1)*20*time.Minute)
		}
	}
	now = now.Add(20 * time.Minute)
	if alive(ck) {
		t.Error("the session outlived 12 hours")
	}
}
