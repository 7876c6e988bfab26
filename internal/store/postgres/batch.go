package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// The change feed: every commit that changes accounts, credentials or the admin
// token announces it on this channel, in the same transaction, so the other nodes
// hear of it exactly when it becomes visible.
const channel = "purse_changes"

// Notification payloads.
const (
	notifyAccounts    = "a:" // + comma-separated account ids
	notifyCredentials = "c"
	notifyToken       = "t"
)

// batchTx runs a batch's transaction on one pooled connection with BEGIN and
// COMMIT as statements of their own, so that each travels with the statements next
// to it: BEGIN in the first round trip (Prefetch's, on the hot path), COMMIT in the
// write's. A batch takes two round trips to the server, plus its Sync's.
type batchTx struct {
	s     *Store
	conn  *pgxpool.Conn
	begun bool    // BEGIN has been sent
	seqs  []int64 // reserved by Prefetch, handed out by ReserveSeqs
}

// Begin takes a connection for a batch; the transaction starts with its first statement.
func (s *Store) Begin(ctx context.Context) (ledger.BatchTx, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap("begin", err)
	}
	return &batchTx{s: s, conn: c}, nil
}

// tx returns the connection inside the transaction, sending BEGIN first if no
// statement has.
func (b *batchTx) tx(ctx context.Context) (querier, error) {
	if !b.begun {
		if _, err := b.conn.Exec(ctx, "BEGIN"); err != nil {
			return nil, wrap("begin", err)
		}
		b.begun = true
	}
	return b.conn, nil
}

// open starts a pipelined batch of statements, BEGIN first if none was sent yet.
func (b *batchTx) open() *pgx.Batch {
	q := &pgx.Batch{}
	if !b.begun {
		q.Queue("BEGIN")
		b.begun = true
	}
	return q
}

// LockAccounts locks the rows in id order: every node locks in the same order, so
// two batches never wait on each other in a cycle. No row is read before it is
// locked, so what the engine decides on is what it will overwrite.
func (b *batchTx) LockAccounts(ctx context.Context, ids []string) ([]ledger.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	return queryAccounts(ctx, q, lockAccountsSQL, ids)
}

// HoldAccounts maps holds to their accounts (a hold never changes account, so no
// lock is needed to read it).
func (b *batchTx) HoldAccounts(ctx context.Context, holdIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(holdIDs) == 0 {
		return out, nil
	}
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, account_id FROM holds WHERE id = ANY($1)`, holdIDs)
	if err != nil {
		return nil, wrap("hold accounts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, acc string
		if err := rows.Scan(&id, &acc); err != nil {
			return nil, wrap("hold accounts", err)
		}
		out[id] = acc
	}
	return out, wrap("hold accounts", rows.Err())
}

func (b *batchTx) LockHolds(ctx context.Context, ids []string) ([]ledger.Hold, error) {
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	return queryHolds(ctx, q, `SELECT `+holdColumns+` FROM holds WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
}

func (b *batchTx) LockCharges(ctx context.Context, refs []ledger.ChargeRef) ([]ledger.Charge, error) {
	ids, accs := make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		ids[i], accs[i] = r.ID, r.AccountID
	}
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	// Nothing to lock here: the batch holds the lock on each charge's account
	// (the request names it), which every change to the charge takes first.
	return queryCharges(ctx, q, `SELECT `+chargeSelect+`
		FROM unnest($1::text[], $2::text[]) AS r(id, account_id)
		JOIN entries AS e ON e.movement_id = r.id AND e.account_id = r.account_id AND e.kind IN ('charge', 'capture')
		LEFT JOIN charge_refunds AS c ON c.charge_id = e.movement_id
		ORDER BY e.movement_id`, ids, accs)
}

const (
	lockAccountsSQL = `SELECT ` + accountColumns + ` FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	idempotencySQL  = `SELECT key, request_hash, status, body, created_at FROM idempotency WHERE key = ANY($1)`
	// The batch's reads and its accounts UPDATE are planned for their own
	// arguments, its inserts from cached generic plans. pgx prepares statements
	// once per connection, and after five runs PostgreSQL may keep a generic plan
	// chosen from the statistics of that moment: on a new store, nearly empty,
	// the lookups' plan scans the whole idempotency table (and accounts), and is
	// kept while the table grows until autovacuum next analyzes it. In the bench's
	// fresh store the key lookup then took milliseconds a batch and charges ran at
	// half their rate in two runs of three (BENCHMARKS.md, 2b). Planning every
	// statement instead cost the inserts' share of the rate, so they keep theirs.
	customPlansSQL = `SET LOCAL plan_cache_mode TO force_custom_plan`
	cachedPlansSQL = `SET LOCAL plan_cache_mode TO auto`
	reserveSeqsSQL = `SELECT nextval('entry_seq') FROM generate_series(1, $1)`
)

// Prefetch sends the batch's first reads as one pipelined round trip; PostgreSQL
// runs them in order, so the locks are taken in the same order as by separate
// calls, and the keys and sequence numbers are read under them.
func (b *batchTx) Prefetch(ctx context.Context, accounts, platform, keys []string, seqs int) (locked, lockedPlatform []ledger.Account, recs []ledger.IdempotencyRecord, err error) {
	begin := !b.begun
	q := b.open()
	q.Queue(customPlansSQL)
	q.Queue(lockAccountsSQL, accounts)
	q.Queue(lockAccountsSQL, platform)
	q.Queue(idempotencySQL, keys)
	q.Queue(reserveSeqsSQL, seqs)
	br := b.conn.SendBatch(ctx, q)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = wrap("prefetch", cerr)
		}
	}()
	if begin {
		if _, err := br.Exec(); err != nil {
			return nil, nil, nil, wrap("begin", err)
		}
	}
	if _, err := br.Exec(); err != nil {
		return nil, nil, nil, wrap("plans", err)
	}
	r := queued{br}
	if locked, err = queryAccounts(ctx, r, lockAccountsSQL); err != nil {
		return nil, nil, nil, err
	}
	if lockedPlatform, err = queryAccounts(ctx, r, lockAccountsSQL); err != nil {
		return nil, nil, nil, err
	}
	if recs, err = queryIdempotency(ctx, r); err != nil {
		return nil, nil, nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, nil, wrap("sequences", err)
	}
	if b.seqs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, nil, nil, wrap("sequences", err)
	}
	return locked, lockedPlatform, recs, nil
}

// queued reads the results of a sent pgx.Batch, in order, as a querier: the
// statements and their arguments were queued already.
type queued struct{ br pgx.BatchResults }

func (q queued) Query(context.Context, string, ...any) (pgx.Rows, error) { return q.br.Query() }
func (q queued) QueryRow(context.Context, string, ...any) pgx.Row        { return q.br.QueryRow() }

// Idempotency reads the batch's keys after its accounts are locked: a retry of the
// same request names the same account, so its twin on another node has committed
// (and its key is visible) or has not started.
func (b *batchTx) Idempotency(ctx context.Context, keys []string) ([]ledger.IdempotencyRecord, error) {
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	return queryIdempotency(ctx, q, keys)
}

func queryIdempotency(ctx context.Context, q querier, keys ...any) ([]ledger.IdempotencyRecord, error) {
	rows, err := q.Query(ctx, idempotencySQL, keys...)
	if err != nil {
		return nil, wrap("idempotency", err)
	}
	defer rows.Close()
	var out []ledger.IdempotencyRecord
	for rows.Next() {
		var r ledger.IdempotencyRecord
		var created int64
		if err := rows.Scan(&r.Key, &r.RequestHash, &r.Status, &r.Body, &created); err != nil {
			return nil, wrap("idempotency", err)
		}
		r.CreatedAt = fromMicros(created)
		out = append(out, r)
	}
	return out, wrap("idempotency", rows.Err())
}

// ReserveSeqs takes n values of entry_seq. The accounts are locked already, so
// every earlier entry of theirs took its value before these.
func (b *batchTx) ReserveSeqs(ctx context.Context, n int) ([]int64, error) {
	if n <= len(b.seqs) {
		seqs := b.seqs[:n:n]
		b.seqs = b.seqs[n:]
		return seqs, nil
	}
	q, err := b.tx(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, reserveSeqsSQL, n-len(b.seqs))
	if err != nil {
		return nil, wrap("sequences", err)
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, wrap("sequences", err)
	}
	seqs := append(b.seqs, more...) // the prefetched ones are the lower: still ascending
	b.seqs = nil
	return seqs, nil
}

// Rollback ends the transaction and gives the connection back (a connection that
// cannot roll back is closed by the pool, not reused).
func (b *batchTx) Rollback(ctx context.Context) {
	if b.conn == nil {
		return
	}
	if b.begun {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.conn.Exec(rctx, "ROLLBACK")
		cancel()
	}
	b.conn.Release()
	b.conn = nil
}

// Commit writes the batch with set-based statements (unnest arrays) and commits it
// without waiting for the WAL to reach the disk: the batch is durable, and other
// nodes hear of it, only after the next Sync (sync.go).
func (b *batchTx) Commit(ctx context.Context, bt *ledger.Batch) error {
	changed, err := b.write(ctx, bt)
	if err != nil {
		b.Rollback(context.Background())
		if mayHaveCommitted(err) {
			// The connection failed with the COMMIT perhaps applied (sent, its
			// answer lost). If it was, every node's cache of these accounts (this
			// one's too: its feed hears its own notifications) must read them
			// again, or serve their old balance until they next change; if it was
			// not, the announcement costs a read of rows that did not change.
			go b.s.announceUncertain(changed)
		}
		return wrap("write batch", err)
	}
	b.conn.Release()
	b.conn = nil
	b.s.announce(changed)
	return nil
}

// errRolledBack is a COMMIT answered with another tag: the server rolled back.
var errRolledBack = errors.New("the transaction was rolled back")

// mayHaveCommitted reports whether a batch that failed with err (as write
// returned it, before wrap, which keeps only its text) may have
// committed all the same: the server answered with no error of its own (a
// PostgreSQL error ends the batch's statements before its COMMIT, or rolls it
// back), so the connection failed, perhaps after the COMMIT reached it.
func mayHaveCommitted(err error) bool {
	var pgErr *pgconn.PgError
	return !errors.As(err, &pgErr) && !errors.Is(err, errRolledBack)
}

// write sends every statement of the batch in one pipelined round trip (a
// pgx.Batch): unnest arrays instead of COPY, which cannot be pipelined. The
// statements run in order, and the first error ends the batch. The error is
// pgx's own, for mayHaveCommitted.
func (b *batchTx) write(ctx context.Context, bt *ledger.Batch) (changed []string, err error) {
	q := b.open()
	q.Queue(`SET LOCAL synchronous_commit TO off`)
	if len(bt.Accounts) > 0 {
		cols := struct {
			id, kind, name, cur, status, parent, funding, alerts          []string
			bal, seq, created, updated, held, minus, spent, free, version []int64
			limit                                                         []*int64
			month                                                         []int32
			isNew, disabled                                               []bool
		}{}
		for _, a := range bt.Accounts {
			cols.id = append(cols.id, a.ID)
			cols.kind = append(cols.kind, string(a.Kind))
			cols.name = append(cols.name, a.Name)
			cols.cur = append(cols.cur, a.Currency)
			cols.status = append(cols.status, string(a.Status))
			cols.bal = append(cols.bal, int64(a.Balance))
			cols.seq = append(cols.seq, a.Seq)
			cols.created = append(cols.created, micros(a.CreatedAt))
			cols.updated = append(cols.updated, micros(a.UpdatedAt))
			cols.held = append(cols.held, int64(a.Held))
			cols.minus = append(cols.minus, int64(a.AllowedMinus))
			var lim *int64
			if a.HasMonthlyLimit {
				v := int64(a.MonthlyLimit)
				lim = &v
			}
			cols.limit = append(cols.limit, lim)
			cols.spent = append(cols.spent, int64(a.MonthlySpent))
			cols.month = append(cols.month, int32(a.SpentMonth))
			cols.free = append(cols.free, a.FreeMessages)
			cols.version = append(cols.version, a.Version)
			cols.isNew = append(cols.isNew, bt.Created[a.ID])
			cols.parent, cols.funding = append(cols.parent, a.ParentID), append(cols.funding, string(a.Funding))
			cols.disabled = append(cols.disabled, a.Disabled)
			cols.alerts = append(cols.alerts, a.AlertsOrZero().Encode())
			if a.Kind == ledger.KindCustomer {
				changed = append(changed, a.ID)
			}
		}
		// New accounts are inserted (a twin created on another node is a unique
		// violation: the engine retries and sees it); existing ones were locked by
		// this transaction, so overwriting them is safe.
		for i := range cols.id {
			if cols.isNew[i] {
				q.Queue(`INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
					cols.id[i], cols.kind[i], cols.name[i], cols.cur[i], cols.status[i], cols.bal[i], cols.seq[i], cols.created[i], cols.updated[i],
					cols.held[i], cols.minus[i], cols.limit[i], cols.spent[i], cols.month[i], cols.free[i], cols.version[i],
					cols.parent[i], cols.funding[i], cols.disabled[i], cols.alerts[i])
			}
		}
		q.Queue(`UPDATE accounts AS a SET name = u.name, status = u.status, balance = u.balance, seq = u.seq,
				updated_at = u.updated_at, held = u.held, allowed_minus = u.allowed_minus, monthly_limit = u.monthly_limit,
				monthly_spent = u.monthly_spent, spent_month = u.spent_month, free_messages = u.free_messages, version = u.version,
				disabled = u.disabled, alerts = u.alerts
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
				$9::bigint[], $10::bigint[], $11::int[], $12::bigint[], $13::bigint[], $14::bool[], $15::bool[], $16::text[])
				AS u(id, name, status, balance, seq, updated_at, held, allowed_minus, monthly_limit, monthly_spent, spent_month, free_messages, version, is_new, disabled, alerts)
			WHERE a.id = u.id AND NOT u.is_new`,
			cols.id, cols.name, cols.status, cols.bal, cols.seq, cols.updated, cols.held, cols.minus, cols.limit, cols.spent,
			cols.month, cols.free, cols.version, cols.isNew, cols.disabled, cols.alerts)
	}
	q.Queue(cachedPlansSQL) // the inserts below scan no table
	if n := len(bt.Entries); n > 0 {
		seqs, amounts, afters, created := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		movs, accs, kinds, refs, keys, metas, related, subs := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		free := make([]bool, n)
		for i, e := range bt.Entries {
			seqs[i], movs[i], accs[i], kinds[i], amounts[i], afters[i] = e.Seq, e.MovementID, e.AccountID, string(e.Kind), int64(e.Amount), int64(e.BalanceAfter)
			refs[i], keys[i], created[i], metas[i], related[i], free[i] = e.Reference, e.IdempotencyKey, micros(e.CreatedAt), codec.Metadata(e.Metadata), e.RelatedID, e.FreeMessage
			subs[i] = e.SubAccountID
		}
		q.Queue(`INSERT INTO entries (`+entryColumns+`)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[],
				$9::bigint[], $10::text[], $11::text[], $12::bool[], $13::text[])`,
			seqs, movs, accs, kinds, amounts, afters, refs, keys, created, metas, related, free, subs)
		queueHours(q, bt.Entries)
	}
	if len(bt.Holds) > 0 {
		var ids, accs, statuses, refs, chargeIDs []string
		var amounts, captured, expires, created, updated []int64
		for _, h := range bt.Holds {
			ids, accs, statuses = append(ids, h.ID), append(accs, h.AccountID), append(statuses, string(h.Status))
			refs, chargeIDs = append(refs, h.Reference), append(chargeIDs, h.ChargeID)
			amounts, captured = append(amounts, int64(h.Amount)), append(captured, int64(h.Captured))
			expires, created, updated = append(expires, micros(h.ExpiresAt)), append(created, micros(h.CreatedAt)), append(updated, micros(h.UpdatedAt))
		}
		q.Queue(`INSERT INTO holds (`+holdColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
			ON CONFLICT (id) DO UPDATE SET captured = excluded.captured, status = excluded.status,
				charge_id = excluded.charge_id, updated_at = excluded.updated_at`,
			ids, accs, amounts, captured, statuses, refs, chargeIDs, expires, created, updated)
	}
	if len(bt.Charges) > 0 { // refunded charges (a new charge is its entry)
		var refIDs, refAccs []string
		var refunded []int64
		for _, c := range bt.Charges {
			refIDs, refAccs, refunded = append(refIDs, c.ID), append(refAccs, c.AccountID), append(refunded, int64(c.Refunded))
		}
		q.Queue(`INSERT INTO charge_refunds (charge_id, account_id, refunded)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
			ON CONFLICT (charge_id) DO UPDATE SET refunded = excluded.refunded`,
			refIDs, refAccs, refunded)
	}
	if n := len(bt.Idempotency); n > 0 {
		keys, hashes, bodies := make([]string, n), make([]string, n), make([][]byte, n)
		statuses, created := make([]int32, n), make([]int64, n)
		for i, r := range bt.Idempotency {
			keys[i], hashes[i], statuses[i], bodies[i], created[i] = r.Key, r.RequestHash, int32(r.Status), r.Body, micros(r.CreatedAt)
		}
		// A key committed by another node since this batch read it is a unique
		// violation: the batch is retried and then replays that node's answer.
		q.Queue(`INSERT INTO idempotency (key, request_hash, status, body, created_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bytea[], $5::bigint[])`, keys, hashes, statuses, bodies, created)
	}
	queueEvents(q, bt.Events)
	q.Queue("COMMIT")
	br := b.conn.SendBatch(ctx, q)
	var tag pgconn.CommandTag
	for i := 0; i < q.Len() && err == nil; i++ {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" { // COMMIT of a failed transaction rolls back
		err = fmt.Errorf("%w (%s)", errRolledBack, tag)
	}
	return changed, err
}

// queueNotify announces changed accounts, in payloads under PostgreSQL's
// 8000-byte limit.
func queueNotify(q *pgx.Batch, channel string, ids []string) {
	for len(ids) > 0 {
		var b strings.Builder
		b.WriteString(notifyAccounts)
		n := 0
		for n < len(ids) && b.Len()+len(ids[n])+1 < 7900 {
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ids[n])
			n++
		}
		q.Queue(`SELECT pg_notify($1, $2)`, channel, b.String())
		ids = ids[n:]
	}
}
