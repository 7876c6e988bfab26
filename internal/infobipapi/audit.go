package infobipapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Infobip's audit logs for customers: GET /audit/1/logs and its CSV export. A
// customer reads the records of its own account and of its sub-accounts
// (ledger.CustomerAuditRecord, written through audit.Auditor.Customer), never the
// operator's audit log nor another customer's records. Both routes answer JSON
// errors in the requestError envelope, as the spec documents them.
//
// The mapping onto the spec's SearchResult: id <- the record's id ("aud_..."),
// timestamp <- its time (RFC 3339, UTC), action and item <- Infobip's Action and
// Item names the record was made with, description <- its description,
// ipAddress <- the client's address (behind --trusted-proxies, the forwarded
// one), username <- the user who acted (a Basic or IBSSO login's username; an
// API key or OAuth2 client as "key:ID" or "oauth-client:ID"). userKey filters
// on that username (purse's users have no separate key).

// auditActions and auditItems are the spec's Action and Item enums.
var (
	auditActions = []string{"Accept", "Activation", "Add", "Assign", "Buy", "Cancel", "Change", "Clone", "Create", "CreateGenerate",
		"CreateVersion", "Delete", "DeleteVersion", "Disable", "Download", "Duplicate", "Enable", "Export", "Finish", "Import",
		"InviteToMobileDemoApplication", "Launch", "LaunchVersion", "Lock", "Login", "Logout", "Merge", "Pause", "Remove", "Request",
		"Restore", "Schedule", "Sent", "StopVersion", "Successful", "Unlock", "Update", "Updated", "Unsuccessful", "Verify"}
	auditItems = []string{"TFA", "Account", "ApiKey", "AutomaticPayment", "BillingAddress", "Blacklist", "Campaign", "Communication",
		"Company", "CustomField", "Domain", "ExportConfiguration", "Forms", "Keyword", "MobileApplication", "MobileDemoApplication",
		"Number", "OneTimePayment", "Password", "Person", "Price", "Report", "Segment", "Search", "Tag", "Team", "Template", "URL",
		"User", "Website"}
)

// maxAuditLimit is the spec's largest (and default) limit.
const maxAuditLimit = 10_000

// searchResult is the spec's SearchResult.
type searchResult struct {
	ID          string `json:"id"`
	Timestamp   string `json:"timestamp"`
	Action      string `json:"action"`
	Item        string `json:"item"`
	Description string `json:"description"`
	IPAddress   string `json:"ipAddress"`
	Username    string `json:"username"`
}

// auditFilter reads the spec's query parameters.
func auditFilter(r *http.Request, account string) (ledger.CustomerAuditFilter, error) {
	q := r.URL.Query()
	f := ledger.CustomerAuditFilter{Account: account, Action: q.Get("action"), Item: q.Get("item"), IPAddress: q.Get("ipAddress"),
		Username: q.Get("userKey"), Description: q.Get("description")}
	if f.Action != "" && !slices.Contains(auditActions, f.Action) {
		return f, badParamf("action", "must be one of Infobip's actions: %s", strings.Join(auditActions, ", "))
	}
	if f.Item != "" && !slices.Contains(auditItems, f.Item) {
		return f, badParamf("item", "must be one of Infobip's items: %s", strings.Join(auditItems, ", "))
	}
	for _, t := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(t.name); s != "" {
			at, ok := parseSpecTime(s)
			if !ok {
				return f, badParam(t.name, "must be a date-time such as 2026-01-01T00:00:00.000Z")
			}
			*t.dst = &at
		}
	}
	var err error
	f.Limit, err = queryInt(r, "limit", maxAuditLimit, 1, maxAuditLimit)
	return f, err
}

// auditRecords reads the caller's records through the request's filters.
func (a *API) auditRecords(r *http.Request, x *exchange) ([]ledger.CustomerAuditRecord, error) {
	f, err := auditFilter(r, x.p.AccountID)
	if err != nil {
		return nil, err
	}
	if a.AuditLog == nil {
		return nil, nil
	}
	return a.AuditLog.ListCustomerAudit(r.Context(), f)
}

func toSearchResult(rec ledger.CustomerAuditRecord) searchResult {
	return searchResult{ID: rec.ID, Timestamp: specTime(rec.At), Action: rec.Action, Item: rec.Item, Description: rec.Description,
		IPAddress: rec.IPAddress, Username: rec.Username}
}

// auditLogs is GET /audit/1/logs: a JSON array of SearchResult, oldest first.
func (a *API) auditLogs(w http.ResponseWriter, r *http.Request, x *exchange) {
	x.f = httpkit.JSON // the spec's only type for this route
	recs, err := a.auditRecords(r, x)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	out := make([]searchResult, 0, len(recs))
	for _, rec := range recs {
		out = append(out, toSearchResult(rec))
	}
	b, err := json.Marshal(out)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	httpkit.Write(w, httpkit.JSON, http.StatusOK, b)
}

// csvHeader is the export's first line: SearchResult's fields.
var csvHeader = []string{"id", "timestamp", "action", "item", "description", "ipAddress", "username"}

// csvCell keeps a spreadsheet from reading a cell as a formula: a customer
// chooses key names, and a description that starts with = + - @ (or a tab or
// carriage return) would run when the export is opened (OWASP's CSV injection),
// so such a cell starts with a quote.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportAuditLogs is GET /audit/1/logs/export: the same records as text/csv.
func (a *API) exportAuditLogs(w http.ResponseWriter, r *http.Request, x *exchange) {
	recs, err := a.auditRecords(r, x)
	if err != nil {
		a.failFor(w, r, x, err)
		return
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(csvHeader) //nolint:errcheck // a strings.Builder does not fail
	for _, rec := range recs {
		s := toSearchResult(rec)
		cw.Write([]string{s.ID, s.Timestamp, s.Action, s.Item, csvCell(s.Description), s.IPAddress, csvCell(s.Username)}) //nolint:errcheck
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit-logs.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}
