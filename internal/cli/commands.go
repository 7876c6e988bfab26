package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/client"
)

// group is a heading of purse help and the rows under it.
type group struct {
	title string
	cmds  []Command
}

// table is every command, in the order purse help lists them.
func table(serve Command) []Command {
	var all []Command
	for _, g := range groups(serve) {
		all = append(all, g.cmds...)
	}
	return all
}

func groups(serve Command) []group {
	return []group{
		{"Server", []Command{serve}},
		{"Accounts and their credentials", append(accountCommands(), keyCommands()...)},
		{"Money", moneyCommands()},
		{"History", historyCommands()},
		{"Operators (the console's people, with roles)", operatorCommands()},
		{"Events: thresholds, the events feed, webhooks", eventCommands()},
		{"Operations on a running server", opsCommands()},
		{"Emulator (purse serve --emulator)", emulatorCommands()},
		{"Offline, on the store itself (purse serve stopped, or on a PostgreSQL database)", offlineCommands()},
	}
}

// Flag declarations several rows share.

func idempotencyFlag(what string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.String("idempotency-key", "", "makes the "+what+" exactly-once: the same key again never applies it twice (default: a random key)")
	}
}

func pageFlags(what, all string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.Int("limit", 0, what+" per page (default 50)")
		fs.String("cursor", "", "cursor from a previous page")
		fs.Bool("all", false, "follow cursors to "+all)
	}
}

func scopeFlags(what string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.String("name", "", "a name to tell the "+what+" by")
		fs.Var(&multiFlag{}, "scope", "scope to grant; repeat or comma-separate for several (default account-management:manage)")
	}
}

// declare combines flag declarations into a row's Flags.
func declare(fns ...func(fs *flag.FlagSet)) func(fs *flag.FlagSet, e Env) {
	return func(fs *flag.FlagSet, _ Env) {
		for _, f := range fns {
			f(fs)
		}
	}
}

func accountCommands() []Command {
	return []Command{
		{Name: "accounts create", Summary: "open an account", Admin: true,
			Help: "Opens a customer account with a balance of 0 in an ISO 4217 currency.\nWith -q it prints only the new account's id: id=$(purse accounts create -q --name Acme --currency EUR)",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "account name")
				fs.String("currency", "", "ISO 4217 currency code, such as EUR")
			}),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.CreateAccount(ctx, x.Str("name"), strings.ToUpper(x.Str("currency")))
			},
			Print: text(printAccount), ID: id(func(a client.Account) string { return a.ID })},
		{Name: "sub-accounts create", Args: "PARENT", Summary: "open a sub-account of an account", Admin: true,
			Help: "Opens a sub-account of PARENT (a main account), in PARENT's currency. With --funding own it has its\nown balance, moved with purse transfer; with --funding shared its charges and holds draw on PARENT's\nbalance and limits. With -q it prints only the new account's id.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "account name")
				fs.String("funding", "", "own or shared")
			}),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.CreateSubAccount(ctx, x.Arg(0), x.Str("name"), x.Str("funding"))
			},
			Print: text(printAccount), ID: id(func(a client.Account) string { return a.ID })},
		{Name: "sub-accounts list", Args: "ACCOUNT", Summary: "list an account's sub-accounts", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				subs, err := x.Client.ListSubAccounts(ctx, x.Arg(0))
				return client.AccountPage{Accounts: subs}, err
			},
			Print: text(printSubAccounts)},
		{Name: "accounts list", Summary: "list accounts", Admin: true,
			Flags: declare(pageFlags("accounts", "the last page")),
			Call:  accountsList, Print: text(printAccounts)},
		{Name: "accounts get", Args: "ACCOUNT", Summary: "show an account", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.GetAccount(ctx, x.Arg(0)) },
			Print: text(printAccount)},
		{Name: "accounts update", Args: "ACCOUNT", Summary: "rename, suspend, close, or change an account's limits", Admin: true,
			Help: "Changes only what a flag names.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("name", "", "new name")
				fs.String("status", "", "new status: active, suspended or closed")
				fs.String("allowed-minus", "", "how far below zero the balance may go")
				fs.String("monthly-limit", "", `most charged per UTC calendar month, or "none"`)
				fs.String("free-messages", "", "set the count of free messages")
				fs.String("enabled", "", "a sub-account's parent switch: true or false")
			}),
			Call: accountsUpdate, Print: text(printAccount)},
		{Name: "users add", Args: "ACCOUNT", Summary: "add a Basic/IBSSO login to an account", Admin: true,
			Help: "The password comes from --password, else PURSE_PASSWORD, else a prompt without echo (asked twice)\nwhen stdin is a terminal, else the first line of stdin.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("username", "", "login name (unique across purse)")
				fs.String("password", "", "password (visible in the process list: prefer the prompt, stdin or PURSE_PASSWORD)")
			}),
			Call:  usersAdd,
			Print: text(func(w io.Writer, u client.User) { tprintf(w, "user %s added to %s\n", u.Username, u.AccountID) })},
		{Name: "users list", Args: "ACCOUNT", Summary: "list an account's logins", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListUsers(ctx, x.Arg(0)) },
			Print: text(printUsers)},
		{Name: "users remove", Args: "ACCOUNT USERNAME", Summary: "remove a login and end its sessions", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]string{"removed": x.Arg(1)}, x.Client.RemoveUser(ctx, x.Arg(0), x.Arg(1))
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "user %s removed\n", m["removed"]) })},
		{Name: "api-keys create", Args: "ACCOUNT", Summary: "make an API key (shown only once)", Admin: true,
			Flags: declare(scopeFlags("key"), keyRuleFlags(false)),
			Call:  apiKeysCreate,
			Print: text(printAPIKey), ID: id(func(k client.APIKey) string { return k.ID }),
			Secret: id(func(k client.APIKey) string { return k.Key })},
		{Name: "api-keys list", Args: "ACCOUNT", Summary: "list an account's API keys", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListAPIKeys(ctx, x.Arg(0)) },
			Print: text(printAPIKeys)},
		{Name: "api-keys revoke", Args: "ACCOUNT KEY_ID", Summary: "revoke an API key", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]string{"revoked": x.Arg(1)}, x.Client.RevokeAPIKey(ctx, x.Arg(0), x.Arg(1))
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "api key %s revoked\n", m["revoked"]) })},
		{Name: "oauth-clients create", Args: "ACCOUNT", Summary: "make an OAuth2 client (its secret is shown only once)", Admin: true,
			Flags: declare(scopeFlags("client")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.CreateOAuthClient(ctx, x.Arg(0), x.Str("name"), x.list("scope"))
			},
			Print: text(printOAuthClient), ID: id(func(c client.OAuthClient) string { return c.ClientID }),
			Secret: id(func(c client.OAuthClient) string { return c.ClientSecret })},
		{Name: "oauth-clients list", Args: "ACCOUNT", Summary: "list an account's OAuth2 clients", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListOAuthClients(ctx, x.Arg(0)) },
			Print: text(printOAuthClients)},
		{Name: "oauth-clients revoke", Args: "ACCOUNT CLIENT_ID", Summary: "revoke an OAuth2 client and its tokens", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]string{"revoked": x.Arg(1)}, x.Client.RevokeOAuthClient(ctx, x.Arg(0), x.Arg(1))
			},
			Print: text(func(w io.Writer, m map[string]string) { tprintf(w, "oauth client %s revoked\n", m["revoked"]) })},
	}
}

// entryID is the id -q prints for a money movement: its entry's.
var entryID = id(func(e client.Entry) string { return e.ID })

func moneyCommands() []Command {
	return []Command{
		{Name: "top-up", Args: "ACCOUNT AMOUNT", Summary: "add money to an account", Admin: true,
			Flags: declare(func(fs *flag.FlagSet) { fs.String("reference", "", "your reference for the top-up") }, idempotencyFlag("top-up")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.TopUp(ctx, x.Arg(0), x.Arg(1), client.TopUpOptions{Reference: x.Str("reference"), IdempotencyKey: x.Str("idempotency-key")})
			},
			Print: text(printEntry), ID: entryID},
		{Name: "charge", Args: "ACCOUNT AMOUNT", Summary: "take money from an account", Admin: true,
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("reference", "", "your reference, such as a message id")
				fs.Bool("free-message", false, "pay with a free message when the account has one")
				fs.Bool("no-fallback", false, "with --free-message: fail instead of charging money when none is left")
				fs.String("service-type", "", "what the charge pays for: SMS (default), VOICE, VIBER, WHATSAPP or EMAIL; free messages are SMS only")
				fs.Var(metaFlag{}, "meta", "metadata key=value; repeat for several")
			}, idempotencyFlag("charge")),
			Call: charge, Print: text(printEntry), ID: entryID},
		{Name: "refund", Args: "ACCOUNT CHARGE_ID [AMOUNT]", Summary: "give back a charge, all of it or AMOUNT", Admin: true,
			Help:  "Without AMOUNT, refunds what is left of the charge.",
			Flags: declare(idempotencyFlag("refund")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.Refund(ctx, x.Arg(0), x.Arg(1), x.Arg(2), x.Str("idempotency-key"))
			},
			Print: text(printEntry), ID: entryID},
		{Name: "adjust", Args: "ACCOUNT AMOUNT", Summary: "correct a balance (AMOUNT may be negative)", Admin: true,
			Help:  "Books AMOUNT against the platform's funding account, with a reason kept on the entry.",
			Flags: declare(func(fs *flag.FlagSet) { fs.String("reason", "", "why (required; kept on the entry)") }, idempotencyFlag("adjustment")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.Adjust(ctx, x.Arg(0), x.Arg(1), x.Str("reason"), x.Str("idempotency-key"))
			},
			Print: text(printEntry), ID: entryID},
		{Name: "transfer", Args: "FROM TO AMOUNT", Summary: "move money between an account and its own-funded sub-account", Admin: true,
			Help:  "Moves AMOUNT from FROM to TO in one commit: a main account and its own-funded sub-account, either way.",
			Flags: declare(func(fs *flag.FlagSet) { fs.String("reference", "", "your reference for the transfer") }, idempotencyFlag("transfer")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.Transfer(ctx, x.Arg(0), x.Arg(1), x.Arg(2), x.Str("reference"), x.Str("idempotency-key"))
			},
			Print: text(printTransfer), ID: id(func(t client.Transfer) string { return t.ID })},
		{Name: "hold create", Args: "ACCOUNT AMOUNT", Summary: "reserve money for a later capture", Admin: true,
			Flags: declare(func(fs *flag.FlagSet) {
				fs.Duration("expires-in", 10*time.Minute, "how long the hold lasts unless captured or voided (whole seconds)")
				fs.String("reference", "", "your reference")
			}, idempotencyFlag("hold")),
			Call: holdCreate, Print: text(printHold), ID: id(func(h client.Hold) string { return h.ID })},
		{Name: "hold capture", Args: "HOLD_ID [AMOUNT]", Summary: "take held money, all of it or AMOUNT", Admin: true,
			Flags: declare(idempotencyFlag("capture")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.CaptureHold(ctx, x.Arg(0), x.Arg(1), x.Str("idempotency-key"))
			},
			Print: text(func(w io.Writer, c client.Capture) { printHold(w, c.Hold); printEntry(w, c.Entry) }),
			ID:    id(func(c client.Capture) string { return c.Entry.ID })},
		{Name: "hold void", Args: "HOLD_ID", Summary: "release a hold", Admin: true,
			Flags: declare(idempotencyFlag("void")),
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return x.Client.VoidHold(ctx, x.Arg(0), x.Str("idempotency-key"))
			},
			Print: text(printHold)},
		{Name: "hold get", Args: "HOLD_ID", Summary: "show a hold", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.GetHold(ctx, x.Arg(0)) },
			Print: text(printHold)},
		{Name: "batch", Args: "FILE", Summary: "apply a JSON array of operations in one commit (FILE - is stdin)", Admin: true,
			Flags: declare(func(fs *flag.FlagSet) { fs.Bool("atomic", false, "apply every operation or none") }, idempotencyFlag("batch")),
			Call:  batch, Print: text(printBatch)},
	}
}

func historyCommands() []Command {
	return []Command{
		{Name: "balance", Args: "[ACCOUNT]", Summary: "an account's balance (admin API), or your own (--url, Infobip API)", Admin: true,
			Help: "purse balance ACCOUNT [--at TIME] reads it through the admin API.\npurse balance --url URL (--username U --password P | --api-key K) reads it as a customer does.",
			Flags: func(fs *flag.FlagSet, e Env) {
				fs.String("url", EnvOr(e, "PURSE_URL", ""), "Infobip-compatible base URL, such as http://localhost:8080 (env PURSE_URL); with it, read the balance as a customer")
				fs.String("username", "", "Basic user (with --url)")
				fs.String("password", EnvOr(e, "PURSE_PASSWORD", ""), "Basic password (with --url; env PURSE_PASSWORD)")
				fs.String("api-key", EnvOr(e, "PURSE_API_KEY", ""), "API key (with --url; env PURSE_API_KEY)")
				fs.String("at", "", "the balance as it was at this RFC 3339 time (admin API)")
			},
			Customer: func(x *Inv) bool { return x.Str("url") != "" },
			Call:     balance, Print: text(printBalance)},
		{Name: "entries", Args: "ACCOUNT", Summary: "an account's ledger entries, newest first", Admin: true,
			Flags: declare(pageFlags("entries", "the oldest entry"), func(fs *flag.FlagSet) {
				fs.String("from", "", "only entries at or after this RFC 3339 time")
				fs.String("to", "", "only entries before this RFC 3339 time")
				fs.String("kind", "", "only this kind: top_up, charge, capture, refund, adjustment, transfer")
			}),
			Call: entries, Print: text(printEntries)},
		{Name: "audit", Summary: "the admin actions, newest first", Admin: true,
			Flags: declare(pageFlags("records", "the oldest record")),
			Call:  audit, Print: text(printAudit)},
	}
}

func opsCommands() []Command {
	return []Command{
		{Name: "admin-token rotate", Summary: "put a new admin token in force, on every node", Admin: true,
			Help: "Writes the new token to the token file (--admin-token-file, else DB.admin-token) unless the token\ncame from --admin-token or PURSE_ADMIN_TOKEN.",
			Call: adminTokenRotate, Print: text(printNewToken)},
		{Name: "oauth-key rotate", Summary: "refuse every OAuth2 token issued so far, on every node", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]bool{"rotated": true}, x.Client.RotateOAuthKey(ctx)
			},
			Print: text(func(w io.Writer, _ map[string]bool) {
				fmt.Fprintln(w, "OAuth2 signing key rotated on every node: access tokens issued before now are refused; clients get new ones with their credentials")
			})},
		{Name: "demo remove", Summary: "close the demo account and remove its logins", Admin: true,
			Help: "Removes the demo account's users, revokes its API keys and OAuth2 clients, books its balance\nback to the funding account and closes it. The account and its history stay; purse migrate leaves it out.",
			Call: demoRemove, Print: text(printDemoRemoved)},
	}
}

// multiFlag is a flag given several times, each a value or a comma-separated
// list (none of its values, scopes, addresses or event types, holds a comma), as
// purse events --types takes them.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}
func (m *multiFlag) Get() any { // nil when not given: the server's default applies
	if len(*m) == 0 {
		return []string(nil)
	}
	return []string(*m)
}

func (x *Inv) list(name string) []string { return x.get(name).([]string) }

type metaFlag map[string]string

func (m metaFlag) String() string { return fmt.Sprint(map[string]string(m)) }
func (m metaFlag) Get() any       { return map[string]string(m) }
func (m metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	m[k] = val
	return nil
}

func accountsList(ctx context.Context, x *Inv) (any, error) {
	page, err := x.Client.ListAccounts(ctx, x.Str("cursor"), x.Int("limit"))
	for err == nil && x.Bool("all") && page.NextCursor != "" {
		var next client.AccountPage
		next, err = x.Client.ListAccounts(ctx, page.NextCursor, x.Int("limit"))
		page.Accounts, page.NextCursor = append(page.Accounts, next.Accounts...), next.NextCursor
	}
	return page, err
}

func accountsUpdate(ctx context.Context, x *Inv) (any, error) {
	var u client.AccountUpdate
	for _, f := range []struct {
		flag string
		dst  **string
	}{{"name", &u.Name}, {"status", &u.Status}, {"allowed-minus", &u.AllowedMinus}} {
		if v := x.Str(f.flag); v != "" {
			*f.dst = &v
		}
	}
	switch limit := x.Str("monthly-limit"); limit {
	case "":
	case "none":
		u.ClearMonthlyLimit = true
	default:
		u.MonthlyLimit = &limit
	}
	if v := x.Str("free-messages"); v != "" {
		free, err := strconv.ParseInt(v, 10, 64)
		if err != nil || free < 0 {
			return nil, Usagef("--free-messages %q: want a count, 0 or more", v)
		}
		u.FreeMessages = &free
	}
	if v := x.Str("enabled"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, Usagef("--enabled %q: want true or false", v)
		}
		u.Enabled = &on
	}
	return x.Client.UpdateAccount(ctx, x.Arg(0), u)
}

func usersAdd(ctx context.Context, x *Inv) (any, error) {
	pw := x.Str("password")
	if pw == "" {
		pw = x.Getenv("PURSE_PASSWORD")
	}
	if pw == "" {
		var err error
		if pw, err = readPassword(x.Env, x.Str("username")); err != nil {
			return nil, err
		}
	}
	return x.Client.AddUser(ctx, x.Arg(0), x.Str("username"), pw)
}

func charge(ctx context.Context, x *Inv) (any, error) {
	opts := client.ChargeOptions{Reference: x.Str("reference"), UseFreeMessage: x.Bool("free-message"), NoFallback: x.Bool("no-fallback"),
		ServiceType: x.Str("service-type"), IdempotencyKey: x.Str("idempotency-key")}
	if meta := x.get("meta").(map[string]string); len(meta) > 0 {
		opts.Metadata = meta
	}
	return x.Client.Charge(ctx, x.Arg(0), x.Arg(1), opts)
}

func holdCreate(ctx context.Context, x *Inv) (any, error) {
	ttl := x.get("expires-in").(time.Duration)
	if ttl < time.Second || ttl%time.Second != 0 {
		return nil, Usagef("--expires-in must be whole seconds, at least 1s")
	}
	return x.Client.CreateHold(ctx, x.Arg(0), x.Arg(1), ttl, x.Str("reference"), x.Str("idempotency-key"))
}

func batch(ctx context.Context, x *Inv) (any, error) {
	var raw []byte
	var err error
	if x.Arg(0) == "-" {
		raw, err = io.ReadAll(x.Stdin)
	} else {
		raw, err = os.ReadFile(x.Arg(0))
	}
	if err != nil {
		return nil, err
	}
	// Strict: a misspelt key would otherwise be dropped here, and the operation
	// sent without it.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ops []client.BatchOp
	if err := dec.Decode(&ops); err != nil {
		return nil, Usagef("%s: want a JSON array of operations: %v", x.Arg(0), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Usagef("%s: want one JSON array of operations, found more after it", x.Arg(0))
	}
	return x.Client.Batch(ctx, x.Bool("atomic"), ops, x.Str("idempotency-key"))
}

// balanceAnswer is what purse balance prints, from either API.
type balanceAnswer struct {
	admin    *client.AccountBalance
	customer *client.Balance
	at       bool // admin, as of --at
}

// MarshalJSON is the answer of the API asked.
func (b balanceAnswer) MarshalJSON() ([]byte, error) {
	if b.customer != nil {
		return json.Marshal(map[string]any{"balance": json.Number(b.customer.Balance), "currency": b.customer.Currency})
	}
	return json.Marshal(b.admin)
}

func balance(ctx context.Context, x *Inv) (any, error) {
	if url := x.Str("url"); url != "" {
		return customerBalance(ctx, x, url)
	}
	if len(x.Args) != 1 {
		return nil, Usagef("balance wants ACCOUNT (or --url with a customer credential); see purse help balance")
	}
	var b client.AccountBalance
	var err error
	if at := x.Str("at"); at != "" {
		t, perr := time.Parse(time.RFC3339Nano, at)
		if perr != nil {
			return nil, Usagef("--at %q: want an RFC 3339 time such as 2026-11-26T10:00:00Z", at)
		}
		b, err = x.Client.AccountBalanceAt(ctx, x.Arg(0), t)
	} else {
		b, err = x.Client.AccountBalance(ctx, x.Arg(0))
	}
	return balanceAnswer{admin: &b, at: x.Str("at") != ""}, err
}

func customerBalance(ctx context.Context, x *Inv, url string) (any, error) {
	if len(x.Args) != 0 {
		return nil, Usagef("balance --url takes no ACCOUNT: the credential names the account")
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
	cl, err := client.New(url, opt, client.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	b, err := cl.Balance(ctx)
	return balanceAnswer{customer: &b}, err
}

func entries(ctx context.Context, x *Inv) (any, error) {
	q := client.EntryQuery{Limit: x.Int("limit"), Cursor: x.Str("cursor"), Kind: x.Str("kind")}
	for _, p := range []struct {
		flag string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := x.Str(p.flag); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, Usagef("--%s %q: want an RFC 3339 time", p.flag, v)
			}
			*p.dst = t
		}
	}
	page, err := x.Client.Entries(ctx, x.Arg(0), q)
	for err == nil && x.Bool("all") && page.NextCursor != "" {
		q.Cursor = page.NextCursor
		var next client.EntryPage
		next, err = x.Client.Entries(ctx, x.Arg(0), q)
		page.Entries, page.NextCursor = append(page.Entries, next.Entries...), next.NextCursor
	}
	return page, err
}

func audit(ctx context.Context, x *Inv) (any, error) {
	page, err := x.Client.Audit(ctx, x.Str("cursor"), x.Int("limit"))
	for err == nil && x.Bool("all") && page.NextCursor != "" {
		var next client.AuditPage
		next, err = x.Client.Audit(ctx, page.NextCursor, x.Int("limit"))
		page.Records, page.NextCursor = append(page.Records, next.Records...), next.NextCursor
	}
	return page, err
}

// newToken is what admin-token rotate and reset print.
type newToken struct {
	Token   string `json:"token"`
	Written string `json:"written,omitempty"` // the token file, when one was written
}

// adminTokenRotate puts a new token in force through the admin API, and keeps
// the token file current when that is where the token came from.
func adminTokenRotate(ctx context.Context, x *Inv) (any, error) {
	tok, err := x.Client.RotateAdminToken(ctx)
	if err != nil {
		return nil, err
	}
	if x.conn.adminToken != "" {
		return newToken{Token: tok}, nil
	}
	return writeToken(tok, x.conn.tokenFile, x.conn.db)
}
