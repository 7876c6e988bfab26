package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// The Webhooks pages: every operator reads the subscriptions and their
// delivery logs, admins create, enable, disable, delete, redeliver and rotate
// a signing secret. Each is
// a request to the admin API's /v1/webhooks handlers served in-process for the
// operator, so the rules (who may, what a URL must be, the secret shown once)
// are the API's.

// webhookRow is a subscription as the admin API answers it, with its lag.
type webhookRow struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Types          []string `json:"types"`
	AccountID      string   `json:"accountId"`
	WithChildren   bool     `json:"withChildren"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason"`
	After          int64    `json:"after"`
	Attempts       int      `json:"attempts"`
	FailingSince   string   `json:"failingSince"`
	CreatedAt      string   `json:"createdAt"`
	Secret         string   `json:"secret"`
	// PreviousSecretUntil is when a rotated-out secret stops signing too.
	PreviousSecretUntil string `json:"previousSecretUntil"`
	SecretFingerprint   string `json:"secretFingerprint"`
	// Lag is the age of the oldest event it has still to deliver ("" when
	// caught up): the console reads it as purse_webhook_delivery_lag_seconds
	// does, one event from the store, as the API's answer has no lag.
	Lag string `json:"-"`
}

type deliveryRow struct {
	Sequence  int64  `json:"sequence"`
	EventID   string `json:"eventId"`
	EventSeq  int64  `json:"eventSequence"`
	Attempt   int    `json:"attempt"`
	At        string `json:"at"`
	Status    int    `json:"status"`
	LatencyMs int64  `json:"latencyMs"`
	OK        bool   `json:"ok"`
	Response  string `json:"response"`
}

type webhooksData struct {
	Webhooks []webhookRow
	Types    []ledger.EventType
	Secret   string // a new subscription's signing secret, shown once
	SecretID string
	// The one subscription's page: it and its delivery log.
	Webhook    *webhookRow
	Deliveries []deliveryRow
	Next       string
}

// A webhookAction is a Webhooks page form: one admin API request.
type webhookAction struct {
	method, path string // {ref} is the subscription's id
	body         func(f url.Values) any
	check        func(f url.Values) error
	confirm      func(f url.Values) string // the question to ask first
	ownPage      bool                      // drawn on the subscription's own page, not the list
}

var webhookActions = map[string]webhookAction{
	"create":  {method: "POST", path: "/v1/webhooks", body: webhookBody},
	"enable":  {method: "PATCH", path: "/v1/webhooks/{ref}", body: func(url.Values) any { return map[string]bool{"enabled": true} }},
	"disable": {method: "PATCH", path: "/v1/webhooks/{ref}", body: func(url.Values) any { return map[string]bool{"enabled": false} }},
	"delete": {method: "DELETE", path: "/v1/webhooks/{ref}", confirm: func(f url.Values) string {
		return "Delete the webhook subscription " + f.Get("ref") + "? Its receiver is told nothing more, and its delivery log goes."
	}},
	"redeliver": {method: "POST", path: "/v1/webhooks/{ref}/redeliver", check: checkRedeliver, body: func(f url.Values) any {
		n, _ := strconv.ParseInt(strings.TrimSpace(f.Get("after")), 10, 64)
		return map[string]int64{"after": n}
	}, confirm: func(f url.Values) string {
		return "Deliver again every event after sequence " + f.Get("after") + " to the subscription " + f.Get("ref") + "? Its receiver gets them again, under the same webhook-id."
	}, ownPage: true},
	"rotate": {method: "POST", path: "/v1/webhooks/{ref}/rotate-secret", check: checkRotate, body: func(f url.Values) any {
		// Against the secret the page showed: the same form sent twice (a reload,
		// a second click) is refused, not a second rotation that would end the
		// overlap of the secret the receiver holds.
		h, _ := strconv.ParseInt(strings.TrimSpace(f.Get("keep_hours")), 10, 64)
		body := map[string]any{"keepPreviousFor": h * 3600}
		if fp := f.Get("if_fingerprint"); fp != "" {
			body["ifSecretFingerprint"] = fp
		}
		return body
	}, confirm: func(f url.Values) string {
		return "Give the subscription " + f.Get("ref") + " a new signing secret? The old one signs its deliveries too for " +
			strings.TrimSpace(f.Get("keep_hours")) + " hours, then its receiver must check the new one."
	}, ownPage: true},
}

// webhookBody is POST /v1/webhooks from the form: the ticked types (none:
// every type), an optional account, with its sub-accounts when asked.
func webhookBody(f url.Values) any {
	types := []string{}
	for _, t := range f["types"] {
		types = append(types, t)
	}
	body := map[string]any{"url": strings.TrimSpace(f.Get("url")), "types": types}
	if acc := strings.TrimSpace(f.Get("account_id")); acc != "" {
		body["accountId"] = acc
	}
	if f.Get("with_children") == "on" {
		body["withChildren"] = true
	}
	return body
}

func checkRedeliver(f url.Values) error {
	if n, err := strconv.ParseInt(strings.TrimSpace(f.Get("after")), 10, 64); err != nil || n < 0 {
		return ledger.Invalid("after", "must be an event sequence, 0 or more")
	}
	return nil
}

// checkRotate: the old secret's overlap in whole hours, up to the API's week.
func checkRotate(f url.Values) error {
	if h, err := strconv.ParseInt(strings.TrimSpace(f.Get("keep_hours")), 10, 64); err != nil || h < 0 || h > 168 {
		return ledger.Invalid("keep_hours", "must be whole hours from 0 to 168 (7 days)")
	}
	return nil
}

// webhooksPage: GET /console/webhooks.
func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request, u who) {
	c.showWebhooks(w, r, u, http.StatusOK, page{Notice: notices["wh-"+r.URL.Query().Get("done")]}, &webhooksData{})
}

// showWebhooks draws the list as the admin API gives it.
func (c *Console) showWebhooks(w http.ResponseWriter, r *http.Request, u who, status int, p page, d *webhooksData) {
	var out struct {
		Webhooks []webhookRow `json:"webhooks"`
	}
	if !c.adminGet(w, r, u, "/v1/webhooks", &out) {
		return
	}
	for i := range out.Webhooks {
		c.lag(r, &out.Webhooks[i])
	}
	d.Webhooks, d.Types = out.Webhooks, ledger.EventTypes
	p.Title, p.Who, p.Data = "Webhooks", &u, d
	c.render(w, r, status, "webhooks", p)
}

// adminGet reads an admin API route for the operator into out; on a refusal
// it shows the API's error and reports false.
func (c *Console) adminGet(w http.ResponseWriter, r *http.Request, u who, path string, out any) bool {
	ans := c.callAdmin(r, u, "GET", path, "", nil)
	if ans.status != http.StatusOK {
		c.errorPage(w, r, ans.status, problem(ans))
		return false
	}
	if err := json.Unmarshal(ans.body.Bytes(), out); err != nil {
		c.storeError(w, r, err)
		return false
	}
	return true
}

// lag reads the oldest event the subscription has still to deliver: one event
// after its cursor, with its filters.
func (c *Console) lag(r *http.Request, h *webhookRow) {
	f := ledger.EventFilter{After: h.After, AccountID: h.AccountID, WithChildren: h.WithChildren, Limit: 1}
	for _, t := range h.Types {
		f.Types = append(f.Types, ledger.EventType(t))
	}
	evs, err := c.cfg.Store.ListEvents(r.Context(), f)
	if err != nil || len(evs) == 0 {
		return
	}
	h.Lag = c.cfg.Now().Sub(evs[0].At).Round(time.Second).String()
}

// webhookPage: GET /console/webhooks/{id}, the subscription and its delivery
// log, newest first, paged by the API's cursor.
func (c *Console) webhookPage(w http.ResponseWriter, r *http.Request, u who) {
	c.showWebhook(w, r, u, r.PathValue("id"), http.StatusOK, page{Notice: notices["wh-"+r.URL.Query().Get("done")]})
}

// showWebhook draws a subscription's page, read from the API.
func (c *Console) showWebhook(w http.ResponseWriter, r *http.Request, u who, id string, status int, p page) {
	var h webhookRow
	if !c.adminGet(w, r, u, "/v1/webhooks/"+url.PathEscape(id), &h) {
		return
	}
	c.drawWebhook(w, r, u, h, status, p)
}

// drawWebhook draws a subscription's page for h, with its delivery log. A page
// that shows a new secret (h.Secret, just rotated) is drawn whatever the log's
// read says: the secret is already in force, and this is its only showing.
func (c *Console) drawWebhook(w http.ResponseWriter, r *http.Request, u who, h webhookRow, status int, p page) {
	c.lag(r, &h)
	var out struct {
		Deliveries []deliveryRow `json:"deliveries"`
		NextCursor string        `json:"nextCursor"`
	}
	q := url.Values{"limit": {"50"}}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		q.Set("cursor", cur)
	}
	path := "/v1/webhooks/" + url.PathEscape(h.ID) + "/deliveries?" + q.Encode()
	if h.Secret == "" {
		if !c.adminGet(w, r, u, path, &out) {
			return
		}
	} else if ans := c.callAdmin(r, u, "GET", path, "", nil); ans.status != http.StatusOK || json.Unmarshal(ans.body.Bytes(), &out) != nil {
		p.Error = "The delivery log could not be read now: " + problem(ans)
	}
	d := &webhooksData{Webhook: &h, Deliveries: out.Deliveries, Secret: h.Secret, SecretID: h.ID}
	if out.NextCursor != "" {
		d.Next = "/console/webhooks/" + url.PathEscape(h.ID) + "?" + url.Values{"cursor": {out.NextCursor}}.Encode()
	}
	p.Title, p.Who, p.Data = "Webhook "+h.ID, &u, d
	c.render(w, r, status, "webhook", p)
}

// webhookAction: POST /console/webhooks/{action}, admins only (the API says
// so: its 403 is shown).
func (c *Console) webhookAction(w http.ResponseWriter, r *http.Request, u who) {
	name := r.PathValue("action")
	act, ok := webhookActions[name]
	if !ok {
		c.errorPage(w, r, http.StatusNotFound, "No such action.")
		return
	}
	f := r.PostForm
	if err := checkForm(action{path: act.path, check: act.check}, f); err != nil {
		c.webhookFailed(w, r, u, name, invalidAnswer(err))
		return
	}
	if act.confirm != nil && f.Get("confirm") != "yes" && u.op.Role.Allows(ledger.RoleAdmin) {
		d := confirmData{Action: name, URL: "/console/webhooks/" + name, Back: webhookBack(name, f), Fields: confirmFields(f), Question: act.confirm(f)}
		c.render(w, r, http.StatusOK, "confirm", page{Title: "Confirm", Who: &u, Data: d})
		return
	}
	var body any
	if act.body != nil {
		body = act.body(f)
	}
	ans := c.callAdmin(r, u, act.method, strings.Replace(act.path, "{ref}", url.PathEscape(f.Get("ref")), 1), f.Get("idempotency_key"), body)
	switch {
	case ans.status >= 300:
		c.webhookFailed(w, r, u, name, ans)
	case name == "create":
		var h webhookRow
		json.Unmarshal(ans.body.Bytes(), &h)
		c.showWebhooks(w, r, u, http.StatusCreated, page{Notice: "Subscription created. Copy its signing secret now: it is shown only this once."},
			&webhooksData{Secret: h.Secret, SecretID: h.ID})
	case name == "rotate":
		// Drawn from the rotation's answer, the subscription as it now is: a read
		// that failed after it would lose the one showing of the new secret.
		var h webhookRow
		if err := json.Unmarshal(ans.body.Bytes(), &h); err != nil || h.Secret == "" {
			c.storeError(w, r, fmt.Errorf("console: the rotation's answer: %v", err))
			return
		}
		c.drawWebhook(w, r, u, h, http.StatusOK, page{Notice: "Signing secret rotated. Copy the new one now: it is shown only this once."})
	default:
		http.Redirect(w, r, webhookBack(name, f)+"?done="+name, http.StatusSeeOther)
	}
}

// webhookBack is the page a form returns to: the subscription's own page for
// an action drawn there (a redelivery, a rotation), else the list.
func webhookBack(name string, f url.Values) string {
	if webhookActions[name].ownPage {
		return "/console/webhooks/" + url.PathEscape(f.Get("ref"))
	}
	return "/console/webhooks"
}

// webhookFailed shows the list again with the API's refusal and the form's
// field errors beside their fields, under the refusal's own status.
func (c *Console) webhookFailed(w http.ResponseWriter, r *http.Request, u who, name string, ans *apiAnswer) {
	_, fields := problemFields(ans)
	p := page{Error: problem(ans), Form: name, Fields: fields, Values: r.PostForm}
	if ref := r.PostForm.Get("ref"); webhookActions[name].ownPage && ref != "" && ans.status != http.StatusNotFound {
		c.showWebhook(w, r, u, ref, max(ans.status, http.StatusBadRequest), p)
		return
	}
	c.showWebhooks(w, r, u, max(ans.status, http.StatusBadRequest), p, &webhooksData{})
}
