package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/purse-ledger/purse/internal/codec"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Entry blocks: how the embedded store keeps entries.
//
// A block is one account's entries from one engine batch, in sequence order, in one
// row of entry_blocks. Writing an entry as its own row cost the writer about ten
// b-tree insertions and a dozen bound values per entry inside SQLite; a block costs
// two insertions (the row and its (account, first_seq) index entry) per account per
// batch, and the entries themselves are appended to a byte slice in Go. Reading is
// per block too: an account's history is its blocks in first_seq order, and within
// an account blocks never overlap (each batch's sequence numbers follow the last
// batch's). Entries of different accounts in one batch interleave, so a reader of
// every entry in global order merges blocks (EachEntry).
//
// A block's data is codec.EntryVersion, then its entries in that format, each
// relative to the one before (the first to first_seq and first_at); the account
// is the block's.

// encodeBlock appends the encoding of one account's entries (seq ascending) to buf.
func encodeBlock(buf []byte, entries []ledger.Entry) []byte {
	buf = append(buf, codec.EntryVersion)
	prev, firstAt := entries[0].Seq, micros(entries[0].CreatedAt)
	for i := range entries {
		buf = codec.AppendEntry(buf, &entries[i], prev, firstAt)
		prev = entries[i].Seq
	}
	return buf
}

var errBadBlock = errors.New("corrupt entry block")

// decodeBlock returns a block's n entries.
func decodeBlock(accountID string, firstSeq, firstAt int64, n int, data []byte) ([]ledger.Entry, error) {
	// Blocks written before sub-accounts are version 1; they stay as written.
	if len(data) == 0 || data[0] < 1 || data[0] > codec.EntryVersion {
		return nil, fmt.Errorf("entry block %d: %w (version)", firstSeq, errBadBlock)
	}
	v := data[0]
	r := &codec.Reader{B: data[1:]}
	out := make([]ledger.Entry, 0, n)
	seq := firstSeq
	for i := 0; i < n && !r.Bad; i++ {
		e := r.ReadEntryVersion(v, seq, firstAt)
		e.AccountID = accountID
		seq = e.Seq
		out = append(out, e)
	}
	if r.Bad || len(r.B) != 0 {
		return nil, fmt.Errorf("entry block %d: %w", firstSeq, errBadBlock)
	}
	return out, nil
}

// blockRow is one entry_blocks row as written.
type blockRow struct {
	first, last, batchLast int64
	account                string
	n                      int
	firstAt, lastAt        int64
	data                   []byte
}

// blocksOf groups a batch's entries (in any order) into one block per account
// (and per created_at, for converted entries).
func blocksOf(entries []ledger.Entry) []blockRow {
	if len(entries) == 0 {
		return nil
	}
	byAccount := map[string][]ledger.Entry{}
	var order []string
	var batchLast int64
	for _, e := range entries {
		if _, ok := byAccount[e.AccountID]; !ok {
			order = append(order, e.AccountID)
		}
		byAccount[e.AccountID] = append(byAccount[e.AccountID], e)
		batchLast = max(batchLast, e.Seq)
	}
	rows := make([]blockRow, 0, len(order))
	for _, acc := range order {
		es := byAccount[acc]
		sort.Slice(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
		// One block per run of entries with one created_at (an engine batch has one
		// time; converted entries may not), so that a block's time is its entries'.
		for len(es) > 0 {
			n := 1
			for n < len(es) && es[n].CreatedAt.Equal(es[0].CreatedAt) {
				n++
			}
			run := es[:n]
			rows = append(rows, blockRow{first: run[0].Seq, last: run[n-1].Seq, batchLast: batchLast, account: acc, n: n,
				firstAt: micros(run[0].CreatedAt), lastAt: micros(run[n-1].CreatedAt), data: encodeBlock(nil, run)})
			es = es[n:]
		}
	}
	return rows
}

// insertBlocks writes a batch's entries as blocks, and returns the smallest and
// the largest first_seq of them (the range an event block refers to).
func (b *batchTx) insertBlocks(ctx context.Context, entries []ledger.Entry) (lo, hi int64, err error) {
	blocks := blocksOf(entries)
	rows := make([][]any, len(blocks))
	for i, bl := range blocks {
		rows[i] = []any{bl.first, bl.last, bl.batchLast, bl.account, bl.n, bl.firstAt, bl.lastAt, bl.data}
		if i == 0 || bl.first < lo {
			lo = bl.first
		}
		hi = max(hi, bl.first)
	}
	return lo, hi, b.insertRows(ctx, "INSERT INTO entry_blocks (first_seq, last_seq, batch_last, account_id, n, first_at, last_at, data)", 8, rows, "")
}

const blockColumns = `account_id, first_seq, first_at, n, data`

// scanBlocks decodes the blocks a query returns, calling each with every block's
// entries until it returns false.
func scanBlocks(rows *sql.Rows, each func([]ledger.Entry) bool) error {
	return scanBlocksIf(rows, nil, each)
}

// scanBlocksIf is scanBlocks for only the blocks whose encoded bytes keep accepts
// (nil: all), so a search can skip decoding the rest.
func scanBlocksIf(rows *sql.Rows, keep func(data []byte) bool, each func([]ledger.Entry) bool) error {
	defer rows.Close()
	for rows.Next() {
		var acc string
		var first, firstAt int64
		var n int
		var data []byte
		if err := rows.Scan(&acc, &first, &firstAt, &n, &data); err != nil {
			return err
		}
		if keep != nil && !keep(data) {
			continue
		}
		es, err := decodeBlock(acc, first, firstAt, n, data)
		if err != nil {
			return err
		}
		if !each(es) {
			break
		}
	}
	return rows.Err()
}

// LastSeq returns the sequence number of the newest entry, 0 when there is none:
// the newest block belongs to the newest batch, and knows that batch's last entry.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT batch_last FROM entry_blocks ORDER BY first_seq DESC LIMIT 1`).Scan(&seq); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: last seq: %w", err)
	}
	return seq.Int64, nil
}

// Entries returns every entry of one account, oldest first (purse check, tests).
func (s *Store) Entries(ctx context.Context, accountID string) ([]ledger.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+blockColumns+` FROM entry_blocks WHERE account_id = ? ORDER BY first_seq`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries: %w", err)
	}
	var out []ledger.Entry
	if err := scanBlocks(rows, func(es []ledger.Entry) bool { out = append(out, es...); return true }); err != nil {
		return nil, fmt.Errorf("sqlite: entries: %w", err)
	}
	return out, nil
}

// ListEntries pages an account's entries newest first, filtered by f.
func (s *Store) ListEntries(ctx context.Context, accountID string, f ledger.EntryFilter) ([]ledger.Entry, error) {
	q := `SELECT ` + blockColumns + ` FROM entry_blocks WHERE account_id = ?`
	args := []any{accountID}
	if f.BeforeSeq > 0 {
		q += ` AND first_seq < ?`
		args = append(args, f.BeforeSeq)
	}
	if !f.From.IsZero() {
		q += ` AND last_at >= ?`
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND first_at < ?`
		args = append(args, micros(f.To))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY first_seq DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries: %w", err)
	}
	var out []ledger.Entry
	err = scanBlocks(rows, func(es []ledger.Entry) bool {
		for i := len(es) - 1; i >= 0 && len(out) < f.Limit; i-- {
			e := es[i]
			if f.BeforeSeq > 0 && e.Seq >= f.BeforeSeq || !f.From.IsZero() && e.CreatedAt.Before(f.From) ||
				!f.To.IsZero() && !e.CreatedAt.Before(f.To) || f.Kind != "" && e.Kind != f.Kind {
				continue
			}
			out = append(out, e)
		}
		return len(out) < f.Limit
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries: %w", err)
	}
	return out, nil
}

// LastEntryAt returns the account's newest entry created at or before t, or nil. It
// reads the newest block that began by t (the engine stamps entries from one clock,
// so an account's entries are in time order as they are in sequence order).
func (s *Store) LastEntryAt(ctx context.Context, accountID string, t time.Time) (*ledger.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+blockColumns+` FROM entry_blocks
		WHERE account_id = ? AND first_at <= ? ORDER BY first_seq DESC LIMIT 1`, accountID, micros(t))
	if err != nil {
		return nil, fmt.Errorf("sqlite: entry at: %w", err)
	}
	var found *ledger.Entry
	err = scanBlocks(rows, func(es []ledger.Entry) bool {
		for i := len(es) - 1; i >= 0; i-- {
			if !es[i].CreatedAt.After(t) {
				found = &es[i]
				break
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: entry at: %w", err)
	}
	return found, nil
}

// EachEntry streams every entry in sequence order. Blocks come in first_seq order;
// an entry is handed on once no later block can hold a smaller sequence (every later
// block begins after the current one does), so only one batch's blocks wait in memory.
func (s *Store) EachEntry(ctx context.Context, fn func(ledger.Entry) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+blockColumns+` FROM entry_blocks ORDER BY first_seq`)
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	var pending []ledger.Entry // sorted by seq
	var ferr error
	flush := func(below int64) {
		i := 0
		for ; i < len(pending) && pending[i].Seq < below && ferr == nil; i++ {
			ferr = fn(pending[i])
		}
		pending = append(pending[:0], pending[i:]...)
	}
	err = scanBlocks(rows, func(es []ledger.Entry) bool {
		flush(es[0].Seq)
		pending = append(pending, es...)
		sort.Slice(pending, func(i, j int) bool { return pending[i].Seq < pending[j].Seq })
		return ferr == nil
	})
	if err == nil && ferr == nil {
		flush(1<<63 - 1)
	}
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	return ferr
}

// convertEntries moves the rows of the old entries table into blocks and drops it,
// in one transaction. Each block holds one account's consecutive entries from a
// run of at most blockRun sequence numbers, so blocks of one account never overlap.
func (s *Store) convertEntries(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'entries'`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: convert entries: %w", err)
	}
	if n == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: convert entries: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, movement_id, account_id, kind, amount, balance_after, reference, idempotency_key, created_at,
		metadata, related_id, free_message FROM entries ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("sqlite: convert entries: %w", err)
	}
	b := &batchTx{s: s, tx: tx}
	const blockRun = 4096
	var run []ledger.Entry
	write := func() error {
		_, _, err := b.insertBlocks(ctx, run)
		run = run[:0]
		return err
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: convert entries: %w", err)
		}
		if len(run) > 0 && e.Seq-run[0].Seq >= blockRun {
			if err := write(); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: convert entries: %w", err)
			}
		}
		run = append(run, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: convert entries: %w", err)
	}
	if len(run) > 0 {
		if err := write(); err != nil {
			return fmt.Errorf("sqlite: convert entries: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE entries`); err != nil {
		return fmt.Errorf("sqlite: convert entries: %w", err)
	}
	return tx.Commit()
}
