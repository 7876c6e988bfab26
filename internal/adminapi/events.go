package adminapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// The events feed: GET /v1/events?after=<sequence>&types=&account=&limit=&wait=.
// The cursor is the last sequence the consumer saw: the store numbers events in
// commit order (ledger.EventLog), so resuming after it, on this node or another,
// after a restart or a failover, misses nothing and repeats nothing. wait makes it
// a long poll: with nothing to return, the request waits up to that long for the
// first event to commit.

const (
	defaultEventPage = 100
	maxEventPage     = 1000
	// maxEventWait is the longest a request waits: under the admin listener's 30 s
	// read timeout, past which net/http cancels the request's context. A longer
	// wait= (the usual 30s of long polls) is shortened to it, not refused: a long
	// poll may always return early, empty.
	maxEventWait = 25 * time.Second
	// eventPoll is how often a waiting request looks at the store again for what
	// other nodes committed (this node's commits wake it at once).
	eventPoll = 200 * time.Millisecond
)

type eventJSON struct {
	Sequence  int64           `json:"sequence"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	AccountID string          `json:"accountId"`
	ParentID  string          `json:"parentId,omitempty"`
	At        string          `json:"at"`
	Data      json.RawMessage `json:"data"`
}

func toEventJSON(e ledger.Event) eventJSON {
	return eventJSON{Sequence: e.Seq, ID: e.ID, Type: string(e.Type), AccountID: e.AccountID, ParentID: e.ParentID,
		At: ts(e.At), Data: json.RawMessage(e.Data)}
}

// eventQuery reads the feed's parameters; each bad one is a field error.
func eventQuery(q url.Values) (ledger.EventFilter, time.Duration, error) {
	v := &ledger.ValidationError{}
	f := ledger.EventFilter{Limit: defaultEventPage, AccountID: q.Get("account")}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			v.Add("after", "must be a sequence number, 0 or more")
		}
		f.After = n
	}
	if s := q.Get("types"); s != "" {
		for _, t := range strings.Split(s, ",") {
			if !ledger.ValidEventType(t) {
				v.Add("types", "has an unknown event type "+strconv.Quote(t))
				continue
			}
			f.Types = append(f.Types, ledger.EventType(t))
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxEventPage {
			v.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(maxEventPage))
		}
		f.Limit = n
	}
	f.WithChildren = q.Get("children") == "true"
	var wait time.Duration
	if s := q.Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			v.Add("wait", "must be a duration of 0s or more, such as 30s")
		}
		wait = min(d, maxEventWait)
	}
	return f, wait, v.Err()
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, wait, err := eventQuery(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if a.cfg.Events == nil {
		a.fail(w, r, ledger.ErrUnavailable)
		return
	}
	evs, head, err := a.waitEvents(r, f, wait)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Events []eventJSON `json:"events"`
		Next   int64       `json:"next"` // the cursor to pass as after= next time
	}{Events: make([]eventJSON, 0, len(evs)), Next: f.After}
	for _, e := range evs {
		out.Events = append(out.Events, toEventJSON(e))
		out.Next = e.Seq
	}
	if len(evs) < f.Limit && head > out.Next {
		out.Next = head // every wanted event up to the head is here: skip the others next time
	}
	a.reply(w, http.StatusOK, out)
}

// waitEvents reads the events after the cursor, up to the store's head (which it
// returns too); with none, it waits up to wait for some, woken by this node's
// commits and polling for other nodes'.
func (a *API) waitEvents(r *http.Request, f ledger.EventFilter, wait time.Duration) ([]ledger.Event, int64, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(eventPoll)
	defer poll.Stop()
	for {
		woken := a.cfg.Engine.EventsCommitted() // before the read: a commit after it wakes us
		head, err := a.cfg.Events.EventHead(r.Context())
		if err != nil {
			return nil, 0, err
		}
		if f.After > head { // the head never goes back (the newest event is never pruned)
			v := &ledger.ValidationError{}
			v.Add("after", "is past the newest event, "+strconv.FormatInt(head, 10)+
				": a cursor of another store, or of this one before a restore or reset; events after it would be skipped")
			return nil, 0, v.Err()
		}
		f.UpTo = head
		evs, err := a.cfg.Events.ListEvents(r.Context(), f)
		if err != nil || len(evs) > 0 || wait == 0 {
			return evs, head, err
		}
		select {
		case <-woken:
		case <-poll.C:
		case <-deadline.C:
			return nil, head, nil
		case <-a.cfg.Draining: // the client asks again, of the node that takes over
			return nil, head, nil
		case <-r.Context().Done():
			return nil, 0, r.Context().Err()
		}
	}
}
