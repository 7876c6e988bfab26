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
		fs.Var(&multiFlag{}, "allowed-ip", "address or CIDR range (IPv4, IPv6) the key may be used from; repeat or comma-separate for several (default: any)")
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
	return append(customerKeyCommands(), []Command{
		{Name: "api-keys update", Args: "ACCOUNT KEY_ID", Summary: "change an API key's name, scopes, allowed addresses, validity or state", Admin: true,
			Help: "Only the flags given change; the change takes effect on every node at once. --scope replaces the scopes.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "a new name")
				fs.Var(&multiFlag{}, "scope", "scope the key carries; repeat or comma-separate for several (replaces the key's)")
			}, keyRuleFlags(true)),
			Call: apiKeysUpdate, Print: text(printUpdatedAPIKey)},
		{Name: "audit-logs", Summary: "your own account's audit log, as a customer reads it (Infobip API)", Admin: true,
			Help: "purse audit-logs --url URL (--username U --password P | --api-key K) reads /audit/1/logs: logins,\n" +
				"logouts and API key changes of the account and its sub-accounts, oldest first. The credential needs\n" +
				"audit-logs:read and account-management:manage. --csv prints /audit/1/logs/export instead.",
			Flags: func(fs *flag.FlagSet, e Env) {
				customerFlags(true)(fs, e)
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
	}...)
}

// has reports whether the command declares a flag.
func (x *Inv) has(name string) bool { return x.fs.Lookup(name) != nil }

// customerFlags are the Infobip API's base URL and a customer's credential.
func customerFlags(apiKey bool) func(fs *flag.FlagSet, e Env) {
	return func(fs *flag.FlagSet, e Env) {
		fs.String("url", EnvOr(e, "PURSE_URL", ""), "Infobip-compatible base URL, such as http://localhost:8080 (env PURSE_URL)")
		fs.String("username", "", "Basic user")
		fs.String("password", EnvOr(e, "PURSE_PASSWORD", ""), "Basic password (env PURSE_PASSWORD)")
		if apiKey {
			fs.String("api-key", EnvOr(e, "PURSE_API_KEY", ""), "API key (env PURSE_API_KEY)")
		}
	}
}

// customerKeyFlags are a key's fields as Infobip's /settings/2/api-keys takes them.
func customerKeyFlags(fs *flag.FlagSet) {
	fs.String("name", "", "the key's name")
	fs.String("account", "", "one of your sub-accounts (default: your own account)")
	fs.Var(&multiFlag{}, "scope", "scope the key carries; repeat or comma-separate for several (default account-management:manage)")
	fs.Var(&multiFlag{}, "allowed-ip", "address or CIDR range (IPv4, IPv6) the key may be used from; repeat or comma-separate for several")
	fs.String("valid-from", "", "the key is refused before this RFC 3339 time")
	fs.String("valid-to", "", "the key is refused from this RFC 3339 time on (default on create: a year)")
	fs.String("enabled", "", "true or false")
}

// customerKeyRequest reads customerKeyFlags; flags not given are left out.
func customerKeyRequest(x *Inv) (client.CustomerAPIKeyRequest, error) {
	var req client.CustomerAPIKeyRequest
	for flag, dst := range map[string]**string{"name": &req.Name, "account": &req.AccountID, "valid-from": &req.ValidFrom, "valid-to": &req.ValidTo} {
		if v := x.Str(flag); v != "" {
			*dst = ptrTo(v)
		}
	}
	if v := x.list("scope"); v != nil {
		req.ScopeGuids = &v
	}
	if v := x.list("allowed-ip"); v != nil {
		req.AllowedIPs = &v
	}
	switch x.Str("enabled") {
	case "":
	case "true":
		req.Enabled = ptrTo(true)
	case "false":
		req.Enabled = ptrTo(false)
	default:
		return req, Usagef("--enabled %q: want true or false", x.Str("enabled"))
	}
	return req, nil
}

func printCustomerKey(w io.Writer, k client.CustomerAPIKey) {
	tprintf(w, "id\t%s\naccount\t%s\nname\t%s\nscopes\t%s\nenabled\t%v\n", k.ID, k.AccountID, k.Name, strings.Join(k.ScopeGuids, " "), k.Enabled)
	if len(k.AllowedIPs) > 0 {
		tprintf(w, "allowed ips\t%s\n", strings.Join(k.AllowedIPs, " "))
	}
	tprintf(w, "valid from\t%s\n", k.ValidFrom)
	if k.ValidTo != "" {
		tprintf(w, "valid to\t%s\n", k.ValidTo)
	}
	if k.APIKeySecret != "" {
		tprintf(w, "key\t%s\n", k.APIKeySecret)
		fmt.Fprintln(w, "The key is shown only now; use it as: Authorization: App <key>")
	}
}

func printCustomerKeys(w io.Writer, p client.CustomerAPIKeyPage) {
	fmt.Fprintln(w, "ID\tACCOUNT\tNAME\tENABLED\tSCOPES\tALLOWED IPS\tVALID TO")
	for _, k := range p.APIKeys {
		tprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", k.ID, k.AccountID, k.Name, k.Enabled, strings.Join(k.ScopeGuids, " "), strings.Join(k.AllowedIPs, " "), k.ValidTo)
	}
}

// customerKeyCommands manage one's own keys over the Infobip API, as a customer.
func customerKeyCommands() []Command {
	always := func(*Inv) bool { return true }
	const help = "With your own Basic login (the Infobip API's key routes take no API key):\n" +
		"purse my-api-keys create --url URL --username U --password P --name NAME [--scope S ...] [--allowed-ip IP ...]"
	return []Command{
		{Name: "my-api-keys list", Summary: "your own API keys, as a customer (Infobip API)", Admin: true, Help: help,
			Flags: func(fs *flag.FlagSet, e Env) {
				customerFlags(false)(fs, e)
				fs.String("account", "", "one of your sub-accounts (default: your own account)")
			},
			Customer: always, Print: text(printCustomerKeys),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				cl, err := customerClient(x)
				if err != nil {
					return nil, err
				}
				return cl.CustomerAPIKeys(ctx, client.CustomerAPIKeyFilter{AccountID: x.Str("account")})
			}},
		{Name: "my-api-keys create", Summary: "make an API key as a customer (shown only once)", Admin: true, Help: help,
			Flags:    func(fs *flag.FlagSet, e Env) { customerFlags(false)(fs, e); customerKeyFlags(fs) },
			Customer: always, Print: text(printCustomerKey), ID: id(func(k client.CustomerAPIKey) string { return k.ID }),
			Secret: id(func(k client.CustomerAPIKey) string { return k.APIKeySecret }),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				cl, req, err := customerKeyCall(x)
				if err != nil {
					return nil, err
				}
				return cl.CreateCustomerAPIKey(ctx, req)
			}},
		{Name: "my-api-keys update", Args: "KEY_ID", Summary: "change one of your API keys as a customer", Admin: true, Help: help,
			Flags:    func(fs *flag.FlagSet, e Env) { customerFlags(false)(fs, e); customerKeyFlags(fs) },
			Customer: always, Print: text(printCustomerKey),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				cl, req, err := customerKeyCall(x)
				if err != nil {
					return nil, err
				}
				return cl.UpdateCustomerAPIKey(ctx, x.Arg(0), req)
			}},
	}
}

func customerKeyCall(x *Inv) (*client.Client, client.CustomerAPIKeyRequest, error) {
	req, err := customerKeyRequest(x)
	if err != nil {
		return nil, req, err
	}
	cl, err := customerClient(x)
	return cl, req, err
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
	case x.has("api-key") && x.Str("api-key") != "":
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
