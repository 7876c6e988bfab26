package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/client"
)

func eventCommands() []Command {
	return []Command{
		{Name: "alerts get", Args: "ACCOUNT", Summary: "an account's thresholds and their state", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.GetAlerts(ctx, x.Arg(0)) },
			Print: text(printAlerts)},
		{Name: "alerts set", Args: "ACCOUNT", Summary: "set an account's thresholds (every one: a flag left out turns it off)", Admin: true,
			Help: "Alerts fire once, at the commit that crosses them, and re-arm (docs/events.md). A threshold whose\nsettings are unchanged keeps its state.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("low-below", "", "balance.low when available falls below this")
				fs.String("low-margin", "", "re-arm (balance.recovered) once available is above --low-below plus this")
				fs.Bool("depleted", false, "balance.depleted when available reaches 0")
				fs.Bool("monthly", false, "monthly_limit.reached at 80 % and 100 % of the monthly limit")
				fs.String("topup-below", "", "topup.requested when available falls below this")
				fs.String("topup-to", "", "the amount topup.requested asks for brings available to this")
				fs.Int("topup-max-per-day", 1, "at most this many topup.requested a UTC day")
			}),
			Call: alertsSet, Print: text(printAlerts)},
		{Name: "events", Summary: "the events feed, oldest first after a sequence (--follow: wait for new ones)", Admin: true,
			Help: "Prints the events after --after (a sequence; 0: the oldest kept). With --follow it long-polls for new\nevents until interrupted, then prints the sequence to resume after; while purse restarts or fails\nover it says so on standard error and asks again (after 1 s, doubling to 30 s). With --json each event\nis a JSON line, and so is the resume line ({\"next\":N}).",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.Int64("after", 0, "only events after this sequence")
				fs.String("types", "", "only these event types, comma-separated (entry.created, balance.low, ...)")
				fs.String("account", "", "only this account's events")
				fs.Bool("children", false, "with --account: its sub-accounts' events too")
				fs.Int("limit", 0, "events per page (default 100, at most 1000)")
				fs.Bool("follow", false, "keep waiting for new events until interrupted")
			}),
			Call: events, Print: printEvents},
		{Name: "webhooks create", Summary: "subscribe a URL to events (the signing secret is shown only once)", Admin: true,
			Help:  "Deliveries are signed as Standard Webhooks specifies; client.VerifyWebhook checks them (docs/events.md).",
			Flags: declare(webhookFlags),
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.CreateWebhook(ctx, webhookSettings(x)) },
			Print: text(printWebhook), ID: id(func(w client.Webhook) string { return w.ID }),
			Secret: id(func(w client.Webhook) string { return w.Secret })},
		{Name: "webhooks list", Summary: "list webhook subscriptions", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListWebhooks(ctx) },
			Print: text(printWebhooks)},
		{Name: "webhooks get", Args: "WEBHOOK_ID", Summary: "show a webhook subscription and its delivery state", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.GetWebhook(ctx, x.Arg(0)) },
			Print: text(printWebhook)},
		{Name: "webhooks update", Args: "WEBHOOK_ID", Summary: "change a subscription; --enable resumes a disabled one where it stopped", Admin: true,
			Flags: declare(webhookFlags, func(fs *flag.FlagSet) {
				fs.Bool("enable", false, "enable it (again)")
				fs.Bool("disable", false, "disable it")
			}),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				s := webhookSettings(x)
				if x.Bool("enable") || x.Bool("disable") {
					on := x.Bool("enable")
					s.Enabled = &on
				}
				return x.Client.UpdateWebhook(ctx, x.Arg(0), s)
			},
			Print: text(printWebhook)},
		{Name: "webhooks delete", Args: "WEBHOOK_ID", Summary: "remove a subscription and its delivery log", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]string{"deleted": x.Arg(0)}, x.Client.DeleteWebhook(ctx, x.Arg(0))
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "webhook %s deleted\n", m["deleted"]) })},
		{Name: "webhooks deliveries", Args: "WEBHOOK_ID", Summary: "a subscription's delivery log, newest first", Admin: true,
			Flags: declare(pageFlags("deliveries", "the oldest delivery")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.WebhookDeliveries(ctx, x.Arg(0), x.Str("cursor"), x.Int("limit"))
			},
			Print: text(printDeliveries)},
		{Name: "webhooks redeliver", Args: "WEBHOOK_ID", Summary: "deliver again every event after --after", Admin: true,
			Flags: declare(func(fs *flag.FlagSet) { fs.Int64("after", 0, "the sequence after which to deliver again") }),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.RedeliverWebhook(ctx, x.Arg(0), x.get("after").(int64))
			},
			Print: text(printWebhook)},
		{Name: "webhooks rotate-secret", Args: "WEBHOOK_ID", Summary: "give a subscription a new signing secret (shown only once)", Admin: true,
			Help: "The old secret signs deliveries beside the new one for --keep-previous, so the receiver can take\nthe new one up meanwhile; client.VerifyWebhook accepts either (docs/events.md).",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.Duration("keep-previous", 24*time.Hour, "how long the old secret signs too (whole seconds, at most 168h; 0: not at all)")
				fs.String("if-fingerprint", "", "rotate only if the secret in force has this fingerprint (webhooks get shows it)")
			}),
			Call:  rotateSecret,
			Print: text(printWebhook), ID: id(func(w client.Webhook) string { return w.ID }),
			Secret: id(func(w client.Webhook) string { return w.Secret })},
	}
}

// rotateSecret is webhooks rotate-secret: --keep-previous is checked here, so
// that the error names the flag.
func rotateSecret(ctx context.Context, x *Inv) (any, error) {
	keep := x.get("keep-previous").(time.Duration)
	if keep < 0 || keep > 7*24*time.Hour || keep%time.Second != 0 {
		return nil, Usagef("--keep-previous %v: want whole seconds from 0 to 168h", keep)
	}
	return x.Client.RotateWebhookSecret(ctx, x.Arg(0), client.WebhookRotation{KeepPrevious: keep, EndPrevious: keep == 0,
		IfSecretFingerprint: x.Str("if-fingerprint")})
}

func webhookFlags(fs *flag.FlagSet) {
	fs.String("url", "", "the receiver's http(s) URL")
	fs.Var(&multiFlag{}, "type", "an event type to deliver; repeat or comma-separate for several (default every type)")
	fs.String("account", "", "only this account's events")
	fs.Bool("children", false, "with --account: its sub-accounts' events too")
}

// webhookSettings are the settings the flags name.
func webhookSettings(x *Inv) client.WebhookSettings {
	var s client.WebhookSettings
	if v := x.Str("url"); v != "" {
		s.URL = &v
	}
	if t := x.list("type"); t != nil {
		s.Types = &t
	}
	if v := x.Str("account"); v != "" {
		s.AccountID = &v
	}
	if x.Bool("children") {
		on := true
		s.WithChildren = &on
	}
	return s
}

func printWebhook(w io.Writer, h client.Webhook) {
	types := "every type"
	if len(h.Types) > 0 {
		types = strings.Join(h.Types, ",")
	}
	tprintf(w, "id\t%s\nurl\t%s\ntypes\t%s\naccount\t%s\nenabled\t%t %s\ndelivered up to\t%d\nfailed attempts\t%d\nsecret fingerprint\t%s\n",
		h.ID, h.URL, types, h.AccountID, h.Enabled, h.DisabledReason, h.After, h.Attempts, h.SecretFingerprint)
	if h.PreviousSecretUntil != "" {
		tprintf(w, "previous secret\tsigns too until %s\n", h.PreviousSecretUntil)
	}
	if h.Secret != "" {
		tprintf(w, "secret\t%s\t(shown only now: keep it to verify deliveries)\n", h.Secret)
	}
}

func printWebhooks(w io.Writer, hs []client.Webhook) {
	fmt.Fprintln(w, "ID\tURL\tENABLED\tDELIVERED UP TO\tFAILED ATTEMPTS")
	for _, h := range hs {
		tprintf(w, "%s\t%s\t%t\t%d\t%d\n", h.ID, h.URL, h.Enabled, h.After, h.Attempts)
	}
}

func printDeliveries(w io.Writer, p client.DeliveryPage) {
	fmt.Fprintln(w, "AT\tEVENT\tSEQUENCE\tATTEMPT\tSTATUS\tLATENCY MS\tOK\tRESPONSE")
	for _, d := range p.Deliveries {
		tprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%t\t%s\n", d.At, d.EventID, d.EventSequence, d.Attempt, d.Status, d.LatencyMs, d.OK, d.Response)
	}
	printNext(w, p.NextCursor)
}

// followed is what purse events --follow ends with: where to resume; under
// --json one line, as the events before it.
type followed struct {
	Next int64 `json:"next"`
}

func (followed) jsonLine() {}

// followRetryMax is the longest --follow waits before asking again after purse
// failed to answer (restarting, or failing over to another node).
const followRetryMax = 30 * time.Second

func events(ctx context.Context, x *Inv) (any, error) {
	q := client.EventQuery{After: x.get("after").(int64), Account: x.Str("account"), Children: x.Bool("children"), Limit: x.Int("limit")}
	if t := x.Str("types"); t != "" {
		q.Types = strings.Split(t, ",")
	}
	if !x.Bool("follow") {
		return x.Client.Events(ctx, q)
	}
	q.Wait = 25 * time.Second
	retry := time.Second
	for {
		page, err := x.Client.Events(ctx, q)
		if ctx.Err() != nil {
			return followed{Next: q.After}, nil // interrupted: say where to resume
		}
		var ce *client.Error
		if errors.As(err, &ce) && ce.StatusCode < 500 { // asking again gets the same answer
			return nil, fmt.Errorf("%w (resume with --after %d)", err, q.After)
		}
		if err != nil { // purse restarting or failing over: the cursor holds on every node
			fmt.Fprintf(x.Stderr, "purse: %v; asking again in %s, after %d\n", err, retry, q.After)
			select {
			case <-ctx.Done():
				return followed{Next: q.After}, nil
			case <-time.After(retry):
			}
			retry = min(2*retry, followRetryMax)
			continue
		}
		retry = time.Second
		for _, ev := range page.Events {
			if err := printFollowed(x, ev); err != nil {
				return nil, err
			}
		}
		q.After = page.Next
	}
}

// printFollowed prints one event as it arrives: a JSON line with --json, else a
// line of text.
func printFollowed(x *Inv, ev client.Event) error {
	if x.Bool("json") {
		b, err := json.Marshal(ev)
		if err == nil {
			_, err = fmt.Fprintf(x.Stdout, "%s\n", b)
		}
		return err
	}
	_, err := fmt.Fprintf(x.Stdout, "%d\t%s\t%s\t%s\t%s\t%s\n", ev.Sequence, ev.At, term(ev.Type), term(ev.AccountID), term(ev.ID), term(string(ev.Data)))
	return err
}

func printEvents(w io.Writer, v any) {
	switch v := v.(type) {
	case client.EventPage:
		fmt.Fprintln(w, "SEQUENCE\tAT\tTYPE\tACCOUNT\tID\tDATA")
		for _, ev := range v.Events {
			tprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", ev.Sequence, ev.At, ev.Type, ev.AccountID, ev.ID, string(ev.Data))
		}
		tprintf(w, "next: --after %d\n", v.Next)
	case followed:
		tprintf(w, "stopped; resume with --after %d\n", v.Next)
	}
}

func alertsSet(ctx context.Context, x *Inv) (any, error) {
	s := client.AlertSettings{Depleted: x.Bool("depleted"), MonthlyLimit: x.Bool("monthly")}
	if below := x.Str("low-below"); below != "" || x.Str("low-margin") != "" {
		s.LowBalance = &client.LowBalance{Below: below, Margin: x.Str("low-margin")}
	}
	if below, to := x.Str("topup-below"), x.Str("topup-to"); below != "" || to != "" {
		if n := x.Int("topup-max-per-day"); n < 1 { // the client's 0 means the default, 1
			return nil, Usagef("--topup-max-per-day must be a whole number from 1 to 1000")
		}
		s.AutoTopUp = &client.AutoTopUp{Below: below, TopUpTo: to, MaxPerDay: x.Int("topup-max-per-day")}
	}
	return x.Client.SetAlerts(ctx, x.Arg(0), s)
}

func printAlerts(w io.Writer, a client.Alerts) {
	low, top := "off", "off"
	if a.LowBalance != nil {
		low = "below " + a.LowBalance.Below + ", re-arm above it plus " + a.LowBalance.Margin + " (" + a.State.LowBalance + ")"
	}
	if a.AutoTopUp != nil {
		top = "below " + a.AutoTopUp.Below + ", up to " + a.AutoTopUp.TopUpTo + ", at most " + strconv.Itoa(a.AutoTopUp.MaxPerDay) +
			" a UTC day (" + a.State.AutoTopUp + ")"
	}
	onOff := func(on bool, state string) string {
		if !on {
			return "off"
		}
		return "on (" + state + ")"
	}
	tprintf(w, "account\t%s\nlow balance\t%s\ndepleted\t%s\nmonthly limit\t%s\nauto top-up\t%s\ntop-ups requested today\t%d\n",
		a.AccountID, low, onOff(a.Depleted, a.State.Depleted), onOff(a.MonthlyLimit, "highest fired: "+strconv.Itoa(a.State.MonthlyLimit)+" %"),
		top, a.State.TopUpsToday)
}
