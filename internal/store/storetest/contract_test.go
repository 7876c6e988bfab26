package storetest

import "testing"

func TestSQLiteContract(t *testing.T) { Run(t, SQLite) }

func TestPostgresContract(t *testing.T) {
	PostgresURL(t)
	Run(t, Postgres)
}
