package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/purse-ledger/purse/client"
)

// The text printers of the table's rows. Every string that came from the server
// goes through tprintf (term.go), so a control character in a name is shown
// quoted, never sent raw to the terminal.

func printAccount(w io.Writer, a client.Account) {
	limit := "none"
	if a.MonthlyLimit != nil {
		limit = *a.MonthlyLimit
	}
	tprintf(w, "id\t%s\nname\t%s\ncurrency\t%s\nstatus\t%s\nbalance\t%s\nallowed minus\t%s\nmonthly limit\t%s\nfree messages\t%d\ncreated\t%s\n",
		a.ID, a.Name, a.Currency, a.Status, a.Balance, a.AllowedMinus, limit, a.FreeMessages, a.CreatedAt)
	if a.Parent != "" {
		tprintf(w, "parent\t%s\nfunding\t%s\nenabled\t%t\n", a.Parent, a.Funding, a.Enabled != nil && *a.Enabled)
	}
}

func printSubAccounts(w io.Writer, page client.AccountPage) {
	fmt.Fprintln(w, "ID\tNAME\tFUNDING\tENABLED\tSTATUS\tBALANCE")
	for _, a := range page.Accounts {
		tprintf(w, "%s\t%s\t%s\t%t\t%s\t%s\n", a.ID, a.Name, a.Funding, a.Enabled != nil && *a.Enabled, a.Status, a.Balance)
	}
}

func printTransfer(w io.Writer, t client.Transfer) {
	tprintf(w, "%s\t%s -> %s\t%s\t%s's balance %s", t.ID, t.From, t.To, t.Amount, t.From, t.FromBalanceAfter)
	if t.Reference != "" {
		tprintf(w, "\treference %s", t.Reference)
	}
	fmt.Fprintln(w)
}

func printAccounts(w io.Writer, page client.AccountPage) {
	fmt.Fprintln(w, "ID\tNAME\tCURRENCY\tSTATUS\tBALANCE")
	for _, a := range page.Accounts {
		tprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Currency, a.Status, a.Balance)
	}
	printNext(w, page.NextCursor)
}

func printNext(w io.Writer, cursor string) {
	if cursor != "" {
		tprintf(w, "next page: --cursor %s\n", cursor)
	}
}

func printUsers(w io.Writer, users []client.User) {
	fmt.Fprintln(w, "USERNAME\tCREATED")
	for _, u := range users {
		tprintf(w, "%s\t%s\n", u.Username, u.CreatedAt)
	}
}

func printAPIKey(w io.Writer, k client.APIKey) {
	tprintf(w, "id\t%s\nname\t%s\nscopes\t%s\nkey\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, " "), k.Key)
	printKeyRules(w, k)
	fmt.Fprintln(w, "The key is shown only now; use it as: Authorization: App <key>")
}

func printAPIKeys(w io.Writer, keys []client.APIKey) {
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
	for _, k := range keys {
		tprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, " "), k.CreatedAt, k.RevokedAt)
	}
}

func printOAuthClient(w io.Writer, oc client.OAuthClient) {
	tprintf(w, "client_id\t%s\nclient_secret\t%s\nname\t%s\nscopes\t%s\n", oc.ClientID, oc.ClientSecret, oc.Name, strings.Join(oc.Scopes, " "))
	fmt.Fprintln(w, "The secret is shown only now; exchange it at POST /auth/1/oauth2/token (grant_type=client_credentials)")
}

func printOAuthClients(w io.Writer, list []client.OAuthClient) {
	fmt.Fprintln(w, "CLIENT_ID\tNAME\tSCOPES\tCREATED\tREVOKED")
	for _, oc := range list {
		tprintf(w, "%s\t%s\t%s\t%s\t%s\n", oc.ClientID, oc.Name, strings.Join(oc.Scopes, " "), oc.CreatedAt, oc.RevokedAt)
	}
}

// printEntry is the one line of every money movement: top-up, charge, refund,
// adjustment and capture print the same columns.
func printEntry(w io.Writer, e client.Entry) {
	tprintf(w, "%s\t%s\t%s\t%s\tbalance %s", e.ID, e.AccountID, e.Kind, e.Amount, e.BalanceAfter)
	if e.FreeMessage {
		fmt.Fprint(w, "\t(free message)")
	}
	if e.ChargeID != "" {
		tprintf(w, "\tcharge %s", e.ChargeID)
	}
	if e.HoldID != "" {
		tprintf(w, "\thold %s", e.HoldID)
	}
	if e.SubAccountID != "" {
		tprintf(w, "\tsub-account %s", e.SubAccountID)
	}
	if e.CounterpartyID != "" {
		tprintf(w, "\twith %s", e.CounterpartyID)
	}
	if e.Reference != "" {
		tprintf(w, "\treference %s", e.Reference)
	}
	fmt.Fprintln(w)
}

func printHold(w io.Writer, h client.Hold) {
	tprintf(w, "id\t%s\naccount\t%s\namount\t%s\ncaptured\t%s\nstatus\t%s\nexpires\t%s\n", h.ID, h.AccountID, h.Amount, h.Captured, h.Status, h.ExpiresAt)
	if h.ChargeID != "" {
		tprintf(w, "charge\t%s\n", h.ChargeID)
	}
}

func printBatch(w io.Writer, res client.BatchResponse) {
	ok := 0
	for i, r := range res.Results {
		switch {
		case r.Error != nil:
			tprintf(w, "%d\t%d\t%s\t%s\n", i, r.Status, r.Error.MessageID, r.Error.Text)
		case r.Entry != nil:
			ok++
			tprintf(w, "%d\t%d\t%s\t%s\tbalance %s\n", i, r.Status, r.Entry.Kind, r.Entry.Amount, r.Entry.BalanceAfter)
		case r.Hold != nil:
			ok++
			tprintf(w, "%d\t%d\thold %s\t%s\n", i, r.Status, r.Hold.ID, r.Hold.Status)
		}
	}
	tprintf(w, "%d of %d applied; committed: %v\n", ok, len(res.Results), res.Committed)
}

func printBalance(w io.Writer, b balanceAnswer) {
	switch a := b.admin; {
	case b.customer != nil:
		tprintf(w, "%s %s\n", b.customer.Balance, b.customer.Currency)
	case b.at:
		tprintf(w, "%s %s (as of %s, sequence %d)\n", a.Balance, a.Currency, a.AsOf, a.Sequence)
	case a.Available != "" && (a.Held != "0" || a.AllowedMinus != "0"):
		tprintf(w, "%s %s (available %s, held %s)\n", a.Balance, a.Currency, a.Available, a.Held)
	default:
		tprintf(w, "%s %s\n", a.Balance, a.Currency)
	}
}

func printEntries(w io.Writer, page client.EntryPage) {
	fmt.Fprintln(w, "SEQ\tTIME\tKIND\tAMOUNT\tBALANCE\tREFERENCE\tID")
	for _, e := range page.Entries {
		tprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Sequence, e.CreatedAt, e.Kind, e.Amount, e.BalanceAfter, e.Reference, e.ID)
	}
	printNext(w, page.NextCursor)
}

func printAudit(w io.Writer, page client.AuditPage) {
	fmt.Fprintln(w, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tFROM\tSTATUS")
	for _, r := range page.Records {
		tprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Sequence, r.At, r.Actor, r.Action, r.Target, r.Remote, r.Status)
	}
	printNext(w, page.NextCursor)
}

func printNewToken(w io.Writer, t newToken) {
	fmt.Fprintf(w, "new admin token in force on every node: %s\n", t.Token)
	if t.Written != "" {
		fmt.Fprintf(w, "written to %s\n", t.Written)
	}
}
