package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series /metrics exposes, on a registry of
// the server's own (never the global one, so that several servers in one
// process — tests, the in-process target — do not collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	handler  http.Handler

	// The series of each label set, looked up once: WithLabelValues hashes
	// its labels on every call.
	series sync.Map // seriesKey → *seriesOf
}

type seriesKey struct {
	method, resource string
	code             int
}

type seriesOf struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// writeStats is what a store may report of its group commit
// (sqlite.Store.WriteStats).
type writeStats interface {
	WriteStats() (writes, commits, syncs uint64)
}

// registerStoreMetrics exposes the group commit's counters when the store
// keeps them: how many writes share a commit and a sync of the log.
func (m *metrics) registerStoreMetrics(st any) {
	ws, ok := st.(writeStats)
	if !ok {
		return
	}
	for _, c := range []struct {
		name, help string
		get        func() uint64
	}{
		{"miscim_store_writes_total", "Write transactions (SCIM writes) committed.", func() uint64 { w, _, _ := ws.WriteStats(); return w }},
		{"miscim_store_commits_total", "Database commits; concurrent writes share one.", func() uint64 { _, c, _ := ws.WriteStats(); return c }},
		{"miscim_store_wal_syncs_total", "fdatasyncs of the write-ahead log (synchronous full); concurrent commits share one.", func() uint64 { _, _, s := ws.WriteStats(); return s }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return float64(c.get()) }))
	}
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "miscim_http_requests_total",
		Help: "HTTP requests answered, by method, resource and status code.",
	}, []string{"method", "resource", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "miscim_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by method and resource.",
		// From sub-millisecond reads to Entra's 60 s request timeout.
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"method", "resource"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "miscim_http_requests_in_flight",
		Help: "HTTP requests being answered.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// observe counts one answered request. Its labels are bounded (methodLabel,
// resourceLabel, a status code), and so is the cache.
func (m *metrics) observe(method, resource string, status int, d time.Duration) {
	k := seriesKey{method, resource, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &seriesOf{
			requests: m.requests.WithLabelValues(method, resource, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(method, resource),
		})
	}
	s := v.(*seriesOf)
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

// methodLabel bounds the method label to the methods miscim knows, so that
// a client sending made-up methods cannot grow the series without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
}

// resourceLabel maps a path to a fixed label set (Users, Groups,
// ServiceProviderConfig, ResourceTypes, Schemas, system-variables, other):
// never the raw path, whose ids would make a series per resource.
func resourceLabel(path string) string {
	if rest, ok := cutPrefixFold(path, scimPrefix); ok {
		seg, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		switch strings.ToLower(seg) {
		case "users":
			return "Users"
		case "groups":
			return "Groups"
		case "serviceproviderconfig":
			return "ServiceProviderConfig"
		case "resourcetypes":
			return "ResourceTypes"
		case "schemas":
			return "Schemas"
		}
		return "other"
	}
	if _, ok := cutPrefixFold(path, varsPrefix); ok {
		return "system-variables"
	}
	return "other"
}
