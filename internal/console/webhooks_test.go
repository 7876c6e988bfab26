package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/testkit"
)

var webhookIDRe = regexp.MustCompile(`href="/console/webhooks/(whk_[0-9a-z]+)"`)

// TestWebhooksHTTP: an admin creates a subscription from the Webhooks page and
// sees its signing secret once; a real receiver over loopback gets the account's
// events and the subscription's page shows the delivery log; disable, enable,
// redeliver and delete (the last two after a confirmation); bad input beside
// its field; an operator and a viewer read but are refused changes (403), and
// a cross-site or token-less post is refused.
func TestWebhooksHTTP(t *testing.T) {
	s := testkit.New(t)
	addOperator(s, "ann", "admin")
	addOperator(s, "olga", "operator")
	addOperator(s, "vic", "viewer")
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.Write([]byte("thanks <b>receiver</b>"))
	}))
	defer rcv.Close()
	id := s.CreateAccount("Hooked", "EUR")
	ann := newBrowser(t, s)
	ann.login("ann", "ann-password")
	st, _, page := ann.do("GET", "/console/webhooks", nil, nil)
	if st != http.StatusOK || !strings.Contains(page, `id="webhooks-link"`) || !strings.Contains(page, `id="webhook-form"`) {
		t.Fatalf("webhooks page: %d, link and form shown: %v", st, strings.Contains(page, `id="webhook-form"`))
	}
	csrf := find(t, csrfRe, page)
	create := func(b *browser, csrf string, kv ...string) (int, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		st, _, body := b.do("POST", "/console/webhooks/create", f, nil)
		return st, body
	}

	for _, tt := range []struct {
		name  string
		kv    []string
		errID string
	}{
		{"not http", []string{"url", "ftp://example.com/x"}, "webhook-url-error"},
		{"credentials in the URL", []string{"url", "http://u:p@example.com/x"}, "webhook-url-error"},
		{"unknown account", []string{"url", rcv.URL, "account_id", "acc_nope"}, "webhook-account-error"},
		{"sub-accounts without an account", []string{"url", rcv.URL, "with_children", "on"}, "webhook-children-error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, body := create(ann, csrf, tt.kv...)
			if st != http.StatusBadRequest || !strings.Contains(body, `id="`+tt.errID+`"`) {
				t.Errorf("%d, field error %s shown: %v", st, tt.errID, strings.Contains(body, tt.errID))
			}
			if !strings.Contains(body, `value="`+tt.kv[1]+`"`) {
				t.Errorf("the typed URL is not shown again")
			}
			if webhookIDRe.MatchString(body) {
				t.Errorf("a refused form made a subscription")
			}
		})
	}

	st, page = create(ann, csrf, "url", rcv.URL+"/hook", "types", "entry.created", "types", "balance.low", "account_id", id)
	secret := regexp.MustCompile(`id="webhook-secret">(whsec_[^<]+)<`).FindStringSubmatch(page)
	if st != http.StatusCreated || secret == nil {
		t.Fatalf("create: %d, secret shown: %v", st, secret != nil)
	}
	wid := find(t, webhookIDRe, page)
	_, _, page = ann.do("GET", "/console/webhooks", nil, nil)
	if strings.Contains(page, secret[1]) || strings.Contains(page, "whsec_") {
		t.Errorf("the secret is shown again")
	}
	if !strings.Contains(page, "<code>entry.created</code> <code>balance.low</code>") || !strings.Contains(page, ">enabled<") {
		t.Errorf("the list does not show the types and the status")
	}

	s.MustAdmin(http.StatusCreated, "POST", "/v1/accounts/"+id+"/top-ups", `{"amount":"10"}`, map[string]string{"Idempotency-Key": "wh-1"})
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, _, page = ann.do("GET", "/console/webhooks/"+wid, nil, nil)
		if strings.Contains(page, "✔ delivered, HTTP 200") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(page, "✔ delivered, HTTP 200") || !strings.Contains(page, "thanks &lt;b&gt;receiver&lt;/b&gt;") || got.Load() == 0 {
		t.Fatalf("the delivery log does not show the delivery (%d received)", got.Load())
	}

	// Others read, and are refused changes by the API.
	for _, name := range []string{"olga", "vic"} {
		b := newBrowser(t, s)
		b.login(name, name+"-password")
		st, _, p := b.do("GET", "/console/webhooks/"+wid, nil, nil)
		if st != http.StatusOK || strings.Contains(p, `id="redeliver-form"`) || strings.Contains(p, `id="rotate-form"`) || !strings.Contains(p, "✔ delivered") {
			t.Errorf("%s's webhook page: %d, redeliver form shown: %v", name, st, strings.Contains(p, `id="redeliver-form"`))
		}
		_, _, p = b.do("GET", "/console/webhooks", nil, nil)
		if strings.Contains(p, `id="webhook-form"`) || !strings.Contains(p, wid) {
			t.Errorf("%s sees the create form, or not the subscription", name)
		}
		c := find(t, csrfRe, p)
		if st, _ := create(b, c, "url", rcv.URL); st != http.StatusForbidden {
			t.Errorf("%s's create: %d, want 403", name, st)
		}
		for _, action := range []string{"disable", "delete", "redeliver", "rotate"} {
			if st, _, _ := b.do("POST", "/console/webhooks/"+action, url.Values{"csrf": {c}, "ref": {wid}, "after": {"0"}, "keep_hours": {"1"}, "confirm": {"yes"}}, nil); st != http.StatusForbidden {
				t.Errorf("%s's %s: %d, want 403", name, action, st)
			}
		}
	}
	if st, _, _ := ann.do("POST", "/console/webhooks/disable", url.Values{"csrf": {csrf}, "ref": {wid}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
		t.Errorf("cross-site disable: %d, want 403", st)
	}
	if st, _, _ := ann.do("POST", "/console/webhooks/disable", url.Values{"ref": {wid}}, nil); st != http.StatusForbidden {
		t.Errorf("disable without the CSRF token: %d, want 403", st)
	}
	if _, _, p := ann.do("GET", "/console/webhooks", nil, nil); !strings.Contains(p, ">enabled<") {
		t.Fatalf("a refused post changed the subscription")
	}

	if st, _, _ := ann.do("POST", "/console/webhooks/disable", url.Values{"csrf": {csrf}, "ref": {wid}}, nil); st != http.StatusSeeOther {
		t.Fatalf("disable: %d", st)
	}
	if _, _, p := ann.do("GET", "/console/webhooks", nil, nil); !strings.Contains(p, ">disabled<") || !strings.Contains(p, "/console/webhooks/enable") {
		t.Errorf("the list does not show it disabled")
	}
	if st, _, _ := ann.do("POST", "/console/webhooks/enable", url.Values{"csrf": {csrf}, "ref": {wid}}, nil); st != http.StatusSeeOther {
		t.Fatalf("enable: %d", st)
	}

	if st, _, p := ann.do("POST", "/console/webhooks/redeliver", url.Values{"csrf": {csrf}, "ref": {wid}, "after": {"soon"}}, nil); st != http.StatusBadRequest || !strings.Contains(p, `id="redeliver-after-error"`) || !strings.Contains(p, `value="soon"`) {
		t.Errorf("a bad redeliver: %d, field error shown: %v", st, strings.Contains(p, "redeliver-after-error"))
	}
	before := got.Load()
	st, _, p := ann.do("POST", "/console/webhooks/redeliver", url.Values{"csrf": {csrf}, "ref": {wid}, "after": {"0"}}, nil)
	if st != http.StatusOK || !strings.Contains(p, `id="confirm"`) || got.Load() != before {
		t.Fatalf("redeliver asks no confirmation: %d", st)
	}
	if st, _, _ := ann.do("POST", "/console/webhooks/redeliver", url.Values{"csrf": {csrf}, "ref": {wid}, "after": {"0"}, "confirm": {"yes"}}, nil); st != http.StatusSeeOther {
		t.Fatalf("confirmed redeliver: %d", st)
	}
	for deadline := time.Now().Add(15 * time.Second); got.Load() == before && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got.Load() == before {
		t.Errorf("nothing was delivered again")
	}

	// Rotating the signing secret: a bad overlap beside its field, a confirmation,
	// then the new secret shown once on the subscription's page.
	if st, _, p := ann.do("POST", "/console/webhooks/rotate", url.Values{"csrf": {csrf}, "ref": {wid}, "keep_hours": {"200"}}, nil); st != http.StatusBadRequest || !strings.Contains(p, `id="rotate-keep-error"`) {
		t.Errorf("a bad rotation: %d, field error shown: %v", st, strings.Contains(p, "rotate-keep-error"))
	}
	_, _, p = ann.do("GET", "/console/webhooks/"+wid, nil, nil)
	fp := find(t, regexp.MustCompile(`id="webhook-fingerprint">([0-9a-f]{16})<`), p)
	rotate := url.Values{"csrf": {csrf}, "ref": {wid}, "keep_hours": {"2"}, "if_fingerprint": {fp}}
	if st, _, p := ann.do("POST", "/console/webhooks/rotate", rotate, nil); st != http.StatusOK || !strings.Contains(p, `id="confirm"`) || !strings.Contains(p, fp) {
		t.Fatalf("rotate asks no confirmation, or its form drops the fingerprint: %d", st)
	}
	rotate.Set("confirm", "yes")
	st, _, p = ann.do("POST", "/console/webhooks/rotate", rotate, nil)
	if st != http.StatusOK || !regexp.MustCompile(`id="webhook-secret">whsec_[^<]{40,}<`).MatchString(p) || !strings.Contains(p, `id="webhook-previous-secret"`) {
		t.Fatalf("confirmed rotation: %d, new secret shown: %v", st, strings.Contains(p, "webhook-secret"))
	}
	if _, _, p := ann.do("GET", "/console/webhooks/"+wid, nil, nil); strings.Contains(p, "webhook-secret") || !strings.Contains(p, `id="webhook-previous-secret"`) {
		t.Errorf("the webhook page after a rotation shows the secret again, or not the old one's end")
	}
	// The same confirmed form again (a reload, a second click) rotates nothing.
	if st, _, p := ann.do("POST", "/console/webhooks/rotate", rotate, nil); st != http.StatusConflict || !strings.Contains(p, "rotated since") || strings.Contains(p, "webhook-secret") {
		t.Errorf("the rotation sent twice: %d, refused with the reason: %v", st, strings.Contains(p, "rotated since"))
	}

	if st, _, p := ann.do("POST", "/console/webhooks/delete", url.Values{"csrf": {csrf}, "ref": {wid}}, nil); st != http.StatusOK || !strings.Contains(p, `id="confirm"`) {
		t.Fatalf("delete asks no confirmation: %d", st)
	}
	if _, _, p := ann.do("GET", "/console/webhooks", nil, nil); !strings.Contains(p, wid) {
		t.Fatalf("deleted before the confirmation")
	}
	if st, _, _ := ann.do("POST", "/console/webhooks/delete", url.Values{"csrf": {csrf}, "ref": {wid}, "confirm": {"yes"}}, nil); st != http.StatusSeeOther {
		t.Fatalf("confirmed delete: %d", st)
	}
	if _, _, p := ann.do("GET", "/console/webhooks", nil, nil); strings.Contains(p, wid) {
		t.Errorf("still listed after the delete")
	}
	if st, _, _ := ann.do("GET", "/console/webhooks/"+wid, nil, nil); st != http.StatusNotFound {
		t.Errorf("a deleted subscription's page: %d, want 404", st)
	}
}
