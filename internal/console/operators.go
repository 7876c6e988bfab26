package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/purse-ledger/purse/internal/ledger"
)

// The Operators page: admins list, add and remove operators, set their
// passwords and issue their personal admin API tokens, each a request to the
// admin API's /v1/operators handlers served in-process for the admin (so the
// rules are the API's: who may, what a name or password must be, that the last
// admin stays). The admin API has no route that changes a role, so neither has
// the page: remove the operator and add them again with the other role.

// operatorRow is one operator as GET /v1/operators answers.
type operatorRow struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	HasToken  bool   `json:"hasToken"`
	CreatedAt string `json:"createdAt"`
}

type operatorsData struct {
	Operators []operatorRow
	Roles     []ledger.Role
	Self      string
	Token     string // a token just issued, shown once
	TokenFor  string
}

// An operatorAction is an Operators page form: one admin API request.
type operatorAction struct {
	method, path string // {ref} is the operator's name
	body         func(f url.Values) any
	check        func(f url.Values) error
	confirm      bool
}

var operatorActions = map[string]operatorAction{
	"add": {method: "POST", path: "/v1/operators", check: samePasswords, body: func(f url.Values) any {
		return map[string]string{"name": f.Get("name"), "role": f.Get("role"), "password": f.Get("password")}
	}},
	"passwd": {method: "PUT", path: "/v1/operators/{ref}/password", check: samePasswords, body: func(f url.Values) any {
		return map[string]string{"password": f.Get("password")}
	}},
	"remove": {method: "DELETE", path: "/v1/operators/{ref}", confirm: true},
	"token":  {method: "POST", path: "/v1/operators/{ref}/token"},
}

// samePasswords: the form asks for the password twice, as the CLI does.
func samePasswords(f url.Values) error {
	if f.Get("password") != f.Get("password2") {
		return ledger.Invalid("password", "and its repetition differ")
	}
	return nil
}

const errAdminsOnly = "Only admins manage operators."

// operatorsPage: GET /console/operators, admins only.
func (c *Console) operatorsPage(w http.ResponseWriter, r *http.Request, u who) {
	if !u.op.Role.Allows(ledger.RoleAdmin) {
		c.errorPage(w, r, http.StatusForbidden, errAdminsOnly)
		return
	}
	c.showOperators(w, r, u, http.StatusOK, page{Notice: notices["op-"+r.URL.Query().Get("done")]}, &operatorsData{})
}

// showOperators draws the page with the list as the admin API gives it.
func (c *Console) showOperators(w http.ResponseWriter, r *http.Request, u who, status int, p page, d *operatorsData) {
	ans := c.callAdmin(r, u, "GET", "/v1/operators", "", nil)
	if ans.status != http.StatusOK {
		c.errorPage(w, r, ans.status, problem(ans))
		return
	}
	var out struct {
		Operators []operatorRow `json:"operators"`
	}
	json.Unmarshal(ans.body.Bytes(), &out)
	d.Operators, d.Roles, d.Self = out.Operators, ledger.Roles, u.op.Name
	p.Title, p.Who, p.Data = "Operators", &u, d
	c.render(w, r, status, "operators", p)
}

// operatorAction: POST /console/operators/{action}.
func (c *Console) operatorAction(w http.ResponseWriter, r *http.Request, u who) {
	name := r.PathValue("action")
	act, ok := operatorActions[name]
	if !ok {
		c.errorPage(w, r, http.StatusNotFound, "No such action.")
		return
	}
	if !u.op.Role.Allows(ledger.RoleAdmin) {
		c.errorPage(w, r, http.StatusForbidden, errAdminsOnly)
		return
	}
	f := r.PostForm
	var ans *apiAnswer
	if err := checkForm(action{path: act.path, check: act.check}, f); err != nil {
		ans = invalidAnswer(err)
	} else if act.confirm && f.Get("confirm") != "yes" {
		d := confirmData{Action: name, URL: "/console/operators/" + name, Back: "/console/operators", Fields: confirmFields(f),
			Question: "Remove the operator " + f.Get("ref") + "? Their sessions and personal token end at once."}
		c.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm", Who: &u, Data: d})
		return
	}
	if ans == nil {
		var body any
		if act.body != nil {
			body = act.body(f)
		}
		ans = c.callAdmin(r, u, act.method, strings.Replace(act.path, "{ref}", url.PathEscape(f.Get("ref")), 1), "", body)
	}
	switch {
	case ans.status >= 300:
		_, fields := problemFields(ans)
		c.showOperators(w, r, u, max(ans.status, http.StatusBadRequest), page{Error: problem(ans), Form: name + ":" + f.Get("ref"), Fields: fields, Values: f}, &operatorsData{})
	case name == "token":
		var out struct {
			Token string `json:"token"`
		}
		json.Unmarshal(ans.body.Bytes(), &out)
		c.showOperators(w, r, u, http.StatusCreated, page{Notice: "Token issued. Copy it now: it is shown only this once, and it replaces the operator's previous token."},
			&operatorsData{Token: out.Token, TokenFor: f.Get("ref")})
	default:
		http.Redirect(w, r, "/console/operators?done="+name, http.StatusSeeOther)
	}
}
