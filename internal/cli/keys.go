package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/purse-ledger/purse/client"
)

// The rows of issue 15: API key restrictions on the admin API (api-keys create's
// extra flags, api-keys update) and a customer's audit log over the Infobip API
// (audit-logs --url).

// keyRuleFlags declares an API key's restrictions.
func keyRuleFlags(update bool) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.Var(&multiFlag{}, "allowed-ip", "address or CIDR range (IPv4, IPv6) the key may be used from; repeat for several (default: any)")
		clear := ""
		if update {
			clear = `; "none" clears it`
		}
		fs.String("valid-from", "", "the key is refused before this RFC 3339 time"+clear)
		fs.String("valid-to", "", "the key is refused from this RFC 3339 time on"+clear)
		fs.Bool("disabled", false, "the key is refused like a wrong one until enabled")
		if update {
			fs.Bool("enabled", false, "enable a disabled key")
			fs.Bool("any-ip", false, "drop the key's address list: usable from any address")
		}
	}
}

// keyRules reads the restriction flags given.
func keyRules(x *Inv, update bool) (client.APIKeyRules, error) {
	var r client.APIKeyRules
	if ips := x.list("allowed-ip"); ips != nil {
		r.AllowedIPs = &ips
	}
	for _, t := range []struct {
		flag string
		dst  **string
	}{{"valid-from", &r.ValidFrom}, {"valid-to", &r.ValidTo}} {
		v := x.Str(t.flag)
		switch {
		case v == "":
			continue
		case update && v == "none":
			v = ""
		default:
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return r, Usagef("--%s %q: want an RFC 3339 time such as 2026-12-31T00:00:00Z", t.flag, v)
			}
		}
		*t.dst = &v
	}
	if x.Bool("disabled") {
		r.Disabled = ptrTo(true)
	}
	if !update {
		return r, nil
	}
	if x.Bool("enabled") {
		if r.Disabled != nil {
			return r, Usagef("--enabled and --disabled contradict each other")
		}
		r.Disabled = ptrTo(false)
	}
	if x.Bool("any-ip") {
		if r.AllowedIPs != nil {
			return r, Usagef("--any-ip and --allowed-ip contradict each other")
		}
		r.AllowedIPs = &[]string{}
	}
	return r, nil
}

func ptrTo[T any](v T) *T { return &v }

func apiKeysCreate(ctx context.Context, x *Inv) (any, error) {
	rules, err := keyRules(x, false)
	if err != nil {
		return nil, err
	}
	return x.Client.CreateAPIKeyWith(ctx, x.Arg(0), x.Str("name"), x.list("scope"), rules)
}

func apiKeysUpdate(ctx context.Context, x *Inv) (any, error) {
	rules, err := keyRules(x, true)
	if err != nil {
		return nil, err
	}
	return x.Client.UpdateAPIKey(ctx, x.Arg(0), x.Arg(1), x.Str("name"), x.list("scope"), rules)
}

func printKeyRules(w io.Writer, k client.APIKey) {
	if len(k.AllowedIPs) > 0 {
		tprintf(w, "allowed ips\t%s\n", strings.Join(k.AllowedIPs, " "))
	}
	if k.ValidFrom != "" {
		tprintf(w, "valid from\t%s\n", k.ValidFrom)
	}
	if k.ValidTo != "" {
		tprintf(w, "valid to\t%s\n", k.ValidTo)
	}
	if k.Disabled {
		fmt.Fprintln(w, "disabled\tyes")
	}
}

func printUpdatedAPIKey(w io.Writer, k client.APIKey) {
	tprintf(w, "id\t%s\nname\t%s\nscopes\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, " "))
	printKeyRules(w, k)
}

// keyCommands are the rows added beside api-keys create/list/revoke.
func keyCommands() []Command {
	return []Command{
		{Name: "api-keys update", Args: "ACCOUNT KEY_ID", Summary: "change an API key's name, scopes, allowed addresses, validity or state", Admin: true,
			Help: "Only the flags given change; the change takes effect on every node at once. --scope replaces the scopes.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "a new name")
				fs.Var(&multiFlag{}, "scope", "scope the key carries; repeat for several (replaces the key's)")
			}, keyRuleFlags(true)),
			Call: apiKeysUpdate, Print: text(printUpdatedAPIKey)},
		{Name: "audit-logs", Summary: "your own account's audit log, as a customer reads it (Infobip API)", Admin: true,
			Help: "purse audit-logs --url URL (--username U --password P | --api-key K) reads /audit/1/logs: logins,\n" +
				"logouts and API key changes of the account and its sub-accounts, oldest first. The credential needs\n" +
				"audit-logs:read and account-management:manage. --csv prints /audit/1/logs/export instead.",
			Flags: func(fs *flag.FlagSet, e Env) {
				fs.String("url", EnvOr(e, "PURSE_URL", ""), "Infobip-compatible base URL, such as http://localhost:8080 (env PURSE_URL)")
				fs.String("username", "", "Basic user")
				fs.String("password", EnvOr(e, "PURSE_PASSWORD", ""), "Basic password (env PURSE_PASSWORD)")
				fs.String("api-key", EnvOr(e, "PURSE_API_KEY", ""), "API key (env PURSE_API_KEY)")
				fs.String("action", "", "only this action (Login, Logout, Create, Update, ...)")
				fs.String("item", "", "only this item (User, ApiKey, Account, ...)")
				fs.String("ip", "", "only records made from this address")
				fs.String("user", "", "only records of this user")
				fs.String("description", "", "only records whose description contains this")
				fs.String("from", "", "only records at or after this RFC 3339 time")
				fs.String("to", "", "only records before this RFC 3339 time")
				fs.Int("limit", 0, "at most this many records (1-10000; default 10000)")
				fs.Bool("csv", false, "print the CSV export")
			},
			Customer: func(*Inv) bool { return true },
			Call:     auditLogs, Print: text(printAuditLogs)},
	}
}

// customerClient is a client of the Infobip API with the invocation's customer
// credential.
func customerClient(x *Inv) (*client.Client, error) {
	url := x.Str("url")
	if url == "" {
		return nil, Usagef("--url is required: the Infobip-compatible base URL")
	}
	var opt client.Option
	switch {
	case x.Str("api-key") != "":
		opt = client.WithAPIKey(x.Str("api-key"))
	case x.Str("username") != "":
		opt = client.WithBasicAuth(x.Str("username"), x.Str("password"))
	default:
		return nil, Usagef("--url needs --username/--password or --api-key")
	}
	hc, err := x.conn.httpClient()
	if err != nil {
		return nil, err
	}
	return client.New(url, opt, client.WithHTTPClient(hc))
}

// auditLogsAnswer is the records, or the CSV export.
type auditLogsAnswer struct {
	Records []client.CustomerAuditRecord `json:"records,omitempty"`
	CSV     string                       `json:"csv,omitempty"`
}

func auditLogs(ctx context.Context, x *Inv) (any, error) {
	cl, err := customerClient(x)
	if err != nil {
		return nil, err
	}
	f := client.CustomerAuditFilter{Action: x.Str("action"), Item: x.Str("item"), IPAddress: x.Str("ip"), UserKey: x.Str("user"),
		Description: x.Str("description"), Limit: x.Int("limit")}
	for _, p := range []struct {
		flag string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := x.Str(p.flag); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, Usagef("--%s %q: want an RFC 3339 time", p.flag, v)
			}
			*p.dst = t
		}
	}
	if x.Bool("csv") {
		b, err := cl.ExportAuditLogs(ctx, f)
		return auditLogsAnswer{CSV: string(b)}, err
	}
	recs, err := cl.AuditLogs(ctx, f)
	return auditLogsAnswer{Records: recs}, err
}

func printAuditLogs(w io.Writer, a auditLogsAnswer) {
	if a.CSV != "" {
		io.WriteString(w, a.CSV) //nolint:errcheck // the printer's writer reports at flush
		return
	}
	fmt.Fprintln(w, "TIME\tACTION\tITEM\tUSER\tADDRESS\tDESCRIPTION")
	for _, r := range a.Records {
		tprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Timestamp, r.Action, r.Item, r.Username, r.IPAddress, r.Description)
	}
}
