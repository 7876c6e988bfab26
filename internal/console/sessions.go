package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Sessions live in this process's memory, keyed by the SHA-256 of the cookie's
// random value: a restart logs everybody out, and behind a load balancer over
// several nodes the console needs sticky sessions (docs/console.md). The
// operator is read from the store on every request, so a removed operator or a
// changed role takes effect at once.

const cookieName = "purse_console"

type session struct {
	operator string
	csrf     string
	created  time.Time
	lastUsed time.Time
}

type sessions struct {
	now       func() time.Time
	idle, max time.Duration
	mu        sync.Mutex
	m         map[[32]byte]*session
}

func newSessions(now func() time.Time, idle, max time.Duration) *sessions {
	return &sessions{now: now, idle: idle, max: max, m: map[[32]byte]*session{}}
}

func randomHex() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// start makes a session and returns the cookie's value.
func (s *sessions) start(operator string) string {
	v := randomHex()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, x := range s.m { // forget the expired ones now and then
		if len(s.m) < 1000 {
			break
		}
		if s.expired(x, now) {
			delete(s.m, k)
		}
	}
	s.m[sha256.Sum256([]byte(v))] = &session{operator: operator, csrf: randomHex(), created: now, lastUsed: now}
	return v
}

func (s *sessions) expired(x *session, now time.Time) bool {
	return now.Sub(x.lastUsed) >= s.idle || now.Sub(x.created) >= s.max
}

// get returns the live session of a cookie value and marks it used.
func (s *sessions) get(v string) (session, bool) {
	if len(v) != 64 {
		return session{}, false
	}
	k := sha256.Sum256([]byte(v))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[k]
	if !ok {
		return session{}, false
	}
	if s.expired(x, now) {
		delete(s.m, k)
		return session{}, false
	}
	x.lastUsed = now
	return *x, true
}

func (s *sessions) end(v string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(v)))
	s.mu.Unlock()
}

func (c *Console) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, Secure: c.cfg.TLS, SameSite: http.SameSiteStrictMode})
}

// who is the request's operator and session.
type who struct {
	op     ledger.Operator
	csrf   string
	cookie string
}

type whoKey struct{}

// authed serves h for a logged-in operator, and checks every state change for
// CSRF: a same-origin request (Sec-Fetch-Site, else Origin) carrying the
// session's token.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, who)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		var s session
		ok := err == nil
		if ok {
			s, ok = c.sessions.get(ck.Value)
		}
		var op ledger.Operator
		if ok {
			op, err = c.cfg.Operators.Get(r.Context(), s.operator)
			ok = err == nil
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, http.StatusUnauthorized, "Your session has ended. Log in again.")
			return
		}
		u := who{op: op, csrf: s.csrf, cookie: ck.Value}
		httpkit.SetPrincipal(w, auth.OperatorActor(op.Name)) // the request log's principal
		if r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // a console form is a few fields
			if err := c.checkCSRF(r, s.csrf); err != nil {
				c.errorPage(w, r, http.StatusForbidden, err.Error())
				return
			}
		}
		h(w, r, u)
	}
}

var (
	errCrossSite = errors.New("Refused: this form was sent from another site.")
	errCSRFToken = errors.New("Refused: the form's security token is missing or old. Reload the page and try again.")
)

// sameOrigin refuses a request another site's page made: browsers say so in
// Sec-Fetch-Site, and older ones in Origin.
func sameOrigin(r *http.Request) error {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" {
		return errCrossSite
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errCrossSite
		}
	}
	return nil
}

func (c *Console) checkCSRF(r *http.Request, want string) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	got := r.PostFormValue("csrf")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRFToken
	}
	return nil
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: map[string]string{"Next": safeNext(r.URL.Query().Get("next"))}})
}

// safeNext keeps a redirect after login inside the console.
func safeNext(next string) string {
	if len(next) > 1 && next[0] == '/' && next[1] != '/' && next[1] != '\\' && len(next) < 2000 {
		if u, err := url.Parse(next); err == nil && u.Host == "" && len(u.Path) >= len("/console") && u.Path[:8] == "/console" {
			return next
		}
	}
	return "/console/"
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		c.errorPage(w, r, http.StatusForbidden, err.Error())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	op, err := c.cfg.Operators.Login(r.Context(), name, password, clientAddr(r))
	var tooMany *auth.TooManyAttemptsError
	switch {
	case errors.As(err, &tooMany):
		w.Header().Set("Retry-After", strconv.Itoa(tooMany.RetryAfterSeconds()))
		c.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Log in", Error: "Too many failed attempts. Try again in " +
			strconv.Itoa(tooMany.RetryAfterSeconds()) + " seconds.", Data: map[string]string{"Next": safeNext(r.PostFormValue("next")), "Name": name}})
		return
	case err != nil:
		status, msg := http.StatusUnauthorized, "Wrong name or password."
		if !errors.Is(err, auth.ErrUnauthorized) {
			c.cfg.Log.ErrorContext(r.Context(), "console login", "err", err)
			status, msg = http.StatusServiceUnavailable, "The store did not answer. Try again."
		}
		c.render(w, r, status, "login", page{Title: "Log in", Error: msg, Data: map[string]string{"Next": safeNext(r.PostFormValue("next")), "Name": name}})
		return
	}
	c.setCookie(w, c.sessions.start(op.Name), 0)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u who) {
	c.sessions.end(u.cookie)
	c.setCookie(w, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// clientAddr is the address login failures are counted under: the edge has
// already replaced RemoteAddr with the client behind a trusted proxy.
func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			return host[:i]
		}
	}
	return host
}
