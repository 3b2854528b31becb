package server

import (
	"net/http"
	"strconv"
	"strings"
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

func (m *metrics) observe(method, resource string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, resource, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, resource).Observe(d.Seconds())
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
