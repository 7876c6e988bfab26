package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/purse-ledger/purse/client"
)

// cli holds the flags every management command shares.
type cli struct {
	e          env
	fs         *flag.FlagSet
	adminURL   string
	adminToken string
	tokenFile  string
	db         string
	tlsCA      string
	asJSON     bool
}

func newCLI(name string, e env) *cli {
	c := &cli{e: e, fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(e.stderr)
	c.fs.StringVar(&c.adminURL, "admin-url", envOr(e, "PURSE_ADMIN_URL", "http://127.0.0.1:8081"), "admin API base URL (env PURSE_ADMIN_URL)")
	c.fs.StringVar(&c.adminToken, "admin-token", envOr(e, "PURSE_ADMIN_TOKEN", ""), "admin token (env PURSE_ADMIN_TOKEN); default: read DB.admin-token")
	c.fs.StringVar(&c.tokenFile, "admin-token-file", envOr(e, "PURSE_ADMIN_TOKEN_FILE", ""), "read the admin token from this file (env PURSE_ADMIN_TOKEN_FILE)")
	c.fs.StringVar(&c.db, "db", envOr(e, "PURSE_DB", "purse.db"), "database whose token file to read (env PURSE_DB)")
	c.fs.StringVar(&c.tlsCA, "tls-ca", envOr(e, "PURSE_TLS_CA", ""), "PEM certificate to trust for an https:// URL (env PURSE_TLS_CA); default: DB.tls.pem when it exists")
	c.fs.BoolVar(&c.asJSON, "json", false, "print JSON instead of text")
	return c
}

// httpClient trusts --tls-ca, or the self-signed certificate purse serve wrote
// beside the database, in addition to the system's roots.
func (c *cli) httpClient() (*http.Client, error) {
	ca := c.tlsCA
	if ca == "" {
		if _, err := os.Stat(tlsCertPath(c.db)); err == nil {
			ca = tlsCertPath(c.db)
		}
	}
	if ca == "" {
		return &http.Client{Timeout: 30 * time.Second}, nil
	}
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--tls-ca: %s holds no PEM certificate", ca)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}, nil
}

func (c *cli) admin() (*client.Client, error) {
	tok := c.adminToken
	if tok == "" && c.tokenFile != "" {
		v, err := readSecretFile(c.tokenFile, "--admin-token-file", nil)
		if err != nil {
			return nil, err
		}
		tok = v
	}
	if tok == "" {
		b, err := os.ReadFile(adminTokenPath(c.db))
		if err != nil {
			return nil, fmt.Errorf("no admin token: pass --admin-token, set PURSE_ADMIN_TOKEN, or run where %s is readable (%v)", adminTokenPath(c.db), err)
		}
		tok = strings.TrimSpace(string(b))
	}
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	return client.New(c.adminURL, client.WithAdminToken(tok), client.WithHTTPClient(hc))
}

// parse reads the command's flags and exactly n positional arguments (what names
// them in the usage error), and connects to the admin API.
func (c *cli) parse(args []string, n int, what string) ([]string, *client.Client, error) {
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := need(pos, n, what); err != nil {
		return nil, nil, err
	}
	cl, err := c.admin()
	return pos, cl, err
}

// print writes v as JSON with --json, otherwise calls text.
func (c *cli) print(v any, text func(w io.Writer)) error {
	if c.asJSON {
		enc := json.NewEncoder(c.e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func need(pos []string, n int, what string) error {
	if len(pos) != n {
		return usagef("want %s, got %d argument(s)", what, len(pos))
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func manage(ctx context.Context, cmd string, args []string, e env) error {
	sub := ""
	if cmd == "accounts" || cmd == "users" || cmd == "api-keys" || cmd == "hold" || cmd == "oauth-clients" {
		if len(args) == 0 {
			return usagef("%s needs a subcommand; see purse help", cmd)
		}
		sub, args = args[0], args[1:]
	}
	c := newCLI(strings.TrimSpace(cmd+" "+sub), e)
	switch cmd + " " + sub {
	case "accounts create":
		return c.accountsCreate(ctx, args)
	case "accounts list":
		return c.accountsList(ctx, args)
	case "accounts get":
		return c.accountsGet(ctx, args)
	case "accounts update":
		return c.accountsUpdate(ctx, args)
	case "users add":
		return c.usersAdd(ctx, args)
	case "users list":
		return c.usersList(ctx, args)
	case "users remove":
		return c.usersRemove(ctx, args)
	case "api-keys create":
		return c.keysCreate(ctx, args)
	case "api-keys list":
		return c.keysList(ctx, args)
	case "api-keys revoke":
		return c.keysRevoke(ctx, args)
	case "oauth-clients create":
		return c.oauthCreate(ctx, args)
	case "oauth-clients list":
		return c.oauthList(ctx, args)
	case "oauth-clients revoke":
		return c.oauthRevoke(ctx, args)
	case "top-up ":
		return c.topUp(ctx, args)
	case "balance ":
		return c.balance(ctx, args)
	case "charge ":
		return c.charge(ctx, args)
	case "refund ":
		return c.refund(ctx, args)
	case "adjust ":
		return c.adjust(ctx, args)
	case "hold create":
		return c.holdCreate(ctx, args)
	case "hold capture":
		return c.holdCapture(ctx, args)
	case "hold void":
		return c.holdVoid(ctx, args)
	case "hold get":
		return c.holdGet(ctx, args)
	case "entries ":
		return c.entries(ctx, args)
	case "batch ":
		return c.batch(ctx, args)
	case "audit ":
		return c.audit(ctx, args)
	}
	return usagef("unknown command %q; see purse help", cmd+" "+sub)
}

func printAccount(w io.Writer, a client.Account) {
	limit := "none"
	if a.MonthlyLimit != nil {
		limit = *a.MonthlyLimit
	}
	tprintf(w, "id\t%s\nname\t%s\ncurrency\t%s\nstatus\t%s\nbalance\t%s\nallowed minus\t%s\nmonthly limit\t%s\nfree messages\t%d\ncreated\t%s\n",
		a.ID, a.Name, a.Currency, a.Status, a.Balance, a.AllowedMinus, limit, a.FreeMessages, a.CreatedAt)
}

func (c *cli) accountsCreate(ctx context.Context, args []string) error {
	name := c.fs.String("name", "", "account name")
	currency := c.fs.String("currency", "", "ISO 4217 currency code, such as EUR")
	_, cl, err := c.parse(args, 0, "no arguments")
	if err != nil {
		return err
	}
	a, err := cl.CreateAccount(ctx, *name, strings.ToUpper(*currency))
	if err != nil {
		return err
	}
	return c.print(a, func(w io.Writer) { printAccount(w, a) })
}

func (c *cli) accountsList(ctx context.Context, args []string) error {
	limit := c.fs.Int("limit", 0, "accounts per page (default 50)")
	cursor := c.fs.String("cursor", "", "cursor from a previous page")
	all := c.fs.Bool("all", false, "follow cursors to the last page")
	_, cl, err := c.parse(args, 0, "no arguments")
	if err != nil {
		return err
	}
	page, err := cl.ListAccounts(ctx, *cursor, *limit)
	if err != nil {
		return err
	}
	for *all && page.NextCursor != "" {
		next, err := cl.ListAccounts(ctx, page.NextCursor, *limit)
		if err != nil {
			return err
		}
		page.Accounts, page.NextCursor = append(page.Accounts, next.Accounts...), next.NextCursor
	}
	return c.print(page, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tCURRENCY\tSTATUS\tBALANCE")
		for _, a := range page.Accounts {
			tprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Currency, a.Status, a.Balance)
		}
		if page.NextCursor != "" {
			tprintf(w, "next page: --cursor %s\n", page.NextCursor)
		}
	})
}

func (c *cli) accountsGet(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	a, err := cl.GetAccount(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(a, func(w io.Writer) { printAccount(w, a) })
}

func (c *cli) accountsUpdate(ctx context.Context, args []string) error {
	name := c.fs.String("name", "", "new name")
	status := c.fs.String("status", "", "new status: active, suspended or closed")
	minus := c.fs.String("allowed-minus", "", "how far below zero the balance may go")
	limit := c.fs.String("monthly-limit", "", `most charged per UTC calendar month, or "none"`)
	free := c.fs.Int64("free-messages", -1, "set the count of free messages")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 1, "ACCOUNT"); err != nil {
		return err
	}
	var u client.AccountUpdate
	if *name != "" {
		u.Name = name
	}
	if *status != "" {
		u.Status = status
	}
	if *minus != "" {
		u.AllowedMinus = minus
	}
	switch *limit {
	case "":
	case "none":
		u.ClearMonthlyLimit = true
	default:
		u.MonthlyLimit = limit
	}
	if *free >= 0 {
		u.FreeMessages = free
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	a, err := cl.UpdateAccount(ctx, pos[0], u)
	if err != nil {
		return err
	}
	return c.print(a, func(w io.Writer) { printAccount(w, a) })
}

func (c *cli) usersAdd(ctx context.Context, args []string) error {
	username := c.fs.String("username", "", "login name (unique across purse)")
	password := c.fs.String("password", "", "password (default: PURSE_PASSWORD, else the first line of stdin)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 1, "ACCOUNT"); err != nil {
		return err
	}
	pw := *password
	if pw == "" {
		pw = c.e.getenv("PURSE_PASSWORD")
	}
	if pw == "" && c.e.stdin != nil {
		line, err := bufio.NewReader(c.e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	u, err := cl.AddUser(ctx, pos[0], *username, pw)
	if err != nil {
		return err
	}
	return c.print(u, func(w io.Writer) { tprintf(w, "user %s added to %s\n", u.Username, u.AccountID) })
}

func (c *cli) usersList(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	users, err := cl.ListUsers(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(users, func(w io.Writer) {
		fmt.Fprintln(w, "USERNAME\tCREATED")
		for _, u := range users {
			tprintf(w, "%s\t%s\n", u.Username, u.CreatedAt)
		}
	})
}

func (c *cli) usersRemove(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 2, "ACCOUNT USERNAME")
	if err != nil {
		return err
	}
	if err := cl.RemoveUser(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	return c.print(map[string]string{"removed": pos[1]}, func(w io.Writer) { tprintf(w, "user %s removed\n", pos[1]) })
}

func (c *cli) keysCreate(ctx context.Context, args []string) error {
	name := c.fs.String("name", "", "a name to tell the key by")
	var scopes multiFlag
	c.fs.Var(&scopes, "scope", "scope to grant; repeat for several (default account-management:manage)")
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	k, err := cl.CreateAPIKey(ctx, pos[0], *name, scopes)
	if err != nil {
		return err
	}
	return c.print(k, func(w io.Writer) {
		tprintf(w, "id\t%s\nname\t%s\nscopes\t%s\nkey\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, " "), k.Key)
		fmt.Fprintln(w, "The key is shown only now; use it as: Authorization: App <key>")
	})
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	keys, err := cl.ListAPIKeys(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(keys, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			tprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, " "), k.CreatedAt, k.RevokedAt)
		}
	})
}

func (c *cli) keysRevoke(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 2, "ACCOUNT KEY_ID")
	if err != nil {
		return err
	}
	if err := cl.RevokeAPIKey(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	return c.print(map[string]string{"revoked": pos[1]}, func(w io.Writer) { tprintf(w, "api key %s revoked\n", pos[1]) })
}

func (c *cli) topUp(ctx context.Context, args []string) error {
	ref := c.fs.String("reference", "", "your reference for the top-up")
	key := c.fs.String("idempotency-key", "", "makes the top-up exactly-once across retries (default: a random key)")
	pos, cl, err := c.parse(args, 2, "ACCOUNT AMOUNT")
	if err != nil {
		return err
	}
	m, err := cl.TopUp(ctx, pos[0], pos[1], client.TopUpOptions{Reference: *ref, IdempotencyKey: *key})
	if err != nil {
		return err
	}
	return c.print(m, func(w io.Writer) {
		tprintf(w, "topped up %s by %s; balance now %s (movement %s)\n", m.AccountID, m.Amount, m.BalanceAfter, m.ID)
	})
}

func (c *cli) balance(ctx context.Context, args []string) error {
	url := c.fs.String("url", envOr(c.e, "PURSE_URL", ""), "Infobip-compatible base URL, such as http://localhost:8080 (env PURSE_URL); with it, read the balance as a customer")
	username := c.fs.String("username", "", "Basic user (with --url)")
	password := c.fs.String("password", envOr(c.e, "PURSE_PASSWORD", ""), "Basic password (with --url; env PURSE_PASSWORD)")
	apiKey := c.fs.String("api-key", envOr(c.e, "PURSE_API_KEY", ""), "API key (with --url; env PURSE_API_KEY)")
	at := c.fs.String("at", "", "the balance as it was at this RFC 3339 time (admin API)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if *url != "" {
		if err := need(pos, 0, "no ACCOUNT with --url (the credential names the account)"); err != nil {
			return err
		}
		var opt client.Option
		switch {
		case *apiKey != "":
			opt = client.WithAPIKey(*apiKey)
		case *username != "":
			opt = client.WithBasicAuth(*username, *password)
		default:
			return usagef("--url needs --username/--password or --api-key")
		}
		hc, err := c.httpClient()
		if err != nil {
			return err
		}
		cl, err := client.New(*url, opt, client.WithHTTPClient(hc))
		if err != nil {
			return err
		}
		b, err := cl.Balance(ctx)
		if err != nil {
			return err
		}
		return c.print(map[string]any{"balance": json.Number(b.Balance), "currency": b.Currency},
			func(w io.Writer) { tprintf(w, "%s %s\n", b.Balance, b.Currency) })
	}
	if err := need(pos, 1, "ACCOUNT (or --url with a customer credential)"); err != nil {
		return err
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339Nano, *at)
		if err != nil {
			return usagef("--at %q: want an RFC 3339 time such as 2026-11-26T10:00:00Z", *at)
		}
		b, err := cl.AccountBalanceAt(ctx, pos[0], t)
		if err != nil {
			return err
		}
		return c.print(b, func(w io.Writer) {
			tprintf(w, "%s %s (as of %s, sequence %d)\n", b.Balance, b.Currency, b.AsOf, b.Sequence)
		})
	}
	b, err := cl.AccountBalance(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(b, func(w io.Writer) {
		if !c.asJSON && b.Available != "" && (b.Held != "0" || b.AllowedMinus != "0") {
			tprintf(w, "%s %s (available %s, held %s)\n", b.Balance, b.Currency, b.Available, b.Held)
			return
		}
		tprintf(w, "%s %s\n", b.Balance, b.Currency)
	})
}

func (c *cli) oauthCreate(ctx context.Context, args []string) error {
	name := c.fs.String("name", "", "a name to tell the client by")
	var scopes multiFlag
	c.fs.Var(&scopes, "scope", "scope to grant; repeat for several (default account-management:manage)")
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	oc, err := cl.CreateOAuthClient(ctx, pos[0], *name, scopes)
	if err != nil {
		return err
	}
	return c.print(oc, func(w io.Writer) {
		tprintf(w, "client_id\t%s\nclient_secret\t%s\nname\t%s\nscopes\t%s\n", oc.ClientID, oc.ClientSecret, oc.Name, strings.Join(oc.Scopes, " "))
		fmt.Fprintln(w, "The secret is shown only now; exchange it at POST /auth/1/oauth2/token (grant_type=client_credentials)")
	})
}

func (c *cli) oauthList(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 1, "ACCOUNT")
	if err != nil {
		return err
	}
	list, err := cl.ListOAuthClients(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) {
		fmt.Fprintln(w, "CLIENT_ID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, oc := range list {
			tprintf(w, "%s\t%s\t%s\t%s\t%s\n", oc.ClientID, oc.Name, strings.Join(oc.Scopes, " "), oc.CreatedAt, oc.RevokedAt)
		}
	})
}

func (c *cli) oauthRevoke(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 2, "ACCOUNT CLIENT_ID")
	if err != nil {
		return err
	}
	if err := cl.RevokeOAuthClient(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	return c.print(map[string]string{"revoked": pos[1]}, func(w io.Writer) { tprintf(w, "oauth client %s revoked\n", pos[1]) })
}
