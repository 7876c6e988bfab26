package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Webhook subscriptions (docs/events.md). A signing secret is made here and
// returned once, by the POST that creates the subscription or the one that
// rotates its secret; no other answer carries it, only its fingerprint.

type subscriptionJSON struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Types          []string `json:"types"`
	AccountID      string   `json:"accountId,omitempty"`
	WithChildren   bool     `json:"withChildren"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason,omitempty"`
	After          int64    `json:"after"` // the last event delivered
	Attempts       int      `json:"attempts"`
	FailingSince   string   `json:"failingSince,omitempty"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
	Secret         string   `json:"secret,omitempty"` // on creation and rotation only
	// SecretFingerprint names the secret in force without revealing it: a
	// rotation can be made conditional on it, and an operator can tell which
	// secret a receiver holds.
	SecretFingerprint string `json:"secretFingerprint"`
	// PreviousSecretUntil is when the secret a rotation replaced stops signing
	// deliveries beside the new one (omitted: none does).
	PreviousSecretUntil string `json:"previousSecretUntil,omitempty"`
}

// subscriptionJSON is a subscription as the API answers it, without its secrets.
func (a *API) subscriptionJSON(s ledger.Subscription) subscriptionJSON {
	out := subscriptionJSON{ID: s.ID, URL: s.URL, Types: []string{}, AccountID: s.AccountID, WithChildren: s.WithChildren, Enabled: s.Enabled,
		DisabledReason: s.DisabledReason, After: s.Cursor, Attempts: s.Attempts, CreatedAt: ts(s.CreatedAt), UpdatedAt: ts(s.UpdatedAt),
		SecretFingerprint: secretFingerprint(s.Secret)}
	for _, t := range s.Types {
		out.Types = append(out.Types, string(t))
	}
	if !s.FailingSince.IsZero() {
		out.FailingSince = ts(s.FailingSince)
	}
	if s.PreviousSecret != "" && s.PreviousUntil.After(a.cfg.Engine.Now()) {
		out.PreviousSecretUntil = ts(s.PreviousUntil)
	}
	return out
}

type subscriptionRequest struct {
	URL          *string   `json:"url"`
	Types        *[]string `json:"types"`
	AccountID    *string   `json:"accountId"`
	WithChildren *bool     `json:"withChildren"`
	Enabled      *bool     `json:"enabled"`
}

// apply checks the request's fields and sets them on s.
func (a *API) applySubscription(r *http.Request, req subscriptionRequest, s *ledger.Subscription) error {
	v := &ledger.ValidationError{}
	if req.URL != nil {
		if err := a.checkWebhookURL(r, *req.URL); err != "" {
			v.Add("url", err)
		}
		s.URL = *req.URL
	}
	if req.Types != nil {
		s.Types = nil
		for _, t := range *req.Types {
			if !ledger.ValidEventType(t) {
				v.Add("types", "has an unknown event type "+strconv.Quote(t))
				continue
			}
			s.Types = append(s.Types, ledger.EventType(t))
		}
	}
	if req.AccountID != nil {
		if *req.AccountID != "" {
			if _, err := a.customer(*req.AccountID); err != nil {
				v.Add("accountId", "is not an account")
			}
		}
		s.AccountID = *req.AccountID
	}
	if req.WithChildren != nil {
		s.WithChildren = *req.WithChildren
	}
	if s.WithChildren && s.AccountID == "" {
		v.Add("withChildren", "needs an accountId (a parent account)")
	}
	if req.Enabled != nil {
		s.Enabled = *req.Enabled
	}
	return v.Err()
}

// checkWebhookURL says what is wrong with a webhook URL, "" when nothing: it
// must be absolute http(s) with a host, and must not resolve to this admin
// listener (a subscription would then call the admin API with purse's own
// deliveries).
func (a *API) checkWebhookURL(r *http.Request, raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http or https URL"
	case u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not carry credentials"
	}
	if a.isSelf(r, u) {
		return "resolves to purse's own admin listener"
	}
	return ""
}

// isSelf reports whether u's host and port reach the listener r came in on.
func (a *API) isSelf(r *http.Request, u *url.URL) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	self, ok := local.(*net.TCPAddr)
	if !ok {
		return false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if port != strconv.Itoa(self.Port) {
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, u.Hostname())
	if err != nil {
		return false
	}
	for _, ip := range ips {
		if ip.IP.Equal(self.IP) || ip.IP.IsLoopback() || ip.IP.IsUnspecified() || isLocalAddress(ip.IP) {
			return true
		}
	}
	return false
}

// isLocalAddress reports whether ip is one of this machine's addresses.
func isLocalAddress(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, addr := range addrs {
		if n, ok := addr.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func newSigningSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req subscriptionRequest
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.URL == nil {
		a.fail(w, r, ledger.Invalid("url", "is required"))
		return
	}
	now := a.cfg.Engine.Now().UTC()
	s := ledger.Subscription{ID: ledger.NewID("whk"), Enabled: true, Secret: newSigningSecret(), CreatedAt: now, UpdatedAt: now}
	if err := a.applySubscription(r, req, &s); err != nil {
		a.fail(w, r, err)
		return
	}
	// A new subscription starts at the newest event: it is told what happens from
	// now on (the feed has the past, and redeliver replays it).
	last, err := a.cfg.Events.LastEventSeq(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s.Cursor = last
	if err := a.cfg.Webhooks.CreateSubscription(r.Context(), s); err != nil {
		a.fail(w, r, err)
		return
	}
	a.replyWithSecret(w, http.StatusCreated, s)
}

// replyWithSecret answers the subscription with its signing secret: the
// answers that make a secret, and no other, carry it, kept out of caches.
func (a *API) replyWithSecret(w http.ResponseWriter, status int, s ledger.Subscription) {
	out := a.subscriptionJSON(s)
	out.Secret = s.Secret
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, status, out)
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := a.cfg.Webhooks.ListSubscriptions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Webhooks []subscriptionJSON `json:"webhooks"`
	}{Webhooks: []subscriptionJSON{}}
	for _, s := range subs {
		out.Webhooks = append(out.Webhooks, a.subscriptionJSON(s))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := a.cfg.Webhooks.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, a.subscriptionJSON(s))
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request) {
	var req subscriptionRequest
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.cfg.Webhooks.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	wasEnabled := s.Enabled
	if err := a.applySubscription(r, req, &s); err != nil {
		a.fail(w, r, err)
		return
	}
	reset := s.Enabled && !wasEnabled // enabled again: its failures are forgiven, delivery resumes at its cursor
	if reset {
		s.Attempts, s.FailingSince, s.DisabledReason = 0, time.Time{}, ""
	}
	s.UpdatedAt = a.cfg.Engine.Now().UTC()
	if err := a.cfg.Webhooks.UpdateSubscription(r.Context(), s, reset); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, a.subscriptionJSON(s))
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Webhooks.DeleteSubscription(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// redeliverWebhook moves the subscription's cursor back to after= (a sequence):
// every event after it is delivered again, with its own webhook-id.
func (a *API) redeliverWebhook(w http.ResponseWriter, r *http.Request) {
	var req struct {
		After *int64 `json:"after"`
	}
	if _, err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.After == nil || *req.After < 0 {
		a.fail(w, r, ledger.Invalid("after", "is required: the sequence after which to deliver again, 0 or more"))
		return
	}
	s, err := a.cfg.Webhooks.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s.Cursor, s.Attempts, s.FailingSince = *req.After, 0, time.Time{}
	s.UpdatedAt = a.cfg.Engine.Now().UTC()
	if err := a.cfg.Webhooks.UpdateSubscription(r.Context(), s, true); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, a.subscriptionJSON(s))
}

// maxKeepPrevious bounds how long a rotated-out secret keeps signing: a week is
// time enough to roll a receiver's configuration out, and a leaked secret that
// was rotated away should not stay good for longer.
const maxKeepPrevious = 7 * 24 * 60 * 60

// secretFingerprint is the first 16 hex digits of the secret's SHA-256: enough
// to tell secrets apart, nothing towards finding one (each is 32 random bytes).
func secretFingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

// rotateWebhookSecret gives the subscription a new signing secret, answered
// once. The one it replaces keeps signing deliveries beside it (a second
// signature in webhook-signature) for keepPreviousFor seconds [a day; 0: not at
// all], so a receiver switches to the new one without refusing a delivery.
// With ifSecretFingerprint it rotates only the secret that fingerprint names,
// else 409: a form sent twice (a reload, a second click) must not rotate again
// and end the overlap of the secret the receiver still holds.
func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	var req struct {
		KeepPreviousFor     *int64  `json:"keepPreviousFor"`
		IfSecretFingerprint *string `json:"ifSecretFingerprint"`
	}
	if err := decodeOptional(r, &req); err != nil { // no body: the defaults
		a.fail(w, r, err)
		return
	}
	keep := int64(24 * 60 * 60)
	if req.KeepPreviousFor != nil {
		keep = *req.KeepPreviousFor
	}
	if keep < 0 || keep > maxKeepPrevious {
		a.fail(w, r, ledger.Invalid("keepPreviousFor", "must be seconds from 0 to 604800 (7 days)"))
		return
	}
	ifSecret, err := a.secretNamed(r, req.IfSecretFingerprint)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := a.cfg.Engine.Now().UTC()
	s, err := a.cfg.Webhooks.RotateSecret(r.Context(), r.PathValue("id"), ifSecret, newSigningSecret(), now.Add(time.Duration(keep)*time.Second), now)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.replyWithSecret(w, http.StatusOK, s)
}

// fingerprintRe is what secretFingerprint makes.
var fingerprintRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// secretNamed is the subscription's secret when fingerprint names it ("" when
// no fingerprint is given), and a 409 when it names another.
func (a *API) secretNamed(r *http.Request, fingerprint *string) (string, error) {
	if fingerprint == nil {
		return "", nil
	}
	if !fingerprintRe.MatchString(*fingerprint) {
		return "", ledger.Invalid("ifSecretFingerprint", "must be 16 lowercase hex digits, as secretFingerprint reads")
	}
	s, err := a.cfg.Webhooks.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if secretFingerprint(s.Secret) != *fingerprint {
		return "", &ledger.ConflictError{Reason: "its signing secret does not have the fingerprint " + strconv.Quote(*fingerprint) +
			": it was rotated since it was read, or the fingerprint is another's; nothing was changed"}
	}
	return s.Secret, nil
}

type deliveryJSON struct {
	Sequence  int64  `json:"sequence"`
	EventID   string `json:"eventId"`
	EventSeq  int64  `json:"eventSequence"`
	Attempt   int    `json:"attempt"`
	At        string `json:"at"`
	Status    int    `json:"status"` // 0: no answer
	LatencyMs int64  `json:"latencyMs"`
	OK        bool   `json:"ok"`
	Response  string `json:"response"`
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, pos, err := page(r, "d")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	before, _ := strconv.ParseInt(pos, 10, 64)
	if _, err := a.cfg.Webhooks.Subscription(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	ds, err := a.cfg.Webhooks.ListDeliveries(r.Context(), r.PathValue("id"), before, limit+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Deliveries []deliveryJSON `json:"deliveries"`
		NextCursor string         `json:"nextCursor,omitempty"`
	}{Deliveries: []deliveryJSON{}}
	if len(ds) > limit {
		ds = ds[:limit]
		out.NextCursor = encodeCursor("d", strconv.FormatInt(ds[limit-1].Seq, 10))
	}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, deliveryJSON{Sequence: d.Seq, EventID: d.EventID, EventSeq: d.EventSeq, Attempt: d.Attempt,
			At: ts(d.At), Status: d.Status, LatencyMs: d.Latency.Milliseconds(), OK: d.OK, Response: d.Snippet})
	}
	a.reply(w, http.StatusOK, out)
}

// needWebhooks answers 503 when the API has no webhook store.
func (a *API) needWebhooks(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Webhooks == nil || a.cfg.Events == nil {
			a.fail(w, r, ledger.ErrUnavailable)
			return
		}
		h(w, r)
	}
}
