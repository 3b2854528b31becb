package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store"
)

// Run runs the store suite against a backend: every behaviour the engine
// relies on, the same for SQLite and PostgreSQL.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"UserNameUniqueRegardlessOfCase", testUserNameUnique},
		{"GroupNameUniqueRegardlessOfCase", testGroupNameUnique},
		{"FailedUpdateRollsBack", testFailedUpdateRollsBack},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"UsersRoundTrip", testUsersRoundTrip},
		{"Tombstones", testTombstones},
		{"MembershipsFollowDeletes", testMembershipsFollowDeletes},
		{"MembersPage", testMembersPage},
		{"VarsAndHistory", testVarsAndHistory},
		{"TokensAreStoredByHash", testTokens},
		{"TextTheDatabaseCannotHold", testInvalidText},
		{"ReopenKeepsData", testReopenKeepsData},
		{"NewerSchemaIsRefused", testNewerSchemaIsRefused},
		{"TwoProcessesShareTheDatabase", testTwoProcesses},
		{"ConcurrentUpdatesIsolateFailures", testConcurrentUpdatesIsolateFailures},
		{"ConcurrentChangesOfOneRecordLoseNone", testNoLostUpdate},
		{"ConcurrentCreatesOfOneNameMakeOne", testConcurrentDuplicates},
		{"ConcurrentMemberChanges", testConcurrentMembers},
		{"UsersPageFollowsTheListingOrder", testUsersPage},
		{"GroupsPageFollowsTheListingOrder", testGroupsPage},
		{"ListingsFollowInsertsAndDeletes", testListings},
		{"SeqIsNeverReused", testSeqNeverReused},
		{"InsertsBecomeVisibleInSeqOrder", testInsertsVisibleInOrder},
		{"CancelledScanIsAnError", testCancelledScan},
		{"UpdateAfterClose", testUpdateAfterClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, b)
		})
	}
}

// User returns a SCIM user record for the suite.
func User(id, name string) store.User {
	now := time.Unix(1700000000, 0).UTC()
	return store.User{ID: id, UserName: name, MIUsername: name, Email: name + "@x", Active: true,
		UserType: "regular", AuthMethod: "sso", Source: "scim", Created: now, Modified: now, Version: 1}
}

// Group returns a group record for the suite.
func Group(id, name string) store.Group {
	now := time.Unix(1700000000, 0).UTC()
	return store.Group{ID: id, DisplayName: name, Created: now, Modified: now, Version: 1}
}

func update(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// view runs fn in a read transaction and fails the test on any error,
// whether fn returned it or the transaction did.
func view(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func scanUserIDs(t testing.TB, s store.Store) []string {
	t.Helper()
	var ids []string
	view(t, s, func(tx store.Tx) error {
		return tx.ScanUsers(func(u store.User) error { ids = append(ids, u.ID); return nil })
	})
	return ids
}

func testUserNameUnique(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(User("1", "Ärger@Example.com")) })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User("2", "äRGER@example.COM")) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("want ErrDuplicate, got %v", err)
	}
	// The Kelvin sign folds to k: a key SQLite's NOCASE and PostgreSQL's
	// lower() would both miss.
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(User("3", "kate")) })
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User("4", "\u212Aate")) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Kelvin sign: want ErrDuplicate, got %v", err)
	}
	// A rename onto a taken name is refused too, and leaves the user as it was.
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(User("5", "other")) })
	err = s.Update(context.Background(), func(tx store.Tx) error {
		u := User("5", "KATE")
		u.Version = 2
		return tx.UpdateUser(u)
	})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("rename onto a taken name: want ErrDuplicate, got %v", err)
	}
	// The same id again is a duplicate as well.
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User("5", "fresh")) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("same id: want ErrDuplicate, got %v", err)
	}
	view(t, s, func(tx store.Tx) error {
		us, err := tx.UsersBy(store.ByUserName, []string{"ärger@EXAMPLE.com"})
		if err != nil {
			return err
		}
		if len(us) != 1 || us[0].ID != "1" {
			t.Errorf("lookup by folded userName: %v", us)
		}
		u, err := tx.User("5")
		if err != nil || u.UserName != "other" {
			t.Errorf("user 5 after a refused rename: %+v %v", u, err)
		}
		n, err := tx.CountUsers()
		if err != nil || n != 3 {
			t.Errorf("CountUsers = %d %v, want 3", n, err)
		}
		return nil
	})
}

func testGroupNameUnique(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(Group("g1", "Straße")) })
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertGroup(Group("g2", "STRASSE")) }); err != nil {
		// ß and SS are not simple case folds of each other: different names.
		t.Fatalf("STRASSE: %v", err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertGroup(Group("g3", "strasse")) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("strasse: want ErrDuplicate, got %v", err)
	}
	view(t, s, func(tx store.Tx) error {
		gs, err := tx.GroupsBy(store.ByDisplayName, []string{"straSSE", "STRAßE", "none"})
		if err != nil {
			return err
		}
		if len(gs) != 2 || gs[0].ID != "g2" || gs[1].ID != "g1" {
			t.Errorf("GroupsBy gives %v, want g2 then g1 (in the order of the values)", gs)
		}
		return nil
	})
}

func testFailedUpdateRollsBack(t *testing.T, b Backend) {
	s := b.New(t)
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.InsertUser(User("1", "a")); err != nil {
			return err
		}
		if err := tx.SetVar(store.VarChange{Name: "V", New: "Y", Who: "t", At: time.Now()}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		n, err := tx.CountUsers()
		if err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("a failed transaction left %d users", n)
		}
		if _, ok, err := tx.Var("V"); err != nil || ok {
			t.Errorf("a failed transaction left a variable (%v)", err)
		}
		return nil
	})
}

func testViewIsReadOnly(t *testing.T, b Backend) {
	s := b.New(t)
	err := s.View(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User("1", "a")) })
	if err == nil {
		t.Fatal("a write inside View succeeded")
	}
	if ids := scanUserIDs(t, s); len(ids) != 0 {
		t.Fatalf("View wrote %v", ids)
	}
}

func testUsersRoundTrip(t *testing.T, b Backend) {
	s := b.New(t)
	created := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	u := store.User{ID: "u1", ExternalID: "ext", UserName: "Ann@Example.com", GivenName: "Ann", FamilyName: "Ö'Brien",
		Email: "ann@example.com", EmailType: "work", Active: true, UserType: "admin", AuthMethod: "password", Source: "local",
		MIUsername: "Ann@Example.com", Created: created, Modified: created.Add(time.Second), Version: 7}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(u); err != nil {
			return err
		}
		v := User("u2", "bob")
		v.ExternalID = "ext"
		v.Active = false
		return tx.InsertUser(v)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("u1")
		if err != nil {
			return err
		}
		got.Seq = 0
		if got != u {
			t.Errorf("read back\n%+v\nwant\n%+v", got, u)
		}
		byExt, err := tx.UsersBy(store.ByExternalID, []string{"ext"})
		if err != nil {
			return err
		}
		if len(byExt) != 2 || byExt[0].ID != "u1" || byExt[1].ID != "u2" || byExt[1].Active {
			t.Errorf("by externalId (not unique): %+v", byExt)
		}
		byID, err := tx.UsersBy(store.ByID, []string{"u2", "nope", "u1", "u2"})
		if err != nil {
			return err
		}
		if len(byID) != 2 || byID[0].ID != "u2" || byID[1].ID != "u1" {
			t.Errorf("by id: %+v", byID)
		}
		if _, err := tx.User("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := tx.UsersBy(store.ByDisplayName, []string{"x"}); err == nil {
			t.Error("users looked up by displayName")
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		u.GivenName, u.ExternalID, u.Version = "Anne", "", 8
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if err := tx.UpdateUser(User("nope", "nope")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of an unknown user: %v", err)
		}
		if err := tx.DeleteUser("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete of an unknown user: %v", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("u1")
		if err != nil {
			return err
		}
		if got.GivenName != "Anne" || got.ExternalID != "" || got.Version != 8 {
			t.Errorf("after update: %+v", got)
		}
		return nil
	})
}

func testTombstones(t *testing.T, b Backend) {
	s := b.New(t)
	u := User("u1", "ann")
	u.Active = false
	update(t, s, func(tx store.Tx) error { return tx.PutTombstone(u) })
	u.FamilyName = "again"
	update(t, s, func(tx store.Tx) error { return tx.PutTombstone(u) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Tombstone("u1")
		if err != nil {
			return err
		}
		if got != u {
			t.Errorf("tombstone %+v, want %+v", got, u)
		}
		if _, err := tx.Tombstone("u2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown tombstone: %v", err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteTombstone("u1"); err != nil {
			return err
		}
		if err := tx.DeleteTombstone("u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		return nil
	})
}

func testMembershipsFollowDeletes(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 3; i++ {
			if err := tx.InsertUser(User(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
				return err
			}
		}
		if err := tx.InsertGroup(Group("g", "G")); err != nil {
			return err
		}
		n, err := tx.AddMembers("g", []string{"0", "1", "2", "2", "unknown"})
		if err != nil {
			return err
		}
		if n != 3 {
			t.Errorf("AddMembers added %d, want 3 (duplicates and unknown ids skipped)", n)
		}
		if n, err := tx.AddMembers("g", []string{"1"}); err != nil || n != 0 {
			t.Errorf("adding a member again: %d %v", n, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser("1") })
	view(t, s, func(tx store.Tx) error {
		ms, err := store.AllMembers(tx, "g")
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].UserID != "0" || ms[1].UserID != "2" {
			t.Errorf("members after deleting a user: %v", ms)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if n, err := tx.RemoveMembers("g", []string{"0", "nope", "0"}); err != nil || n != 1 {
			t.Errorf("RemoveMembers: %d %v", n, err)
		}
		if n, err := tx.RemoveAllMembers("g"); err != nil || n != 1 {
			t.Errorf("RemoveAllMembers: %d %v", n, err)
		}
		if _, err := tx.AddMembers("g", []string{"0", "2"}); err != nil {
			return err
		}
		return tx.DeleteGroup("g")
	})
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(Group("g", "G")) })
	view(t, s, func(tx store.Tx) error {
		ms, err := store.AllMembers(tx, "g")
		if err != nil || len(ms) != 0 {
			t.Errorf("memberships outlived their group: %v %v", ms, err)
		}
		return nil
	})
}

// testMembersPage reads a group page by page by user id, as the keyset on
// the membership key promises, before and after a member leaves.
func testMembersPage(t *testing.T, b Backend) {
	s := b.New(t)
	var ids []string
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertGroup(Group("g", "G")); err != nil {
			return err
		}
		if err := tx.InsertGroup(Group("other", "Other")); err != nil {
			return err
		}
		for i := range 1234 {
			id := fmt.Sprintf("m%04d", (i*611)%1234)
			if i%5 == 0 {
				id = strings.ToUpper(id) // byte order: upper case first
			}
			if err := tx.InsertUser(User(id, "n"+id)); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if _, err := tx.AddMembers("other", ids[:10]); err != nil {
			return err
		}
		_, err := tx.AddMembers("g", ids)
		return err
	})
	slices.Sort(ids)
	read := func(size int) []string {
		var got []string
		view(t, s, func(tx store.Tx) error {
			after := ""
			for {
				pg, err := tx.MembersPage("g", after, size)
				if err != nil {
					return err
				}
				for _, m := range pg {
					if m.UserName != "n"+m.UserID {
						t.Fatalf("member %s has userName %q", m.UserID, m.UserName)
					}
					got = append(got, m.UserID)
					after = m.UserID
				}
				if len(pg) < size {
					return nil
				}
			}
		})
		return got
	}
	for _, size := range []int{1, 100, 5000} {
		if got := read(size); !slices.Equal(got, ids) {
			t.Fatalf("pages of %d: %d members, want %d in byte order", size, len(got), len(ids))
		}
	}
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(ids[500]) })
	want := slices.Delete(slices.Clone(ids), 500, 501)
	if got := read(100); !slices.Equal(got, want) {
		t.Fatalf("after a delete: %d members, want %d", len(got), len(want))
	}
	view(t, s, func(tx store.Tx) error {
		all, err := store.AllMembers(tx, "g")
		if err != nil {
			return err
		}
		if len(all) != len(want) {
			t.Errorf("AllMembers gives %d members, want %d", len(all), len(want))
		}
		none, err := store.AllMembers(tx, "nosuchgroup")
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("AllMembers of no group: %v %v, want an empty list", none, err)
		}
		return nil
	})
}

func testVarsAndHistory(t *testing.T, b Backend) {
	s := b.New(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	changes := []store.VarChange{
		{Name: "A", Old: "", New: "Y", Who: "alice", At: at},
		{Name: "B", Old: "", New: "N", Who: "bob", At: at.Add(time.Second)},
		{Name: "A", Old: "Y", New: "N", Who: "alice", At: at.Add(2 * time.Second)},
		{Name: "B", Old: "N", New: "", Who: "carol", At: at.Add(3 * time.Second)},
	}
	for _, c := range changes {
		update(t, s, func(tx store.Tx) error { return tx.SetVar(c) })
	}
	view(t, s, func(tx store.Tx) error {
		if v, ok, err := tx.Var("A"); err != nil || !ok || v != "N" {
			t.Errorf("Var(A) = %q %v %v", v, ok, err)
		}
		if _, ok, err := tx.Var("B"); err != nil || ok {
			t.Errorf("Var(B) after unset: %v %v", ok, err)
		}
		all, err := tx.Vars()
		if err != nil || len(all) != 1 || all["A"] != "N" {
			t.Errorf("Vars = %v %v", all, err)
		}
		h, err := tx.VarHistory("")
		if err != nil || !slices.Equal(h, changes) {
			t.Errorf("history\n%v %v\nwant\n%v", h, err, changes)
		}
		ha, err := tx.VarHistory("A")
		if err != nil || len(ha) != 2 || ha[0] != changes[0] || ha[1] != changes[2] {
			t.Errorf("history of A: %v %v", ha, err)
		}
		return nil
	})
}

func testTokens(t *testing.T, b Backend) {
	s := b.New(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(User("u", "admin")); err != nil {
			return err
		}
		for i, id := range []string{"t2", "t1"} {
			if err := tx.InsertToken(store.Token{ID: id, UserID: "u", Hash: "hash-" + id, Created: now.Add(time.Duration(i) * time.Second), Expires: now.Add(time.Hour)}); err != nil {
				return err
			}
		}
		if err := tx.InsertToken(store.Token{ID: "t3", UserID: "u", Hash: "hash-t1", Created: now}); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("a second token with the same hash: %v", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		tk, err := tx.TokenByHash("hash-t1")
		if err != nil || tk.ID != "t1" || tk.UserID != "u" || !tk.Expires.Equal(now.Add(time.Hour)) {
			t.Errorf("TokenByHash: %+v %v", tk, err)
		}
		if _, err := tx.TokenByHash("hash-none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown hash: %v", err)
		}
		all, err := tx.Tokens()
		if err != nil || len(all) != 2 || all[0].ID != "t2" || all[1].ID != "t1" {
			t.Errorf("Tokens (by creation): %+v %v", all, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteToken(" t2 "); err != nil {
			return err
		}
		if err := tx.DeleteToken("t2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second revoke: %v", err)
		}
		return tx.DeleteUser("u") // its tokens go with it
	})
	view(t, s, func(tx store.Tx) error {
		all, err := tx.Tokens()
		if err != nil || len(all) != 0 {
			t.Errorf("tokens outlived their user: %v %v", all, err)
		}
		return nil
	})
}

// testInvalidText: a NUL or invalid UTF-8 cannot be written (PostgreSQL's
// text holds neither; SQLite refuses the same writes), and a lookup by such
// a value finds nothing instead of failing.
func testInvalidText(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(User("u", "ann")) })
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		writes := map[string]func(store.Tx) error{
			"InsertUser":  func(tx store.Tx) error { return tx.InsertUser(User("v", bad)) },
			"UpdateUser":  func(tx store.Tx) error { u := User("u", "ann"); u.GivenName = bad; return tx.UpdateUser(u) },
			"InsertGroup": func(tx store.Tx) error { return tx.InsertGroup(Group("g", bad)) },
			"SetVar":      func(tx store.Tx) error { return tx.SetVar(store.VarChange{Name: "V", New: bad, Who: "t"}) },
		}
		for name, w := range writes {
			if err := s.Update(context.Background(), w); !errors.Is(err, store.ErrInvalidText) {
				t.Errorf("%s with %q: %v, want ErrInvalidText", name, bad, err)
			}
		}
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.User(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("User(%q): %v", bad, err)
			}
			if _, err := tx.Group(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Group(%q): %v", bad, err)
			}
			if us, err := tx.UsersBy(store.ByUserName, []string{bad, "ann"}); err != nil || len(us) != 1 {
				t.Errorf("UsersBy(%q, ann): %v %v", bad, us, err)
			}
			if _, err := tx.Tombstone(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Tombstone(%q): %v", bad, err)
			}
			if err := tx.DeleteTombstone(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteTombstone(%q): %v", bad, err)
			}
			if err := tx.DeleteToken(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteToken(%q): %v", bad, err)
			}
			if _, err := tx.TokenByHash(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TokenByHash(%q): %v", bad, err)
			}
			if _, ok, err := tx.Var(bad); ok || err != nil {
				t.Errorf("Var(%q): %v %v", bad, ok, err)
			}
			if err := tx.InsertGroup(Group("g", "G")); err != nil {
				return err
			}
			if n, err := tx.AddMembers("g", []string{bad, "u"}); err != nil || n != 1 {
				t.Errorf("AddMembers(%q, u): %d %v", bad, n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		update(t, s, func(tx store.Tx) error { return tx.DeleteGroup("g") })
	}
}

func testReopenKeepsData(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error { return tx.InsertUser(User("1", "a")) })
	s, err := b.Reopen(t, s)
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.User("1"); err != nil {
			t.Errorf("user lost across reopen: %v", err)
		}
		return nil
	})
}

func testNewerSchemaIsRefused(t *testing.T, b Backend) {
	s := b.New(t)
	b.Exec(t, s, `INSERT INTO schema_migrations (version, applied) VALUES (999, 0)`)
	_, err := b.Reopen(t, s)
	if err == nil || !strings.Contains(err.Error(), "newer miscim") || !strings.Contains(err.Error(), "999") {
		t.Fatalf("want a clear error for a newer schema, got %v", err)
	}
}

// testTwoProcesses: a `miscim vars set` beside a running `miscim serve`,
// or two replicas: two stores on one database, both writing.
func testTwoProcesses(t *testing.T, b Backend) {
	a := b.New(t)
	c := b.Again(t, a)
	done := make(chan error, 2)
	for i, s := range []store.Store{a, c} {
		go func() {
			var err error
			for j := 0; j < 50 && err == nil; j++ {
				err = s.Update(context.Background(), func(tx store.Tx) error {
					old, _, err := tx.Var("V")
					if err != nil {
						return err
					}
					return tx.SetVar(store.VarChange{Name: "V", Old: old, New: fmt.Sprint(i, j), Who: "t", At: time.Now()})
				})
			}
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	view(t, a, func(tx store.Tx) error {
		h, err := tx.VarHistory("V")
		if err != nil {
			return err
		}
		if len(h) != 100 {
			t.Fatalf("history has %d changes, want 100", len(h))
		}
		// Each change read the value the one before it left: the history
		// is one chain, as if the writers had taken turns.
		for i := 1; i < len(h); i++ {
			if h[i].Old != h[i-1].New {
				t.Fatalf("change %d went from %q, but the value was %q", i, h[i].Old, h[i-1].New)
			}
		}
		return nil
	})
}

// testConcurrentUpdatesIsolateFailures runs many concurrent Updates, some
// of which fail or panic: those write nothing, the others all land, and
// each caller gets its own outcome.
func testConcurrentUpdatesIsolateFailures(t *testing.T, b Backend) {
	s := b.New(t)
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.InsertUser(User(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return fmt.Errorf("job %d fails", i)
				case 7:
					panic("job panics")
				}
				return nil
			})
		}()
	}
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if failed != 2*n/10 {
		t.Errorf("%d Updates failed, want %d", failed, 2*n/10)
	}
	view(t, s, func(tx store.Tx) error {
		count, err := tx.CountUsers()
		if err != nil {
			return err
		}
		if count != n-failed {
			t.Errorf("%d users stored, want %d", count, n-failed)
		}
		for i := 0; i < n; i++ {
			_, err := tx.User(fmt.Sprint(i))
			gone := errors.Is(err, store.ErrNotFound)
			if err != nil && !gone {
				return err
			}
			if wantGone := i%10 == 3 || i%10 == 7; wantGone != gone {
				t.Errorf("user %d: gone %v, want %v", i, gone, wantGone)
			}
		}
		return nil
	})
}

// testNoLostUpdate: writers on two stores read a user and write it back
// with its version plus one, all at once: every write that succeeded is
// counted in the final version, none was lost to another, and none failed
// because another one won (a conflict the database resolved is retried
// inside the store).
func testNoLostUpdate(t *testing.T, b Backend) {
	a := b.New(t)
	c := b.Again(t, a)
	update(t, a, func(tx store.Tx) error {
		if err := tx.InsertUser(User("u", "ann")); err != nil {
			return err
		}
		return tx.InsertGroup(Group("g", "G"))
	})
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		s := []store.Store{a, c}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Update(context.Background(), func(tx store.Tx) error {
					u, err := tx.User("u")
					if err != nil {
						return err
					}
					u.Version++
					u.GivenName = fmt.Sprint(u.Version)
					if err := tx.UpdateUser(u); err != nil {
						return err
					}
					g, err := tx.Group("g")
					if err != nil {
						return err
					}
					g.Version++
					return tx.UpdateGroup(g)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a concurrent update failed: %v", err)
	}
	view(t, c, func(tx store.Tx) error {
		u, err := tx.User("u")
		if err != nil {
			return err
		}
		g, err := tx.Group("g")
		if err != nil {
			return err
		}
		if u.Version != 1+writers*each || g.Version != 1+writers*each {
			t.Errorf("versions %d and %d after %d increments from 1: updates were lost", u.Version, g.Version, writers*each)
		}
		return nil
	})
}

// testConcurrentDuplicates: the same userName created at once through two
// stores: exactly one create succeeds, every other is ErrDuplicate.
func testConcurrentDuplicates(t *testing.T, b Backend) {
	a := b.New(t)
	c := b.Again(t, a)
	const names, tries = 10, 8
	var ok, dup atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		s := []store.Store{a, c}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < names; n++ {
				err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.InsertUser(User(fmt.Sprintf("%d-%d", n, i), fmt.Sprintf("Name-%d", n)))
				})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrDuplicate):
					dup.Add(1)
				default:
					t.Errorf("create: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != names || dup.Load() != names*(tries-1) {
		t.Fatalf("%d creates succeeded and %d were duplicates; want %d and %d", ok.Load(), dup.Load(), names, names*(tries-1))
	}
	view(t, a, func(tx store.Tx) error {
		for n := 0; n < names; n++ {
			us, err := tx.UsersBy(store.ByUserName, []string{fmt.Sprintf("NAME-%d", n)})
			if err != nil {
				return err
			}
			if len(us) != 1 {
				t.Errorf("name %d: %d users", n, len(us))
			}
		}
		return nil
	})
}

// testConcurrentMembers: writers on two stores add and remove members of
// the same groups at once, each its own users: every change lands.
func testConcurrentMembers(t *testing.T, b Backend) {
	a := b.New(t)
	c := b.Again(t, a)
	const writers, users = 6, 20
	update(t, a, func(tx store.Tx) error {
		for g := range 2 {
			if err := tx.InsertGroup(Group(fmt.Sprint("g", g), fmt.Sprint("G", g))); err != nil {
				return err
			}
		}
		for w := range writers {
			for u := range users {
				if err := tx.InsertUser(User(fmt.Sprintf("w%d-%02d", w, u), fmt.Sprintf("w%d-%02d", w, u))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		s := []store.Store{a, c}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range users {
				id := fmt.Sprintf("w%d-%02d", w, u)
				for g := range 2 {
					err := s.Update(context.Background(), func(tx store.Tx) error {
						if _, err := tx.AddMembers(fmt.Sprint("g", g), []string{id}); err != nil {
							return err
						}
						if u%3 == 0 { // and take every third away again
							_, err := tx.RemoveMembers(fmt.Sprint("g", g), []string{id})
							return err
						}
						return nil
					})
					if err != nil {
						t.Errorf("member change: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	view(t, c, func(tx store.Tx) error {
		for g := range 2 {
			ms, err := store.AllMembers(tx, fmt.Sprint("g", g))
			if err != nil {
				return err
			}
			var want []string
			for w := range writers {
				for u := range users {
					if u%3 != 0 {
						want = append(want, fmt.Sprintf("w%d-%02d", w, u))
					}
				}
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.UserID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("group %d: %d members, want %d", g, len(got), len(want))
			}
		}
		return nil
	})
}

// testUsersPage pages through users by key and by key plus skip, and
// checks the pages against a scan: same order, nothing missing or
// repeated, before and after deletes, updates and inserts.
func testUsersPage(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error {
		for i := range 250 {
			if err := tx.InsertUser(User(fmt.Sprintf("u%03d", (i*37)%250), fmt.Sprint("name", i))); err != nil {
				return err
			}
		}
		return nil
	})
	walk := func(size int) []string {
		var ids []string
		var after int64
		for {
			var pg []store.User
			view(t, s, func(tx store.Tx) error {
				var err error
				pg, err = tx.UsersPage(after, 0, size)
				return err
			})
			for _, u := range pg {
				if u.Seq <= after {
					t.Fatalf("Seq %d after %d: the page is not in listing order", u.Seq, after)
				}
				ids = append(ids, u.ID)
				after = u.Seq
			}
			if len(pg) < size {
				return ids
			}
		}
	}
	check := func(stage string) {
		t.Helper()
		want := scanUserIDs(t, s)
		for _, size := range []int{1, 7, 100, 1000} {
			if got := walk(size); !slices.Equal(got, want) {
				t.Fatalf("%s: pages of %d give %d users, the scan %d:\n%v\n%v", stage, size, len(got), len(want), got, want)
			}
		}
		for _, skip := range []int{0, 1, 99, len(want) - 3, len(want), len(want) + 5} {
			var got []string
			view(t, s, func(tx store.Tx) error {
				pg, err := tx.UsersPage(0, skip, 10)
				for _, u := range pg {
					got = append(got, u.ID)
				}
				return err
			})
			if w := want[min(skip, len(want)):min(skip+10, len(want))]; !slices.Equal(got, w) {
				t.Fatalf("%s: skip %d gives %v, want %v", stage, skip, got, w)
			}
		}
	}
	check("inserted")
	first := scanUserIDs(t, s)
	if first[0] != "u000" || first[1] != "u037" {
		t.Fatalf("the listing order is not the insertion order: %v", first[:2])
	}
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{first[0], first[100], first[len(first)-1]} {
			if err := tx.DeleteUser(id); err != nil {
				return err
			}
		}
		u, err := tx.User(first[50])
		if err != nil {
			return err
		}
		u.GivenName, u.Version = "changed", 2
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		return tx.InsertUser(User("late", "late"))
	})
	check("after deletes, an update and an insert")
	after := scanUserIDs(t, s)
	if after[49] != first[50] || after[len(after)-1] != "late" {
		t.Errorf("an update moved a user or an insert did not land last: %v", after)
	}
}

func testGroupsPage(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error {
		for i := range 30 {
			if err := tx.InsertGroup(Group(fmt.Sprintf("g%02d", (i*7)%30), fmt.Sprint("G", i))); err != nil {
				return err
			}
		}
		return tx.DeleteGroup("g07")
	})
	var want, got []string
	view(t, s, func(tx store.Tx) error {
		if err := tx.ScanGroups(func(g store.Group) error { want = append(want, g.ID); return nil }); err != nil {
			return err
		}
		var after int64
		for {
			pg, err := tx.GroupsPage(after, 0, 4)
			if err != nil {
				return err
			}
			for _, g := range pg {
				got = append(got, g.ID)
				after = g.Seq
			}
			if len(pg) < 4 {
				return nil
			}
		}
	})
	if len(want) != 29 || !slices.Equal(got, want) || want[0] != "g00" || want[1] != "g14" {
		t.Fatalf("pages %v, scan %v", got, want)
	}
}

// testListings: the position cache of the engine relies on the version
// changing whenever a record may have moved, and on it staying put
// otherwise; totalResults on the counts matching the rows.
func testListings(t *testing.T, b Backend) {
	s := b.New(t)
	versions := func() (users, groups int64) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			var err error
			if users, err = tx.ListingVersion(store.UserListing); err != nil {
				return err
			}
			groups, err = tx.ListingVersion(store.GroupListing)
			return err
		})
		return users, groups
	}
	counted := func(stage string) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			users, err := tx.CountUsers()
			if err != nil {
				return err
			}
			groups, err := tx.CountGroups()
			if err != nil {
				return err
			}
			var wantU, wantG int
			if err := tx.ScanUsers(func(store.User) error { wantU++; return nil }); err != nil {
				return err
			}
			if err := tx.ScanGroups(func(store.Group) error { wantG++; return nil }); err != nil {
				return err
			}
			if users != wantU || groups != wantG {
				t.Errorf("%s: CountUsers %d, CountGroups %d; the tables hold %d and %d", stage, users, groups, wantU, wantG)
			}
			return nil
		})
	}
	counted("empty")
	u0, g0 := versions()
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(User("1", "a")); err != nil {
			return err
		}
		if err := tx.InsertUser(User("2", "b")); err != nil {
			return err
		}
		if err := tx.InsertGroup(Group("g", "G")); err != nil {
			return err
		}
		u := User("1", "renamed")
		u.Version = 2
		return tx.UpdateUser(u)
	})
	if u, g := versions(); u != u0 || g != g0 {
		t.Fatalf("inserts and updates changed the versions: users %d→%d, groups %d→%d", u0, u, g0, g)
	}
	counted("after inserts")
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User("3", "B")) }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a duplicate userName: %v", err)
	}
	counted("after a refused insert")
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser("1") })
	u1, g1 := versions()
	if u1 <= u0 || g1 != g0 {
		t.Fatalf("a user delete: users %d→%d, groups %d→%d", u0, u1, g0, g1)
	}
	boom := errors.New("boom")
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.DeleteUser("2"); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if u, _ := versions(); u != u1 {
		t.Fatalf("a rolled-back delete changed the users version %d→%d", u1, u)
	}
	counted("after a delete and a rolled-back delete")
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup("g") })
	if u, g := versions(); u != u1 || g <= g1 {
		t.Fatalf("a group delete: users %d→%d, groups %d→%d", u1, u, g1, g)
	}
	counted("after a group delete")
	if f, ok := s.(interface{ Fold(context.Context) error }); ok {
		u2, g2 := versions()
		if err := f.Fold(context.Background()); err != nil {
			t.Fatal(err)
		}
		if u, g := versions(); u != u2 || g != g2 {
			t.Fatalf("a fold changed the versions: users %d→%d, groups %d→%d", u2, u, g2, g)
		}
		counted("after a fold")
	}
}

// testSeqNeverReused: deleting the record with the largest Seq must not
// let the next insert take its Seq again, or a cursor walk already past it
// misses the new record; nor may a reopen.
func testSeqNeverReused(t *testing.T, b Backend) {
	s := b.New(t)
	var last int64
	for round := range 3 {
		var seq, newSeq int64
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertUser(User(fmt.Sprint("u", round), fmt.Sprint("u", round))); err != nil {
				return err
			}
			return tx.InsertGroup(Group(fmt.Sprint("g", round), fmt.Sprint("g", round)))
		})
		view(t, s, func(tx store.Tx) error {
			u, err := tx.User(fmt.Sprint("u", round))
			seq = u.Seq
			return err
		})
		if seq <= last {
			t.Fatalf("round %d: Seq %d after %d", round, seq, last)
		}
		update(t, s, func(tx store.Tx) error {
			if err := tx.DeleteUser(fmt.Sprint("u", round)); err != nil {
				return err
			}
			return tx.DeleteGroup(fmt.Sprint("g", round))
		})
		if round == 1 {
			var err error
			if s, err = b.Reopen(t, s); err != nil {
				t.Fatal(err)
			}
		}
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertUser(User(fmt.Sprint("n", round), fmt.Sprint("n", round))); err != nil {
				return err
			}
			return tx.InsertGroup(Group(fmt.Sprint("n", round), fmt.Sprint("n", round)))
		})
		view(t, s, func(tx store.Tx) error {
			u, err := tx.User(fmt.Sprint("n", round))
			if err != nil {
				return err
			}
			g, err := tx.Group(fmt.Sprint("n", round))
			if err != nil {
				return err
			}
			newSeq = u.Seq
			if pg, err := tx.GroupsPage(0, 0, 100); err != nil || pg[len(pg)-1].ID != g.ID {
				t.Errorf("round %d: the new group is not last: %v %v", round, pg, err)
			}
			return nil
		})
		if newSeq <= seq {
			t.Fatalf("round %d: the user deleted had Seq %d, the next one got %d: a Seq was reused", round, seq, newSeq)
		}
		last = newSeq
	}
}

// testInsertsVisibleInOrder: inserts from two stores at once, while
// readers look: every record that a reader sees for the first time sorts
// after every record that reader had seen before (the listing is
// append-only for readers), so a cursor walk misses no insert that lands
// during it.
func testInsertsVisibleInOrder(t *testing.T, b Backend) {
	a := b.New(t)
	c := b.Again(t, a)
	const writers, each = 8, 30
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr atomic.Value
	for r, s := range []store.Store{a, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[string]bool{}
			var maxSeen int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				var users []store.User
				if err := s.View(context.Background(), func(tx store.Tx) error {
					var err error
					users, err = tx.UsersPage(0, 0, writers*each+1)
					return err
				}); err != nil {
					readErr.Store(err)
					return
				}
				next := maxSeen
				for _, u := range users {
					if seen[u.ID] {
						continue
					}
					if u.Seq < maxSeen {
						readErr.Store(fmt.Errorf("reader %d: %s (Seq %d) appeared after a record with Seq %d had been seen", r, u.ID, u.Seq, maxSeen))
						return
					}
					seen[u.ID] = true
					next = max(next, u.Seq)
				}
				maxSeen = next
			}
		}()
	}
	var wwg sync.WaitGroup
	for w := 0; w < writers; w++ {
		s := []store.Store{a, c}[w%2]
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.InsertUser(User(id, id)) }); err != nil {
					t.Errorf("insert: %v", err)
					return
				}
			}
		}()
	}
	wwg.Wait()
	close(stop)
	wg.Wait()
	if err, ok := readErr.Load().(error); ok {
		t.Fatal(err)
	}
	if n := len(scanUserIDs(t, a)); n != writers*each {
		t.Fatalf("%d users, want %d", n, writers*each)
	}
}

// testCancelledScanIsAnError: a scan whose context is cancelled halfway
// through its rows returns an error, never a short result without one.
func testCancelledScan(t *testing.T, b Backend) {
	s := b.New(t)
	update(t, s, func(tx store.Tx) error {
		for i := range 300 {
			if err := tx.InsertUser(User(fmt.Sprint(i), fmt.Sprint("u", i))); err != nil {
				return err
			}
			if err := tx.InsertGroup(Group(fmt.Sprint(i), fmt.Sprint("g", i))); err != nil {
				return err
			}
		}
		return nil
	})
	for name, scan := range map[string]func(store.Tx, func()) error{
		"ScanUsers": func(tx store.Tx, step func()) error {
			return tx.ScanUsers(func(store.User) error { step(); return nil })
		},
		"ScanGroups": func(tx store.Tx, step func()) error {
			return tx.ScanGroups(func(store.Group) error { step(); return nil })
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err := s.View(ctx, func(tx store.Tx) error {
			return scan(tx, func() {
				if n++; n == 150 {
					cancel()
				}
			})
		})
		cancel()
		if err == nil {
			t.Errorf("%s cancelled halfway: %d rows and a nil error", name, n)
		}
	}
}

func testUpdateAfterClose(t *testing.T, b Backend) {
	s := b.New(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); err == nil {
		t.Fatal("Update after Close succeeded")
	}
}
