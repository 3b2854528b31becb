package storetest

import "testing"

func TestSQLite(t *testing.T) { Run(t, SQLite()) }

func TestPostgres(t *testing.T) { Run(t, Postgres()) }
