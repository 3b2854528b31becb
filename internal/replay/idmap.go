package replay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/miscim/miscim/internal/scim"
)

// idMap maps the ids the log's responses introduced to the ids the replay
// target returned for the same resources, and the versions (ETags) of
// each; it is shared by the workers of a run.
type idMap struct {
	mu  sync.RWMutex
	ids map[string]string // logged id → replay id
	// prefixes maps the first 8 characters of a logged id to those of its
	// replay id: the engine's soft-delete prefix scim-deleted-<8>- holds
	// them (DESIGN §3.3).
	prefixes map[string]string
	// lost holds logged ids whose creating request did not create a
	// resource on the replay, with the index of that request.
	lost map[string]int
	// versions maps replay id + "\x00" + logged version to the version
	// the replay returned.
	versions map[string]string
}

func newIDMap() *idMap {
	return &idMap{ids: map[string]string{}, prefixes: map[string]string{}, lost: map[string]int{}, versions: map[string]string{}}
}

// minTokenID is the length from which an id is also replaced inside text
// (error details): shorter ids (MI's numbers) would match unrelated words.
const minTokenID = 8

func (m *idMap) add(logged, replay string) {
	if logged == "" || replay == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ids[logged]; ok {
		return // the first answer that introduced it decides
	}
	m.ids[logged] = replay
	delete(m.lost, logged)
	if len(logged) >= 8 && len(replay) >= 8 {
		m.prefixes[strings.ToLower(logged[:8])] = strings.ToLower(replay[:8])
	}
}

func (m *idMap) markLost(logged string, index int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ids[logged]; !ok {
		m.lost[logged] = index
	}
}

// get returns the replay id of a logged id.
func (m *idMap) get(logged string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.ids[logged]
	return r, ok
}

// lostBy returns the index of the request whose creation of logged failed
// on the replay.
func (m *idMap) lostBy(logged string) (int, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, ok := m.lost[logged]
	return i, ok
}

func (m *idMap) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.ids)
}

// mapped returns id's replay id, or id itself.
func (m *idMap) mapped(id string) string {
	if r, ok := m.get(id); ok {
		return r
	}
	return id
}

func (m *idMap) addVersion(replayID, logged, replay string) {
	if replayID == "" || logged == "" || replay == "" || logged == replay {
		return
	}
	m.mu.Lock()
	m.versions[replayID+"\x00"+logged] = replay
	m.mu.Unlock()
}

func (m *idMap) version(replayID, logged string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if v, ok := m.versions[replayID+"\x00"+logged]; ok {
		return v
	}
	return logged
}

// rewritten is a request as it is sent.
type rewritten struct {
	rel    string
	header http.Header
	body   []byte
	// unknown lists the logged ids the request uses that the replay has
	// not mapped: created before the log begins, or lost.
	unknown []string
}

// rewrite replaces the logged ids in a request with the replay's: in the
// path's id segment, in the quoted values of the filter parameter, in the
// body's string values (a member value, a manager reference, an id) and
// in the quoted values of PATCH paths (members[value eq "…"]). The
// If-Match and If-None-Match versions of a remapped resource are remapped
// too. Parts without a known id are sent as logged, byte for byte.
func (m *idMap) rewrite(rel string, header http.Header, body []byte) rewritten {
	out := rewritten{rel: rel, header: header, body: body}
	path, query, hasQuery := strings.Cut(rel, "?")
	segs := strings.Split(path, "/")
	ref := refOf(rel)
	for i, s := range segs {
		if i < 2 || s == "" || s == ".search" {
			continue // "", endpoint
		}
		id, err := url.PathUnescape(s)
		if err != nil {
			continue
		}
		if r, ok := m.get(id); ok {
			segs[i] = url.PathEscape(r)
		} else if i == 2 && ref.id != "" {
			out.unknown = append(out.unknown, id)
		}
	}
	newPath := strings.Join(segs, "/")
	if hasQuery {
		parts := strings.Split(query, "&")
		for i, part := range parts {
			k, v, ok := strings.Cut(part, "=")
			ku, err := url.QueryUnescape(k)
			if !ok || err != nil || !strings.EqualFold(ku, "filter") {
				continue
			}
			fv, err := url.QueryUnescape(v)
			if err != nil {
				continue
			}
			if nf, changed := m.rewriteLiterals(fv); changed {
				parts[i] = k + "=" + url.QueryEscape(nf)
			}
		}
		newPath += "?" + strings.Join(parts, "&")
	}
	out.rel = newPath

	if len(body) > 0 && m.len() > 0 {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) == nil && !dec.More() {
			if nd, changed := m.rewriteValue(doc); changed {
				if b, err := marshal(nd); err == nil {
					out.body = b
				}
			}
		}
	}

	if ref.id != "" {
		rid := m.mapped(ref.id)
		for _, h := range []string{"If-Match", "If-None-Match"} {
			vs := header.Values(h)
			if len(vs) == 0 {
				continue
			}
			var nv []string
			changed := false
			for _, v := range vs {
				w := m.version(rid, v)
				changed = changed || w != v
				nv = append(nv, w)
			}
			if changed {
				out.header[h] = nv // header is the request's own copy
			}
		}
	}
	return out
}

// rewriteValue replaces remapped ids in the string values of a JSON
// document.
func (m *idMap) rewriteValue(v any) (any, bool) {
	switch t := v.(type) {
	case string:
		if r, ok := m.get(t); ok {
			return r, true
		}
		if strings.Contains(t, `"`) {
			return m.rewriteLiterals(t)
		}
	case []any:
		changed := false
		for i, el := range t {
			if nv, c := m.rewriteValue(el); c {
				t[i], changed = nv, true
			}
		}
		return t, changed
	case map[string]any:
		changed := false
		for k, el := range t {
			if nv, c := m.rewriteValue(el); c {
				t[k], changed = nv, true
			}
		}
		return t, changed
	}
	return v, false
}

// rewriteLiterals replaces the quoted string literals of a SCIM filter (or
// PATCH path) that are remapped ids.
func (m *idMap) rewriteLiterals(s string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		if s[i] != '"' {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := stringEnd(s, i)
		lit := s[i:end]
		var val string
		if json.Unmarshal([]byte(lit), &val) == nil {
			if r, ok := m.get(val); ok {
				lit = scim.QuoteString(r)
				changed = true
			}
		}
		b.WriteString(lit)
		i = end
	}
	return b.String(), changed
}

// stringEnd returns the offset after the quoted string starting at i (or
// the end of s for an unterminated one).
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// literals returns the quoted string values of a filter, unquoted.
func literals(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		end := stringEnd(s, i)
		var val string
		if json.Unmarshal([]byte(s[i:end]), &val) == nil {
			out = append(out, val)
		}
		i = end - 1
	}
	return out
}

// translate maps the ids in a logged response document to the replay's,
// so that it can be compared with the replay's answer: string values that
// are a remapped id, ids of at least minTokenID characters inside text
// (an error's detail), and the soft-delete prefix scim-deleted-<8>- of the
// engine's MI username.
func (m *idMap) translate(v any) any {
	switch t := v.(type) {
	case string:
		return m.translateString(t)
	case []any:
		for i, el := range t {
			t[i] = m.translate(el)
		}
	case map[string]any:
		for k, el := range t {
			t[k] = m.translate(el)
		}
	}
	return v
}

const deletedPrefix = "scim-deleted-"

func (m *idMap) translateString(s string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r, ok := m.ids[s]; ok {
		return r
	}
	if len(s) >= len(deletedPrefix)+9 && strings.HasPrefix(s, deletedPrefix) && s[len(deletedPrefix)+8] == '-' {
		p := s[len(deletedPrefix) : len(deletedPrefix)+8]
		if r, ok := m.prefixes[strings.ToLower(p)]; ok {
			s = deletedPrefix + r + s[len(deletedPrefix)+8:]
		}
	}
	if len(s) < minTokenID || len(m.ids) == 0 {
		return s
	}
	// Ids inside text: runs of id characters.
	var b strings.Builder
	changed := false
	start := -1
	flush := func(end int) {
		tok := s[start:end]
		if r, ok := m.ids[tok]; ok && len(tok) >= minTokenID {
			b.WriteString(r)
			changed = true
		} else {
			b.WriteString(tok)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		idChar := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
		switch {
		case idChar && start < 0:
			start = i
		case !idChar && start >= 0:
			flush(i)
			b.WriteByte(c)
		case !idChar:
			b.WriteByte(c)
		}
	}
	if start >= 0 {
		flush(len(s))
	}
	if !changed {
		return s
	}
	return b.String()
}

// marshal encodes a document without HTML escaping, as a SCIM client
// would send it.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// learn records what a logged response and the replay's answer to the
// same request say about ids: the id of a created resource (its body's id,
// else its Location), the id of a resource read or changed, the ids of
// listed resources (paired by userName, displayName or externalId, or as
// the only resource of both lists), and the versions of each. A creation
// the log shows succeeding that fails on the replay marks the logged id
// lost, so that later requests using it can say why they differ.
func (m *idMap) learn(index int, method string, loggedStatus int, loggedHeader http.Header, expected any,
	status int, header http.Header, actual any) {
	loggedOK := loggedStatus >= 200 && loggedStatus < 300
	actualOK := status >= 200 && status < 300
	if !loggedOK {
		return // an error introduces no id
	}
	exp, _ := expected.(map[string]any)
	act, _ := actual.(map[string]any)
	lid := idOf(exp, loggedHeader)
	if method == http.MethodPost && lid != "" && !actualOK {
		m.markLost(lid, index)
		return
	}
	if !actualOK {
		return
	}
	rid := idOf(act, header)
	if lid != "" && rid != "" {
		m.add(lid, rid)
		m.addVersion(rid, versionOf(exp, loggedHeader), versionOf(act, header))
	}
	el, _ := getFold(exp, "Resources").([]any)
	al, _ := getFold(act, "Resources").([]any)
	if len(el) == 0 || len(al) == 0 {
		return
	}
	if len(el) == 1 && len(al) == 1 {
		e, _ := el[0].(map[string]any)
		a, _ := al[0].(map[string]any)
		m.pair(e, a)
		return
	}
	byKey := map[string]map[string]any{}
	for _, r := range al {
		if a, ok := r.(map[string]any); ok {
			for _, k := range identityKeys(a) {
				byKey[k] = a
			}
		}
	}
	for _, r := range el {
		e, ok := r.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range identityKeys(e) {
			if a, ok := byKey[k]; ok {
				m.pair(e, a)
				break
			}
		}
	}
}

// pair maps a logged resource to the replay's.
func (m *idMap) pair(e, a map[string]any) {
	lid, rid := scim.GetString(e, "id"), scim.GetString(a, "id")
	if lid == "" || rid == "" {
		return
	}
	m.add(lid, rid)
	m.addVersion(rid, versionOf(e, nil), versionOf(a, nil))
}

// identityKeys are what identifies a listed resource across targets, in
// order of preference.
func identityKeys(r map[string]any) []string {
	var keys []string
	if u := scim.GetString(r, "userName"); u != "" {
		keys = append(keys, "u:"+strings.ToLower(u))
	}
	if d := scim.GetString(r, "displayName"); d != "" {
		keys = append(keys, "g:"+strings.ToLower(d))
	}
	if x := scim.GetString(r, "externalId"); x != "" {
		keys = append(keys, "x:"+x)
	}
	return keys
}

// idOf is a response's resource id: its body's id, else the last segment
// of its Location.
func idOf(doc map[string]any, h http.Header) string {
	if id := scim.GetString(doc, "id"); id != "" {
		return id
	}
	if h == nil {
		return ""
	}
	loc := h.Get("Location")
	if loc == "" {
		return ""
	}
	if i := strings.IndexAny(loc, "?#"); i >= 0 {
		loc = loc[:i]
	}
	seg := loc[strings.LastIndexByte(loc, '/')+1:]
	if id, err := url.PathUnescape(seg); err == nil {
		return id
	}
	return seg
}

// versionOf is a response's resource version: meta.version, else ETag.
func versionOf(doc map[string]any, h http.Header) string {
	if meta, ok := getFold(doc, "meta").(map[string]any); ok {
		if v := scim.GetString(meta, "version"); v != "" {
			return v
		}
	}
	if h != nil {
		return h.Get("ETag")
	}
	return ""
}

// getFold reads a member case-insensitively (RFC 7643 §2.1); nil obj is
// fine.
func getFold(obj map[string]any, key string) any {
	if obj == nil {
		return nil
	}
	v, _, _ := scim.Get(obj, key)
	return v
}
