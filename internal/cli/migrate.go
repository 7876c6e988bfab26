package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/postgres"
	"github.com/purse-ledger/purse/internal/store/rowsum"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// purse migrate copies every table of the embedded store, found in its schema: a
// table that PostgreSQL has by the same name, with every column the source has, is
// copied as it is, so a table added to both stores by a later change is copied
// without a change here. The few tables that differ between the stores are named
// below, each with the reason. Any other table, or a column the target lacks, fails
// the migration before anything is copied. Each table is then read back inside the
// same transaction and compared with the source, rows and checksum (rowsum), and
// only an exact match commits.

// tableMaps are the embedded store's tables that do not copy one to one.
var tableMaps = map[string]struct {
	target string // "": not copied
	why    string
	drop   []string // source columns not copied
	where  string   // which source rows are copied
}{
	"schema_migrations": {why: "each store keeps its own schema version"},
	"entry_blocks":      {target: "entries", why: "the embedded store packs an account's entries of one batch into a block; PostgreSQL keeps a row per entry"},
	"event_blocks":      {target: "events", why: "the embedded store packs a batch's events into a block (an entry.created refers to its entry); PostgreSQL keeps a row per event"},
	"delivery_blocks":   {target: "deliveries", why: "the embedded store packs a deliverer's save of its webhook delivery log into a block; PostgreSQL keeps a row per attempt"},
	"idempotency": {target: "idempotency", why: "the embedded store's log keeps records in commit order (id); PostgreSQL keys them by key, the newest record of a key",
		drop: []string{"id"}, where: `id IN (SELECT max(id) FROM idempotency GROUP BY key)`},
}

// entryColumns are the columns of PostgreSQL's entries, in the order entryRow fills them.
var entryColumns = []string{"seq", "movement_id", "account_id", "kind", "amount", "balance_after", "reference",
	"idempotency_key", "created_at", "metadata", "related_id", "free_message", "sub_account_id"}

// eventColumns are the columns of PostgreSQL's events, in the order eventRow fills them.
var eventColumns = []string{"seq", "id", "type", "account_id", "parent_id", "at", "data"}

// deliveryColumns are the columns of PostgreSQL's deliveries, in the order deliveryRow fills them.
var deliveryColumns = []string{"seq", "subscription_id", "event_id", "event_seq", "attempt", "at", "status", "latency_us", "ok", "snippet"}

func deliveryRow(d ledger.Delivery) []any {
	return []any{d.Seq, d.SubscriptionID, d.EventID, d.EventSeq, int64(d.Attempt), d.At.UnixMicro(), int64(d.Status), d.Latency.Microseconds(), d.OK, d.Snippet}
}

func eventRow(e ledger.Event) []any {
	return []any{e.Seq, e.ID, string(e.Type), e.AccountID, e.ParentID, e.At.UnixMicro(), e.Data}
}

func entryRow(e ledger.Entry) []any {
	return []any{e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter), e.Reference,
		e.IdempotencyKey, e.CreatedAt.UnixMicro(), codec.Metadata(e.Metadata), e.RelatedID, e.FreeMessage, e.SubAccountID}
}

// tableCopy is the plan for one source table.
type tableCopy struct {
	source, target string
	columns        []string // copied, the same names on both sides
	where          string
	sum            rowsum.Sum // of the rows copied, as read from the source
}

// migrate copies an embedded store into an empty PostgreSQL database, in one
// transaction, compares every table with its source, then checks the target.
func migrate(ctx context.Context, x *Inv) (any, error) {
	return nil, migrateStore(ctx, x.Stdout, x.Str("from"), x.Str("to"), x.Bool("include-demo"))
}

func migrateStore(ctx context.Context, stdout io.Writer, from, to string, includeDemo bool) error {
	if !postgres.IsURL(to) {
		return Usagef("--to must be a postgres:// URL")
	}
	src, err := sqlite.Open(ctx, from, sqlite.Existing())
	if err != nil {
		if errors.Is(err, sqlite.ErrLocked) {
			err = fmt.Errorf("%w; stop purse serve first", err)
		}
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	skip, err := demoToSkip(ctx, src, includeDemo)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dst, err := postgres.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	var plan []*tableCopy
	err = dst.Import(ctx, func(im *postgres.Importer) (err error) {
		plan, err = copyAll(ctx, src, im, tables, skip)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, t := range plan {
		fmt.Fprintf(stdout, "%-16s -> %-16s %v, the same in the target\n", t.source, t.target, t.sum)
	}
	for _, id := range sortedKeys(skip) {
		fmt.Fprintf(stdout, "left out demo account %s (pass --include-demo to copy it)\n", id)
	}
	rep, err := ledger.Check(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate: check the target: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("migrate: the target fails check: %s", strings.Join(rep.Problems, "; "))
	}
	fmt.Fprintln(stdout, "ok: every table copied and compared; the target passes purse check")
	return nil
}

// copyAll copies every table into the import's transaction, reads each back and
// compares it with what was read from the source: the plan, or an error and
// nothing committed.
func copyAll(ctx context.Context, src *sqlite.Store, im *postgres.Importer, tables []sqlite.Table, skip map[string]bool) ([]*tableCopy, error) {
	target, err := im.Tables()
	if err != nil {
		return nil, err
	}
	plan, err := planCopy(tables, target, skip)
	if err != nil {
		return nil, err
	}
	if err := orderByReferences(im, plan); err != nil {
		return nil, err
	}
	for _, t := range plan {
		if n, err := im.Count(t.target); err != nil {
			return nil, err
		} else if n > 0 {
			return nil, fmt.Errorf("the target is not empty (%s holds %d rows); purse migrate needs an empty database", t.target, n)
		}
	}
	for _, t := range plan {
		if err := copyTable(ctx, src, im, t, target[t.target], skip); err != nil {
			return nil, err
		}
	}
	// Read every table back and compare it with what was read from the source.
	var bad []string
	for _, t := range plan {
		got, err := im.Sum(t.target, t.columns)
		if err != nil {
			return nil, err
		}
		if got != t.sum {
			bad = append(bad, fmt.Sprintf("%s: source %v, target %v", t.target, t.sum, got))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("the copy differs from the source, nothing was committed: %s", strings.Join(bad, "; "))
	}
	return plan, nil
}

// planCopy decides where each source table goes, and fails on a table or a column
// the target does not have: migrate copies everything, or nothing.
func planCopy(tables []sqlite.Table, target map[string]map[string]string, skip map[string]bool) ([]*tableCopy, error) {
	var plan []*tableCopy
	var unknown []string
	for _, t := range tables {
		m, mapped := tableMaps[t.Name]
		switch {
		case mapped && m.target == "":
			continue
		case t.Name == "entry_blocks":
			plan = append(plan, &tableCopy{source: t.Name, target: m.target, columns: entryColumns})
			continue
		case t.Name == "event_blocks":
			plan = append(plan, &tableCopy{source: t.Name, target: m.target, columns: eventColumns})
			continue
		case t.Name == "delivery_blocks":
			plan = append(plan, &tableCopy{source: t.Name, target: m.target, columns: deliveryColumns})
			continue
		case !mapped:
			m.target = t.Name
		}
		cols, ok := target[m.target]
		if !ok {
			unknown = append(unknown, fmt.Sprintf("table %s (not in the target's schema)", t.Name))
			continue
		}
		tc := &tableCopy{source: t.Name, target: m.target, where: m.where}
		for _, c := range t.Columns {
			if slices.Contains(m.drop, c) {
				continue
			}
			if _, ok := cols[c]; !ok {
				unknown = append(unknown, fmt.Sprintf("column %s.%s (not in the target's %s)", t.Name, c, m.target))
			}
			tc.columns = append(tc.columns, c)
		}
		if len(skip) > 0 {
			ids := quotedList(sortedKeys(skip))
			var cond string
			switch {
			case t.Name == "accounts":
				cond = "id NOT IN (" + ids + ")"
			case slices.Contains(t.Columns, "account_id"):
				cond = "account_id NOT IN (" + ids + ")"
			}
			if cond != "" && tc.where != "" {
				tc.where = "(" + tc.where + ") AND " + cond
			} else if cond != "" {
				tc.where = cond
			}
		}
		plan = append(plan, tc)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("purse migrate does not know where to copy %s; nothing was copied", strings.Join(unknown, ", "))
	}
	return plan, nil
}

// orderByReferences puts each table after the tables its foreign keys refer to,
// so that COPY never inserts a row before the row it references.
func orderByReferences(im *postgres.Importer, plan []*tableCopy) error {
	refs, err := im.References()
	if err != nil {
		return err
	}
	rank := map[string]int{}
	var depth func(t string, seen map[string]bool) int
	depth = func(t string, seen map[string]bool) int {
		if r, ok := rank[t]; ok {
			return r
		}
		if seen[t] {
			return 0
		}
		seen[t] = true
		d := 0
		for _, r := range refs[t] {
			if r != t {
				d = max(d, depth(r, seen)+1)
			}
		}
		rank[t] = d
		return d
	}
	for _, t := range plan {
		depth(t.target, map[string]bool{})
	}
	sort.SliceStable(plan, func(i, j int) bool {
		if rank[plan[i].target] != rank[plan[j].target] {
			return rank[plan[i].target] < rank[plan[j].target]
		}
		return plan[i].target < plan[j].target
	})
	return nil
}

// copyTable copies one table and checksums what it read from the source.
func copyTable(ctx context.Context, src *sqlite.Store, im *postgres.Importer, t *tableCopy, types map[string]string, skip map[string]bool) error {
	var rows func(emit func([]any) error) error
	switch t.source {
	case "event_blocks":
		rows = func(emit func([]any) error) error { return eachEvent(ctx, src, t, skip, emit) }
	case "delivery_blocks":
		rows = func(emit func([]any) error) error {
			return src.EachDelivery(ctx, func(d ledger.Delivery) error {
				row := deliveryRow(d)
				t.sum.Add(row)
				return emit(row)
			})
		}
	case "entry_blocks":
		rows = func(emit func([]any) error) error {
			return src.EachEntry(ctx, func(en ledger.Entry) error {
				if skip[en.AccountID] {
					return nil
				}
				row := entryRow(en)
				t.sum.Add(row)
				return emit(row)
			})
		}
	default:
		rows = func(emit func([]any) error) error {
			return src.Rows(ctx, t.source, t.columns, t.where, func(row []any) error {
				t.sum.Add(row)
				return emit(row)
			})
		}
	}
	if err := im.Copy(t.target, t.columns, types, rows); err != nil {
		return err
	}
	return im.ContinueSequences(t.target, t.columns)
}

// eachEvent emits every event of the embedded store, oldest first, as PostgreSQL's
// rows (the same sequences, so webhook cursors mean the same), but those of
// accounts left out.
func eachEvent(ctx context.Context, src *sqlite.Store, t *tableCopy, skip map[string]bool, emit func([]any) error) error {
	var after int64
	for {
		evs, err := src.ListEvents(ctx, ledger.EventFilter{After: after, Limit: 10000})
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, e := range evs {
			after = e.Seq
			if skip[e.AccountID] {
				continue
			}
			row := eventRow(e)
			t.sum.Add(row)
			if err := emit(row); err != nil {
				return err
			}
		}
	}
}

// demoToSkip is the set of demo accounts migrate leaves out: all of them unless
// includeDemo. An account is left out with all its rows (credentials, holds,
// entries), which keeps every currency's entries summing to zero only when its own
// entries do, that is when its balance is 0: the platform's side of its movements
// is booked in per-batch entries of the funding and revenue accounts, which are
// copied as they are. So a demo account that still holds money is an error that
// says how to empty it (purse demo remove), not a silent hole in the ledger.
func demoToSkip(ctx context.Context, src *sqlite.Store, includeDemo bool) (map[string]bool, error) {
	if includeDemo {
		return nil, nil
	}
	ids, err := src.DemoAccounts(ctx)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	accts, err := src.LoadAccounts(ctx)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, id := range ids {
		for _, a := range accts {
			if a.ID == id && (a.Balance != 0 || a.Held != 0) {
				return nil, fmt.Errorf("demo account %s holds %s %s (%s on hold): remove it first with `purse demo remove` "+
					"(purse serve running), or copy it with --include-demo", id, a.Balance, a.Currency, a.Held)
			}
		}
		skip[id] = true
	}
	return skip, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// quotedList is ids as a list of SQL string literals.
func quotedList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "'" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}
