package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/purse-ledger/purse/internal/testkit"
)

// TestOperatorsHTTP: the Operators page is an admin's: others get 403 and no
// link; an admin adds an operator (field errors for a bad name, role or
// password), sets a password, issues a token shown once, removes an operator
// after a confirmation, and cannot remove the last admin.
func TestOperatorsHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "ann", "admin")
	addOperator(s, "olga", "operator")
	ann, olga := newBrowser(t, s), newBrowser(t, s)
	ann.login("ann", "ann-password")
	olga.login("olga", "olga-password")

	st, _, page := ann.do("GET", "/console/operators", nil, nil)
	if st != 200 || !strings.Contains(page, `id="operators-link"`) || !strings.Contains(page, "<td>olga</td>") || !strings.Contains(page, "ann (you)") {
		t.Fatalf("admin's operators page: %d", st)
	}
	csrf := find(t, csrfRe, page)
	add := func(b *browser, csrf, name, role, pw, pw2 string, h map[string]string) (int, string) {
		st, _, body := b.do("POST", "/console/operators/add", url.Values{"csrf": {csrf}, "name": {name}, "role": {role}, "password": {pw}, "password2": {pw2}}, h)
		return st, body
	}

	t.Run("not an admin", func(t *testing.T) {
		_, _, op := olga.do("GET", "/console/", nil, nil)
		if strings.Contains(op, "operators-link") {
			t.Errorf("the operator sees the Operators link")
		}
		if st, _, _ := olga.do("GET", "/console/operators", nil, nil); st != http.StatusForbidden {
			t.Errorf("operator's GET: %d, want 403", st)
		}
		ocsrf := find(t, csrfRe, op)
		if st, _ := add(olga, ocsrf, "eve", "admin", "eve-password", "eve-password", nil); st != http.StatusForbidden {
			t.Errorf("operator's add: %d, want 403", st)
		}
		for _, action := range []string{"remove", "passwd", "token"} {
			f := url.Values{"csrf": {ocsrf}, "ref": {"ann"}, "confirm": {"yes"}, "password": {"taken-over"}, "password2": {"taken-over"}}
			if st, _, _ := olga.do("POST", "/console/operators/"+action, f, nil); st != http.StatusForbidden {
				t.Errorf("operator's %s: %d, want 403", action, st)
			}
		}
		if st, _ := add(ann, "", "eve", "admin", "eve-password", "eve-password", nil); st != http.StatusForbidden {
			t.Errorf("add without a CSRF token: %d, want 403", st)
		}
		if st, _ := add(ann, csrf, "eve", "admin", "eve-password", "eve-password", map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
			t.Errorf("cross-site add: %d, want 403", st)
		}
		ops, _ := s.Store.ListOperators(t.Context())
		if len(ops) != 2 {
			t.Errorf("%d operators after refused posts", len(ops))
		}
	})

	t.Run("field errors", func(t *testing.T) {
		for _, tt := range []struct{ name, opName, role, pw, pw2, errID string }{
			{"passwords differ", "bob", "viewer", "bob-password", "bob-passw0rd", "op-password-error"},
			{"short password", "bob", "viewer", "short", "short", "op-password-error"},
			{"no such role", "bob", "king", "bob-password", "bob-password", "op-role-error"},
			{"bad name", "bob smith!", "viewer", "bob-password", "bob-password", "op-name-error"},
			{"name taken", "olga", "viewer", "bob-password", "bob-password", "error"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				st, body := add(ann, csrf, tt.opName, tt.role, tt.pw, tt.pw2, nil)
				if st < 400 || st > 409 || !strings.Contains(body, `id="`+tt.errID+`"`) {
					t.Errorf("%d, %s shown: %v", st, tt.errID, strings.Contains(body, tt.errID))
				}
				if strings.Contains(body, tt.pw) && tt.pw != "" {
					t.Errorf("the password is written back into the page")
				}
			})
		}
	})

	t.Run("no operator named", func(t *testing.T) {
		for _, action := range []string{"passwd", "token", "remove"} {
			f := url.Values{"csrf": {csrf}, "confirm": {"yes"}, "password": {"new-password"}, "password2": {"new-password"}}
			if st, _, body := ann.do("POST", "/console/operators/"+action, f, nil); st != http.StatusBadRequest || !strings.Contains(body, "ref is required") {
				t.Errorf("%s without a name: %d", action, st)
			}
		}
	})

	t.Run("add, password, token, remove", func(t *testing.T) {
		if st, body := add(ann, csrf, "bob", "viewer", "bob-password", "bob-password", nil); st != http.StatusSeeOther {
			t.Fatalf("add bob: %d %s", st, body)
		}
		f := url.Values{"csrf": {csrf}, "ref": {"bob"}, "password": {"bob-new-password"}, "password2": {"bob-new-password"}}
		if st, _, body := ann.do("POST", "/console/operators/passwd", f, nil); st != http.StatusSeeOther {
			t.Fatalf("passwd: %d %s", st, body)
		}
		bob := newBrowser(t, s)
		bob.login("bob", "bob-new-password")
		st, _, body := ann.do("POST", "/console/operators/token", url.Values{"csrf": {csrf}, "ref": {"bob"}}, nil)
		tok := find(t, regexp.MustCompile(`<code id="token">(op_[^<]+)</code>`), body)
		if st != http.StatusCreated {
			t.Fatalf("token: %d", st)
		}
		bearer := map[string]string{"Authorization": "Bearer " + tok}
		if r := testkit.Do(t, "GET", s.Admin.URL+"/v1/operators", bearer, nil); r.Status != 200 {
			t.Errorf("bob's token reads: %d", r.Status)
		}
		if _, _, again := ann.do("GET", "/console/operators", nil, nil); strings.Contains(again, tok) {
			t.Errorf("the token is shown twice")
		}
		rm := url.Values{"csrf": {csrf}, "ref": {"bob"}}
		if st, _, body := ann.do("POST", "/console/operators/remove", rm, nil); st != 200 || !strings.Contains(body, `id="confirm"`) {
			t.Fatalf("remove without confirmation: %d", st)
		}
		if _, err := s.Store.Operator(t.Context(), "bob"); err != nil {
			t.Fatalf("bob removed before the confirmation: %v", err)
		}
		rm.Set("confirm", "yes")
		if st, _, body := ann.do("POST", "/console/operators/remove", rm, nil); st != http.StatusSeeOther {
			t.Fatalf("confirmed remove: %d %s", st, body)
		}
		if st, _, _ := bob.do("GET", "/console/", nil, nil); st != http.StatusSeeOther {
			t.Errorf("bob's session after his removal: %d", st)
		}
		if r := testkit.Do(t, "GET", s.Admin.URL+"/v1/operators", bearer, nil); r.Status != 401 {
			t.Errorf("bob's token after his removal: %d", r.Status)
		}
	})

	t.Run("last admin", func(t *testing.T) {
		rm := url.Values{"csrf": {csrf}, "ref": {"ann"}, "confirm": {"yes"}}
		st, _, body := ann.do("POST", "/console/operators/remove", rm, nil)
		if st != http.StatusConflict || !strings.Contains(body, "last admin") {
			t.Errorf("removing the last admin: %d", st)
		}
		if _, err := s.Store.Operator(t.Context(), "ann"); err != nil {
			t.Fatalf("the last admin was removed: %v", err)
		}
		// The admin API refuses it to the shared token too; with a second admin,
		// the first may go.
		s.MustAdmin(http.StatusConflict, "DELETE", "/v1/operators/ann", "", nil)
		addOperator(s, "ada", "admin")
		if st, _, body := ann.do("POST", "/console/operators/remove", rm, nil); st != http.StatusSeeOther {
			t.Errorf("removing one of two admins: %d %s", st, body)
		}
	})
}
