package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/miscim/miscim/internal/store"
)

// The listing order across replicas (store.Tx paging). Users and groups
// are listed by seq, drawn from a sequence. A sequence alone is not
// enough: two transactions may draw 10 and 11 and commit 11 first, and a
// reader that has seen 11 would then miss 10 (a cursor walk), or count
// positions that 10 later shifts (the engine's position cache). So an
// insert takes a transaction-scoped advisory lock of its listing before it
// draws, held until its commit: inserts of one listing become visible in
// seq order, and a record inserted later always sorts after every record
// any reader has seen. PostgreSQL makes a commit visible before it releases
// the transaction's locks, so the next insert draws only after the last
// is visible.
//
// The lock orders only inserts of one kind (creates of users, or of
// groups): updates, deletes and membership changes never take it. Creates
// of one kind therefore commit one at a time across all replicas; each
// holds the lock for its insert and its commit.
//
// Counts and versions: each insert and delete appends a row to
// listing_changes (a trigger, inside the writing transaction, so a rolled
// back write leaves no trace); the version is listings.version plus the
// changes' versions (a delete adds 1), the count likewise. Readers add up
// the changes since the last fold; foldLoop folds them into listings in
// one statement every FoldInterval, on one replica at a time.
const listingLockClass = `1835627363` // "mlsc"

// foldLockClass, foldLockID is the advisory lock a fold holds, so that
// replicas do not fold at once.
const foldLockClass, foldLockID = 0x6d697363, 2

func (t *tx) listing(l store.Listing) (version, records int64, err error) {
	err = t.tx.QueryRow(t.ctx, `SELECT l.version + COALESCE(SUM(c.version), 0)::bigint, l.records + COALESCE(SUM(c.records), 0)::bigint
		FROM listings l LEFT JOIN listing_changes c ON c.listing = l.listing
		WHERE l.listing = $1 GROUP BY l.version, l.records`, l.String()).Scan(&version, &records)
	if err != nil {
		return 0, 0, fmt.Errorf("read the %s listing: %w", l, err)
	}
	return version, records, nil
}

func (t *tx) ListingVersion(l store.Listing) (int64, error) {
	v, _, err := t.listing(l)
	return v, err
}

// fold moves the listing changes into listings, in one transaction at READ
// COMMITTED: the changes it deletes are exactly those it adds up, and a
// reader's snapshot sees either all of them as changes or all of them
// folded. It skips when another replica is folding.
func (s *Store) fold(ctx context.Context) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, foldLockClass, foldLockID).Scan(&locked); err != nil || !locked {
		return err
	}
	if _, err := tx.Exec(ctx, `WITH moved AS (DELETE FROM listing_changes RETURNING listing, version, records),
		sums AS (SELECT listing, SUM(version)::bigint AS version, SUM(records)::bigint AS records FROM moved GROUP BY listing)
		UPDATE listings l SET version = l.version + sums.version, records = l.records + sums.records
		FROM sums WHERE l.listing = sums.listing`); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// foldLoop folds every FoldInterval until Close. A failed fold (the
// database away) is tried again at the next tick: readers add up whatever
// is left meanwhile.
func (s *Store) foldLoop() {
	defer s.stopped.Done()
	tick := time.NewTicker(s.opts.FoldInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.FoldInterval+5*time.Second)
			_ = s.fold(ctx)
			cancel()
		}
	}
}

// Fold folds the listing changes now (tests, and `miscim` commands that
// want a tidy database before they exit).
func (s *Store) Fold(ctx context.Context) error { return s.fold(ctx) }
