package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
)

// An action is a console form that becomes one admin API request.
type action struct {
	method, path string // path under /v1/accounts/{id}, "" for the account itself
	body         func(f url.Values) any
	confirm      func(c *Console, f url.Values) bool // asks for a confirmation first
	secret       bool                                // the answer holds a secret to show once
}

func always(*Console, url.Values) bool { return true }

func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

var actions = map[string]action{
	"top-up": {method: "POST", path: "/top-ups", body: func(f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"charge": {method: "POST", path: "/charges", body: func(f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"adjust": {method: "POST", path: "/adjustments", body: func(f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reason": f.Get("reason")}
	}, confirm: func(c *Console, f url.Values) bool {
		a, err := ledger.ParseAmount(strings.TrimSpace(f.Get("amount")))
		return err == nil && (a > c.cfg.ConfirmAbove || a < -c.cfg.ConfirmAbove)
	}},
	"refund": {method: "POST", path: "/refunds", body: func(f url.Values) any {
		return map[string]any{"chargeId": strings.TrimSpace(f.Get("charge_id")), "amount": optional(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"suspend":  {method: "PATCH", body: func(url.Values) any { return map[string]string{"status": "suspended"} }, confirm: always},
	"activate": {method: "PATCH", body: func(url.Values) any { return map[string]string{"status": "active"} }},
	"close":    {method: "PATCH", body: func(url.Values) any { return map[string]string{"status": "closed"} }, confirm: always},
	"api-key": {method: "POST", path: "/api-keys", secret: true, body: func(f url.Values) any {
		return map[string]any{"name": f.Get("name")}
	}},
	"oauth-client": {method: "POST", path: "/oauth-clients", secret: true, body: func(f url.Values) any {
		return map[string]any{"name": f.Get("name")}
	}},
	"user": {method: "POST", path: "/users", body: func(f url.Values) any {
		return map[string]any{"username": f.Get("username"), "password": f.Get("password")}
	}},
	"remove-user":   {method: "DELETE", path: "/users/{ref}"},
	"revoke-key":    {method: "DELETE", path: "/api-keys/{ref}"},
	"revoke-client": {method: "DELETE", path: "/oauth-clients/{ref}"},
}

// apiAnswer is the admin API's answer to an in-process request.
type apiAnswer struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (a *apiAnswer) Header() http.Header         { return a.header }
func (a *apiAnswer) Write(b []byte) (int, error) { return a.body.Write(b) }
func (a *apiAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

// callAdmin serves one admin API request in-process, for the operator: their
// role decides, their name is the audit log's actor, the key makes it once.
func (c *Console) callAdmin(r *http.Request, u who, method, path, key string, body any) *apiAnswer {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequestWithContext(auth.WithOperator(r.Context(), u.op), method, path, bytes.NewReader(b))
	req.Host, req.RemoteAddr = r.Host, r.RemoteAddr
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	ans := &apiAnswer{header: http.Header{}}
	c.cfg.Admin.ServeHTTP(ans, req)
	if ans.status == 0 {
		ans.status = http.StatusOK
	}
	return ans
}

// problem is the text of an admin API error envelope, with its fields.
func problem(ans *apiAnswer) string {
	var env struct {
		RequestError struct {
			ServiceException struct {
				Text             string              `json:"text"`
				ValidationErrors map[string][]string `json:"validationErrors"`
			} `json:"serviceException"`
		} `json:"requestError"`
	}
	if err := json.Unmarshal(ans.body.Bytes(), &env); err != nil {
		return http.StatusText(ans.status)
	}
	ex := env.RequestError.ServiceException
	msg := ex.Text
	for field, reasons := range ex.ValidationErrors {
		msg += "; " + field + " " + strings.Join(reasons, ", ")
	}
	return msg
}

type confirmData struct {
	Action, AccountID, AccountName, Question string
	Fields                                   map[string]string
}

// action serves an account form: asks for a confirmation where one is due, then
// sends the admin API request and shows the account again (or what went wrong).
func (c *Console) action(w http.ResponseWriter, r *http.Request, u who) {
	name, id := r.PathValue("action"), r.PathValue("id")
	act, ok := actions[name]
	acc, found := c.cfg.Engine.Account(id)
	if !ok || !found || acc.Kind != ledger.KindCustomer {
		c.errorPage(w, r, http.StatusNotFound, "No such account or action.")
		return
	}
	f := r.PostForm
	if act.confirm != nil && f.Get("confirm") != "yes" && act.confirm(c, f) {
		c.askConfirm(w, r, u, name, acc, f)
		return
	}
	path := "/v1/accounts/" + url.PathEscape(id) + strings.Replace(act.path, "{ref}", url.PathEscape(f.Get("ref")), 1)
	var body any
	if act.body != nil {
		body = act.body(f)
	}
	ans := c.callAdmin(r, u, act.method, path, f.Get("idempotency_key"), body)
	if ans.status >= 300 {
		c.actionFailed(w, r, u, ans)
		return
	}
	if act.secret {
		c.showSecret(w, r, u, ans)
		return
	}
	http.Redirect(w, r, "/console/accounts/"+url.PathEscape(id)+"?done="+name, http.StatusSeeOther)
}

func (c *Console) askConfirm(w http.ResponseWriter, r *http.Request, u who, name string, acc ledger.Account, f url.Values) {
	d := confirmData{Action: name, AccountID: acc.ID, AccountName: acc.Name, Fields: map[string]string{}}
	for k := range f {
		if k != "csrf" && k != "confirm" {
			d.Fields[k] = f.Get(k)
		}
	}
	switch name {
	case "close":
		d.Question = "Close this account for good? It can take no money afterwards."
	case "suspend":
		d.Question = "Suspend this account? Its customers' requests are refused until it is activated again."
	default:
		d.Question = "This adjustment of " + f.Get("amount") + " " + acc.Currency + " is larger than usual. Make it?"
	}
	c.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm", Who: &u, Data: d})
}

// actionFailed shows the account page with the admin API's refusal, under the
// refusal's own status (403 for a role that may not, 402 for missing funds...).
func (c *Console) actionFailed(w http.ResponseWriter, r *http.Request, u who, ans *apiAnswer) {
	d, status, err := c.accountData(r)
	if err != nil {
		c.accountError(w, r, status, err)
		return
	}
	c.render(w, r, ans.status, "account", page{Title: d.Account.Name, Who: &u, Data: d, Error: problem(ans)})
}

// showSecret shows a new API key or OAuth2 client secret once, on the account
// page itself: never in a URL, and not kept anywhere.
func (c *Console) showSecret(w http.ResponseWriter, r *http.Request, u who, ans *apiAnswer) {
	var out struct {
		Key          string `json:"key"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	json.Unmarshal(ans.body.Bytes(), &out)
	d, status, err := c.accountData(r)
	if err != nil {
		c.accountError(w, r, status, err)
		return
	}
	d.Secret = out.Key
	if out.ClientSecret != "" {
		d.Secret = out.ClientID + " / " + out.ClientSecret
	}
	c.render(w, r, http.StatusCreated, "account", page{Title: d.Account.Name, Who: &u, Data: d,
		Notice: "Created. Copy the secret now: it is shown only this once."})
}

// createAccount is the accounts page's form.
func (c *Console) createAccount(w http.ResponseWriter, r *http.Request, u who) {
	f := r.PostForm
	ans := c.callAdmin(r, u, "POST", "/v1/accounts", f.Get("idempotency_key"),
		map[string]string{"name": f.Get("name"), "currency": strings.ToUpper(strings.TrimSpace(f.Get("currency")))})
	if ans.status >= 300 {
		c.errorPage(w, r, ans.status, problem(ans))
		return
	}
	var acc struct {
		ID string `json:"id"`
	}
	json.Unmarshal(ans.body.Bytes(), &acc)
	http.Redirect(w, r, "/console/accounts/"+url.PathEscape(acc.ID)+"?done=create", http.StatusSeeOther)
}
