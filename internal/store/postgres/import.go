package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/purse-ledger/purse/internal/store/rowsum"
)

// Import runs fill in one transaction that copies a whole store into this one
// (purse migrate): all of it, or none when fill fails.
func (s *Store) Import(ctx context.Context, fill func(*Importer) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fill(&Importer{ctx: ctx, tx: tx})
	})
}

// Importer copies rows inside Import's transaction and reads them back for
// comparison with their source.
type Importer struct {
	ctx context.Context
	tx  pgx.Tx
}

// Tables lists this store's tables and their columns' types (information_schema's
// data_type: "bigint", "text", "boolean", …).
func (im *Importer) Tables() (map[string]map[string]string, error) {
	rows, err := im.tx.Query(im.ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		return nil, wrap("import tables", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, wrap("import tables", err)
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	return out, wrap("import tables", rows.Err())
}

// Count is the number of rows in table.
func (im *Importer) Count(table string) (int64, error) {
	var n int64
	err := im.tx.QueryRow(im.ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n)
	return n, wrap("import count "+table, err)
}

// Copy streams rows into table's columns with COPY, 5,000 at a time. rows calls
// emit once per row; the slice may be reused after emit returns. Values are the
// source driver's (int64 for every integer): an integer bound for a boolean
// column becomes false or true.
func (im *Importer) Copy(table string, columns []string, types map[string]string, rows func(emit func([]any) error) error) error {
	toBool := make([]bool, len(columns))
	for i, c := range columns {
		toBool[i] = types[c] == "boolean"
	}
	batch := make([][]any, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(batch))
		batch = batch[:0]
		return wrap("import "+table, err)
	}
	err := rows(func(row []any) error {
		r := make([]any, len(row))
		for i, v := range row {
			if n, ok := v.(int64); ok && toBool[i] {
				v = n != 0
			}
			r[i] = v
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Sum reads columns of every row of table back and checksums them.
func (im *Importer) Sum(table string, columns []string) (rowsum.Sum, error) {
	var sum rowsum.Sum
	q := make([]string, len(columns))
	for i, c := range columns {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	rows, err := im.tx.Query(im.ctx, `SELECT `+strings.Join(q, ", ")+` FROM `+pgx.Identifier{table}.Sanitize())
	if err != nil {
		return sum, wrap("import read back "+table, err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return sum, wrap("import read back "+table, err)
		}
		sum.Add(vals)
	}
	return sum, wrap("import read back "+table, rows.Err())
}

// ContinueSequences moves every sequence that feeds a column of table (a
// BIGSERIAL, or entries' entry_seq) past the largest value copied into it, so the
// next row written after the import does not collide with a copied one.
func (im *Importer) ContinueSequences(table string, columns []string) error {
	for _, c := range columns {
		var seq *string
		if err := im.tx.QueryRow(im.ctx, `SELECT pg_get_serial_sequence($1, $2)`, pgx.Identifier{table}.Sanitize(), c).Scan(&seq); err != nil {
			return wrap("import sequences", err)
		}
		if table == "entries" && c == "seq" {
			s := "entry_seq"
			seq = &s
		}
		if seq == nil {
			continue
		}
		q := fmt.Sprintf(`SELECT setval($1::text::regclass, max(%s)) FROM %s HAVING max(%[1]s) IS NOT NULL`, pgx.Identifier{c}.Sanitize(), pgx.Identifier{table}.Sanitize())
		if _, err := im.tx.Exec(im.ctx, q, *seq); err != nil {
			return wrap("import sequence "+*seq, err)
		}
	}
	return nil
}

// References maps each table to the tables its foreign keys refer to.
func (im *Importer) References() (map[string][]string, error) {
	rows, err := im.tx.Query(im.ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint AS c
		JOIN pg_namespace AS n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, wrap("import references", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, wrap("import references", err)
		}
		out[from] = append(out[from], to)
	}
	return out, wrap("import references", rows.Err())
}
