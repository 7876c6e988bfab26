package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// What purse migrate reads. It copies every table, and finds them here, in the
// schema itself, rather than in a list kept by hand: a table added by a later
// migration is either copied or makes migrate fail, never silently left behind.

// Table is one table of the store and its columns, in schema order.
type Table struct {
	Name    string
	Columns []string
}

// Tables lists the store's tables (SQLite's own excepted), by name.
func (s *Store) Tables(ctx context.Context) ([]Table, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tables: %w", err)
	}
	var tables []Table
	for rows.Next() {
		var t Table
		if err := rows.Scan(&t.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: tables: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tables: %w", err)
	}
	for i := range tables {
		cols, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, tables[i].Name)
		if err != nil {
			return nil, fmt.Errorf("sqlite: columns of %s: %w", tables[i].Name, err)
		}
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				cols.Close()
				return nil, fmt.Errorf("sqlite: columns of %s: %w", tables[i].Name, err)
			}
			tables[i].Columns = append(tables[i].Columns, c)
		}
		cols.Close()
	}
	return tables, nil
}

// Rows reads columns of every row of table (where, when given, filters them: an
// SQL condition over the table's columns), handing each row to each as the
// driver's values: int64, float64, string, []byte or nil. The slice is reused.
func (s *Store) Rows(ctx context.Context, table string, columns []string, where string, each func([]any) error) error {
	q := make([]string, len(columns))
	for i, c := range columns {
		q[i] = quote(c)
	}
	sql := `SELECT ` + strings.Join(q, ", ") + ` FROM ` + quote(table)
	if where != "" {
		sql += ` WHERE ` + where
	}
	rows, err := s.db.QueryContext(ctx, sql)
	if err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlite: read %s: %w", table, err)
		}
		if err := each(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	return nil
}

// quote makes a name an SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
