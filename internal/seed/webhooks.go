package seed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Webhook is a webhook subscription with a fixed signing secret, so that the
// receiver under test can be configured with it beforehand. A fixed secret is
// one written in a file: like passwords and API keys, it is allowed only with
// --demo or --emulator.
type Webhook struct {
	// ID is the subscription's id: "whk_" then letters, digits, '_' or '-'.
	ID  string `json:"id"`
	URL string `json:"url"`
	// Types are the event types it wants; none: every type.
	Types []string `json:"types,omitempty"`
	// Account, when set, limits it to one account of the file (and, with
	// WithChildren, that account's sub-accounts).
	Account      string `json:"account,omitempty"`
	WithChildren bool   `json:"withChildren,omitempty"`
	// Secret is the Standard Webhooks signing secret: "whsec_" and the base64 of
	// 24 to 64 random bytes.
	Secret string `json:"secret"`
}

// checkWebhooks validates the file's webhooks against its accounts.
func (f *File) checkWebhooks() error {
	accounts := map[string]bool{}
	for _, a := range f.Accounts {
		accounts[a.ID] = true
	}
	ids := map[string]bool{}
	for i, w := range f.Webhooks {
		at := fmt.Sprintf("webhooks[%d]", i)
		if err := checkWebhook(w, accounts); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if ids[w.ID] {
			return fmt.Errorf("%s: id %s is given twice", at, w.ID)
		}
		ids[w.ID] = true
	}
	return nil
}

func checkWebhook(w Webhook, accounts map[string]bool) error {
	if !validID(w.ID, "whk_") {
		return fmt.Errorf(`id %q: want "whk_" then up to 60 letters, digits, '_' or '-'`, w.ID)
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(w.URL) > 2048 {
		return fmt.Errorf("url %q: want an absolute http or https URL with a host and no credentials", w.URL)
	}
	for _, t := range w.Types {
		if !ledger.ValidEventType(t) {
			return fmt.Errorf("types: unknown event type %q (docs/events.md lists them)", t)
		}
	}
	switch {
	case w.Account != "" && !accounts[w.Account]:
		return fmt.Errorf("account %q is not an account of the file", w.Account)
	case w.WithChildren && w.Account == "":
		return errors.New("withChildren needs an account (a parent account)")
	}
	raw, ok := strings.CutPrefix(w.Secret, "whsec_")
	b, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(b) < 24 || len(b) > 64 {
		return errors.New(`secret: want "whsec_" and the base64 of 24 to 64 random bytes (openssl rand -base64 32)`)
	}
	return nil
}

// ensureWebhook creates a subscription the store lacks. One already there is
// left as it is (its customer's or operator's changes since are kept, a
// rotated secret among them), unless its secret differs from the file's and
// was never rotated, which is an error: another subscription has the id, and
// the file's receiver would reject every delivery.
func ensureWebhook(ctx context.Context, w Webhook, store Store, now time.Time, n *Applied) error {
	have, err := store.Subscription(ctx, w.ID)
	switch {
	case err == nil && have.Secret != w.Secret && have.PreviousUntil.IsZero():
		return errors.New("exists with another secret; delete it or give the new one another id")
	case err == nil:
		return nil
	case !errors.Is(err, ledger.ErrNotFound):
		return err
	}
	s := ledger.Subscription{ID: w.ID, URL: w.URL, AccountID: w.Account, WithChildren: w.WithChildren, Secret: w.Secret,
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	for _, t := range w.Types {
		s.Types = append(s.Types, ledger.EventType(t))
	}
	// Like a subscription made on the admin API, it hears what happens from now
	// on (the feed has the past).
	if s.Cursor, err = store.LastEventSeq(ctx); err != nil {
		return err
	}
	if err := store.CreateSubscription(ctx, s); err != nil {
		return err
	}
	n.Webhooks++
	return nil
}
