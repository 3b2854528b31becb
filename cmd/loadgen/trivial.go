package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// serveTrivial is the baseline: a SCIM handler that keeps users in a map,
// with just enough protocol to answer the workload (JSON in and out, a
// filter on userName, PATCH, DELETE) and no validation, persistence or
// authentication check beyond reading the header.
func serveTrivial(readyFile string) error {
	h := &trivial{users: map[string]map[string]any{}, byName: map[string]string{}}
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
	mu     sync.Mutex
	seq    int
	users  map[string]map[string]any
	byName map[string]string
}

func (t *trivial) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/scim+json")
	path := strings.TrimPrefix(r.URL.Path, "/scim/v2")
	id := strings.TrimPrefix(path, "/Users/")
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && path == "/Users":
		name := strings.Trim(strings.TrimPrefix(r.URL.Query().Get("filter"), "userName eq "), `"`)
		res := []any{}
		if id, ok := t.byName[strings.ToLower(name)]; ok {
			res = append(res, t.users[id])
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"totalResults": len(res), "startIndex": 1, "itemsPerPage": len(res), "Resources": res})
	case r.Method == http.MethodPost && path == "/Users":
		var u map[string]any
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &u) != nil {
			w.WriteHeader(400)
			return
		}
		t.seq++
		u["id"] = fmt.Sprint(t.seq)
		t.users[u["id"].(string)] = u
		name, _ := u["userName"].(string)
		t.byName[strings.ToLower(name)] = u["id"].(string)
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(u)
	case r.Method == http.MethodPatch:
		u, ok := t.users[id]
		var p map[string]any
		b, _ := io.ReadAll(r.Body)
		if !ok || json.Unmarshal(b, &p) != nil {
			w.WriteHeader(404)
			return
		}
		_ = json.NewEncoder(w).Encode(u)
	case r.Method == http.MethodDelete:
		if u, ok := t.users[id]; ok {
			name, _ := u["userName"].(string)
			delete(t.byName, strings.ToLower(name))
			delete(t.users, id)
		}
		w.WriteHeader(204)
	default:
		w.WriteHeader(404)
	}
}
