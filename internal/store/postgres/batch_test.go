package postgres

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestMayHaveCommitted: only a failure the server did not answer leaves a
// batch's fate open; a PostgreSQL error (a lost race the engine retries
// included) or a COMMIT answered ROLLBACK means it did not commit, and its
// accounts are not announced (each retry of a race would announce them again).
func TestMayHaveCommitted(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("write: %w", io.EOF), true},
		{context.DeadlineExceeded, true},
		{&pgconn.PgError{Code: "40001"}, false},
		{fmt.Errorf("batch: %w", &pgconn.PgError{Code: "23505"}), false},
		{fmt.Errorf("%w (ROLLBACK)", errRolledBack), false},
	} {
		if got := mayHaveCommitted(c.err); got != c.want {
			t.Errorf("mayHaveCommitted(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
