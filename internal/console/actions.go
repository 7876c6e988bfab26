package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/ledger"
)

// An action is a console form that becomes one admin API request.
type action struct {
	// path is under /v1/accounts/{id} ("" for the account itself), unless it
	// starts with /v1/: then it is the whole path (transfers, holds, a new
	// sub-account). {ref} is the form's ref field (a user, key, hold, sub-account).
	method, path string
	body         func(acc ledger.Account, f url.Values) any
	// check refuses a field the admin API takes as a JSON number before the
	// request is made, so that a form's text gets a field error, not a JSON one.
	check   func(f url.Values) error
	confirm func(c *Console, f url.Values) bool // asks for a confirmation first
	secret  bool                                // the answer holds a secret to show once
	anchor  string                              // the page's section to return to
}

func always(*Console, url.Values) bool { return true }

func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

var actions = map[string]action{
	"top-up": {method: "POST", path: "/top-ups", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"charge": {method: "POST", path: "/charges", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"adjust": {method: "POST", path: "/adjustments", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"amount": strings.TrimSpace(f.Get("amount")), "reason": f.Get("reason")}
	}, confirm: func(c *Console, f url.Values) bool {
		a, err := ledger.ParseAmount(strings.TrimSpace(f.Get("amount")))
		return err == nil && (a > c.cfg.ConfirmAbove || a < -c.cfg.ConfirmAbove)
	}},
	"refund": {method: "POST", path: "/refunds", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"chargeId": strings.TrimSpace(f.Get("charge_id")), "amount": optional(f.Get("amount")), "reference": f.Get("reference")}
	}},
	"suspend":  {method: "PATCH", body: func(ledger.Account, url.Values) any { return map[string]string{"status": "suspended"} }, confirm: always},
	"activate": {method: "PATCH", body: func(ledger.Account, url.Values) any { return map[string]string{"status": "active"} }},
	"close":    {method: "PATCH", body: func(ledger.Account, url.Values) any { return map[string]string{"status": "closed"} }, confirm: always},
	"api-key": {method: "POST", path: "/api-keys", secret: true, body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"name": f.Get("name")}
	}},
	"oauth-client": {method: "POST", path: "/oauth-clients", secret: true, body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"name": f.Get("name")}
	}},
	"user": {method: "POST", path: "/users", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"username": f.Get("username"), "password": f.Get("password")}
	}},
	"remove-user":   {method: "DELETE", path: "/users/{ref}"},
	"revoke-key":    {method: "DELETE", path: "/api-keys/{ref}"},
	"revoke-client": {method: "DELETE", path: "/oauth-clients/{ref}"},
	"sub-account": {method: "POST", path: "/v1/accounts", anchor: "sub-accounts", body: func(acc ledger.Account, f url.Values) any {
		return map[string]any{"name": f.Get("name"), "parent": acc.ID, "funding": f.Get("funding")}
	}},
	"transfer": {method: "POST", path: "/v1/transfers", anchor: "sub-accounts", body: transferBody},
	"enable": {method: "PATCH", path: "/v1/accounts/{ref}", anchor: "sub-accounts", confirm: always,
		body: func(ledger.Account, url.Values) any { return map[string]bool{"enabled": true} }},
	"disable": {method: "PATCH", path: "/v1/accounts/{ref}", anchor: "sub-accounts", confirm: always,
		body: func(ledger.Account, url.Values) any { return map[string]bool{"enabled": false} }},
	"limits": {method: "PATCH", anchor: "limits", body: limitsBody, check: checkLimits},
	"capture": {method: "POST", path: "/v1/holds/{ref}/capture", anchor: "holds", body: func(_ ledger.Account, f url.Values) any {
		return map[string]any{"amount": optional(f.Get("amount"))}
	}},
	"void":   {method: "POST", path: "/v1/holds/{ref}/void", anchor: "holds"},
	"alerts": {method: "PUT", path: "/alerts", anchor: "alerts", body: alertsBody, check: checkAlerts},
}

// transferBody moves money between the page's account and its counterparty (a
// sub-account of its, or its parent): "out" pays the counterparty, "in" is paid.
func transferBody(acc ledger.Account, f url.Values) any {
	from, to := acc.ID, f.Get("counterparty")
	if f.Get("direction") == "in" {
		from, to = to, from
	}
	return map[string]any{"from": from, "to": to, "amount": strings.TrimSpace(f.Get("amount")), "reference": f.Get("reference")}
}

// limitsBody sets the three limits at once; an empty monthly limit removes it.
func limitsBody(_ ledger.Account, f url.Values) any {
	var monthly *string
	if m := strings.TrimSpace(f.Get("monthly_limit")); m != "" {
		monthly = &m
	}
	free, _ := strconv.ParseInt(strings.TrimSpace(f.Get("free_messages")), 10, 64)
	return map[string]any{"allowedMinus": strings.TrimSpace(f.Get("allowed_minus")), "monthlyLimit": monthly, "freeMessages": free}
}

func checkLimits(f url.Values) error {
	if _, err := strconv.ParseInt(strings.TrimSpace(f.Get("free_messages")), 10, 64); err != nil {
		return ledger.Invalid("freeMessages", "must be a whole number, 0 or more")
	}
	return nil
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
	msg, fields := problemFields(ans)
	for _, field := range slices.Sorted(maps.Keys(fields)) {
		msg += "; " + field + " " + fields[field]
	}
	return msg
}

// problemFields is the text of an admin API error envelope and its field errors.
func problemFields(ans *apiAnswer) (string, map[string]string) {
	var env struct {
		RequestError struct {
			ServiceException struct {
				Text             string              `json:"text"`
				ValidationErrors map[string][]string `json:"validationErrors"`
			} `json:"serviceException"`
		} `json:"requestError"`
	}
	if err := json.Unmarshal(ans.body.Bytes(), &env); err != nil {
		return http.StatusText(ans.status), nil
	}
	ex := env.RequestError.ServiceException
	fields := map[string]string{}
	for field, reasons := range ex.ValidationErrors {
		fields[field] = strings.Join(reasons, ", ")
	}
	return ex.Text, fields
}

type confirmData struct {
	Action, AccountID, AccountName, Question string
	URL, Back                                string // where the confirmed form goes, and the way back
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
	if err := checkForm(act, f); err != nil {
		c.actionFailed(w, r, u, name, invalidAnswer(err))
		return
	}
	if act.confirm != nil && f.Get("confirm") != "yes" && act.confirm(c, f) {
		c.askConfirm(w, r, u, name, acc, f)
		return
	}
	ans := c.callAdmin(r, u, act.method, actionPath(act, id, f.Get("ref")), f.Get("idempotency_key"), actionBody(act, acc, f))
	if ans.status >= 300 {
		c.actionFailed(w, r, u, name, ans)
		return
	}
	if act.secret {
		c.showSecret(w, r, u, ans)
		return
	}
	to := "/console/accounts/" + url.PathEscape(id) + "?done=" + name
	if act.anchor != "" {
		to += "#" + act.anchor
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// checkForm refuses what the console can tell is wrong before asking the API:
// a row action without its row (an empty ref would make another path), and
// the action's own check.
func checkForm(act action, f url.Values) error {
	if strings.Contains(act.path, "{ref}") && strings.TrimSpace(f.Get("ref")) == "" {
		return ledger.Invalid("ref", "is required: the row this form acts on")
	}
	if act.check != nil {
		return act.check(f)
	}
	return nil
}

func actionPath(act action, id, ref string) string {
	p := strings.Replace(act.path, "{ref}", url.PathEscape(ref), 1)
	if strings.HasPrefix(p, "/v1/") {
		return p
	}
	return "/v1/accounts/" + url.PathEscape(id) + p
}

func actionBody(act action, acc ledger.Account, f url.Values) any {
	if act.body == nil {
		return nil
	}
	return act.body(acc, f)
}

// invalidAnswer is the admin API's 400 for a field the console refused itself,
// so that both kinds of field error are shown the same way.
func invalidAnswer(err error) *apiAnswer {
	ans := &apiAnswer{status: http.StatusBadRequest, header: http.Header{}}
	var fields map[string][]string
	if v := (*ledger.ValidationError)(nil); errors.As(err, &v) {
		fields = v.Fields
	}
	json.NewEncoder(&ans.body).Encode(map[string]any{"requestError": map[string]any{"serviceException": map[string]any{
		"messageId": "BAD_REQUEST", "text": "Bad request", "validationErrors": fields}}})
	return ans
}

// confirmFields are a form's fields, repeated by the confirmation's form (with
// the same Idempotency-Key), but for the CSRF token, which the page adds anew.
func confirmFields(f url.Values) map[string]string {
	out := map[string]string{}
	for k := range f {
		if k != "csrf" && k != "confirm" {
			out[k] = f.Get(k)
		}
	}
	return out
}

func (c *Console) askConfirm(w http.ResponseWriter, r *http.Request, u who, name string, acc ledger.Account, f url.Values) {
	back := "/console/accounts/" + url.PathEscape(acc.ID)
	d := confirmData{Action: name, AccountID: acc.ID, AccountName: acc.Name, URL: back + "/" + name, Back: back, Fields: confirmFields(f)}
	switch name {
	case "enable", "disable":
		sub, _ := c.cfg.Engine.Account(f.Get("ref"))
		d.Question = "Disable the sub-account " + sub.Name + " (" + f.Get("ref") + ")? Its credentials are refused and it cannot spend until it is enabled again."
		if name == "enable" {
			d.Question = "Enable the sub-account " + sub.Name + " (" + f.Get("ref") + ") again? Its credentials work and it can spend."
		}
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
// The form's fields come back with their errors beside them.
func (c *Console) actionFailed(w http.ResponseWriter, r *http.Request, u who, form string, ans *apiAnswer) {
	d, status, err := c.accountData(r)
	if err != nil {
		c.accountError(w, r, status, err)
		return
	}
	_, fields := problemFields(ans)
	c.render(w, r, max(ans.status, http.StatusBadRequest), "account", page{Title: d.Account.Name, Who: &u, Data: d, Error: problem(ans),
		Form: form, Fields: fields, Values: r.PostForm})
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
