package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// serveTrivial runs a baseline: a SCIM handler that keeps users in a map,
// with just enough protocol to answer the workloads (JSON in and out, a
// filter on userName, GET by id, POST, PATCH, DELETE) and no validation or
// authentication check beyond reading the header. With a journal path it
// is the durable baseline: every write is also appended to that file as
// one record and fdatasynced, concurrent writes sharing one sync, before it
// is answered (journal.go).
func serveTrivial(readyFile, journalPath string) error {
	h := &trivial{users: map[string]map[string]any{}, byName: map[string]string{}}
	if journalPath != "" {
		j, err := openJournal(journalPath)
		if err != nil {
			return err
		}
		defer j.close()
		h.journal = j
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://%s/scim/v2", ln.Addr())
	if err := os.WriteFile(readyFile, []byte(base+"\n"), 0o644); err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		<-c
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

type trivial struct {
	journal *journal // nil: in memory only

	mu     sync.RWMutex
	seq    int
	users  map[string]map[string]any
	byName map[string]string
}

// record is one journal entry: what a write changed.
func record(op, id string, body []byte) []byte {
	b := make([]byte, 0, len(body)+64)
	b = append(b, `{"op":`...)
	b = strconv.AppendQuote(b, op)
	b = append(b, `,"id":`...)
	b = strconv.AppendQuote(b, id)
	if len(body) > 0 {
		b = append(b, `,"body":`...)
		b = append(b, body...)
	}
	return append(b, "}\n"...)
}

// commit applies a change under the lock and, when durable, journals it in
// the same order, then waits for the disk outside the lock, so that reads
// and other writes go on meanwhile.
func (t *trivial) commit(w http.ResponseWriter, change func() []byte) bool {
	t.mu.Lock()
	rec := change()
	var ticket uint64
	if t.journal != nil && rec != nil {
		ticket = t.journal.add(rec)
	}
	t.mu.Unlock()
	if ticket != 0 {
		if err := t.journal.wait(ticket); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return false
		}
	}
	return true
}

func (t *trivial) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/journal-stats" && t.journal != nil {
		recs, syncs := t.journal.stats()
		_ = json.NewEncoder(w).Encode(map[string]uint64{"records": recs, "syncs": syncs})
		return
	}
	_ = r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/scim+json")
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
	id := strings.TrimPrefix(path, "/Users/")
	switch {
	case r.Method == http.MethodGet && path == "/Users":
		name := strings.Trim(strings.TrimPrefix(r.URL.Query().Get("filter"), "userName eq "), `"`)
		res := []any{}
		t.mu.RLock()
		if id, ok := t.byName[strings.ToLower(name)]; ok {
			res = append(res, t.users[id])
		}
		b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"totalResults": len(res), "startIndex": 1, "itemsPerPage": len(res), "Resources": res})
		t.mu.RUnlock()
		_, _ = w.Write(b)
	case r.Method == http.MethodGet:
		t.mu.RLock()
		u, ok := t.users[id]
		b, _ := json.Marshal(u)
		t.mu.RUnlock()
		if !ok {
			w.WriteHeader(404)
			return
		}
		_, _ = w.Write(b)
	case r.Method == http.MethodPost && path == "/Users":
		var u map[string]any
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &u) != nil {
			w.WriteHeader(400)
			return
		}
		var out []byte
		if !t.commit(w, func() []byte {
			t.seq++
			id := strconv.Itoa(t.seq)
			u["id"] = id
			t.users[id] = u
			name, _ := u["userName"].(string)
			t.byName[strings.ToLower(name)] = id
			out, _ = json.Marshal(u)
			return record("POST", id, out)
		}) {
			return
		}
		w.WriteHeader(201)
		_, _ = w.Write(out)
	case r.Method == http.MethodPatch:
		var p map[string]any
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &p) != nil {
			w.WriteHeader(400)
			return
		}
		var out []byte
		if !t.commit(w, func() []byte {
			u, ok := t.users[id]
			if !ok {
				return nil
			}
			out, _ = json.Marshal(u)
			return record("PATCH", id, body)
		}) {
			return
		}
		if out == nil {
			w.WriteHeader(404)
			return
		}
		_, _ = w.Write(out)
	case r.Method == http.MethodDelete:
		if !t.commit(w, func() []byte {
			u, ok := t.users[id]
			if !ok {
				return nil
			}
			name, _ := u["userName"].(string)
			delete(t.byName, strings.ToLower(name))
			delete(t.users, id)
			return record("DELETE", id, nil)
		}) {
			return
		}
		w.WriteHeader(204)
	default:
		w.WriteHeader(404)
	}
}
