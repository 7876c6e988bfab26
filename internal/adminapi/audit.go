package adminapi

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

type statusWriter struct {
	http.ResponseWriter
	status int
	shed   bool   // the engine shed the request: it never reached the ledger
	actor  string // who the request acted for, once authed knows
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets httpkit.SetPrincipal and http.ResponseController reach the writer below.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// audited records the request when it is an action (not a read) or a refused
// token, after it is served.
func (a *API) audited(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	if a.cfg.Audit == nil || !strings.HasPrefix(r.URL.Path, "/v1/") {
		serve(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	serve(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if r.Method == http.MethodGet && sw.status != http.StatusUnauthorized || sw.shed {
		// A shed request did nothing; recorded, an overload would grow the log by
		// its refusals' rate and load the store that is already behind.
		return
	}
	actor := sw.actor
	if actor == "" {
		actor = "unauthenticated"
		if scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
			if name, ok := a.cfg.Token.Actor(tok); ok {
				actor = name // a route that needs no token, or none at all
			}
		}
	}
	action := r.Pattern
	if action == "" || action == "/" {
		action = r.Method + " (no route)"
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	rec := ledger.AuditRecord{At: time.Now().UTC(), Actor: actor, Action: action, Target: r.URL.Path, Remote: remote, Status: sw.status}
	if actor == "unauthenticated" {
		a.cfg.Audit.Unauthenticated(rec)
		return
	}
	a.cfg.Audit.Record(rec)
}

type auditJSON struct {
	Sequence int64  `json:"sequence"`
	At       string `json:"at"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	Target   string `json:"target"`
	Remote   string `json:"remote"`
	Status   int    `json:"status"`
}

// listAudit is GET /v1/audit?limit=&cursor=, newest first.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := ledger.AuditFilter{}
	if f.Limit, err = pageLimit(q); err != nil {
		a.fail(w, r, err)
		return
	}
	if c := q.Get("cursor"); c != "" {
		pos, err := decodeCursor(c, "u")
		n, perr := strconv.ParseInt(pos, 10, 64)
		if err != nil || perr != nil || n <= 0 {
			a.fail(w, r, ledger.Invalid("cursor", "is not a cursor this API returned"))
			return
		}
		f.BeforeSeq = n
	}
	if err := a.cfg.Audit.Flush(r.Context()); err != nil { // show every action up to now
		a.fail(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++
	recs, err := a.cfg.Store.ListAudit(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Records    []auditJSON `json:"records"`
		NextCursor string      `json:"nextCursor,omitempty"`
	}{Records: []auditJSON{}}
	if len(recs) > limit {
		recs = recs[:limit]
		out.NextCursor = encodeCursor("u", strconv.FormatInt(recs[limit-1].Seq, 10))
	}
	for _, rec := range recs {
		out.Records = append(out.Records, auditJSON{rec.Seq, ts(rec.At), rec.Actor, rec.Action, rec.Target, rec.Remote, rec.Status})
	}
	a.reply(w, http.StatusOK, out)
}
