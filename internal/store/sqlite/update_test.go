package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/miscim/miscim/internal/store"
)

// TestUpdateUserKeysAndOtherColumns: an update that keeps userName's key
// and externalId, and one that changes them, both land, and the lookups by
// the indexed columns follow.
func TestUpdateUserKeysAndOtherColumns(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"))
	u := user("1", "Alice@example.com")
	u.ExternalID = "ext-1"
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(u) })

	same := u
	same.UserName, same.GivenName, same.Version = "ALICE@example.com", "Al", 2 // same key, other case
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(same) })
	renamed := same
	renamed.UserName, renamed.ExternalID, renamed.Version = "bob@example.com", "", 3
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(renamed) })

	err := s.View(context.Background(), func(tx store.Tx) error {
		got, err := tx.User("1")
		if err != nil {
			return err
		}
		if got.UserName != "bob@example.com" || got.GivenName != "Al" || got.ExternalID != "" || got.Version != 3 {
			t.Errorf("user after updates = %+v", got)
		}
		for _, c := range []struct {
			f     store.Field
			value string
			want  int
		}{{store.ByUserName, "alice@example.com", 0}, {store.ByUserName, "BOB@example.com", 1}, {store.ByExternalID, "ext-1", 0}} {
			found, err := tx.UsersBy(c.f, []string{c.value})
			if err != nil {
				return err
			}
			if len(found) != c.want {
				t.Errorf("lookup %q: %d users, want %d", c.value, len(found), c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.UpdateUser(user("2", "nobody")) }); err != store.ErrNotFound {
		t.Fatalf("update of a missing user = %v, want ErrNotFound", err)
	}
}
