package watch

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulwarkhq/bulwark/internal/sink"
)

// Metrics are what watch serves on /metrics (Prometheus text format). A nil *Metrics records
// nothing.
type Metrics struct {
	reg        *prometheus.Registry
	events     *prometheus.CounterVec // by stream
	lag        *prometheus.GaugeVec   // by stream
	malformedC *prometheus.CounterVec // by stream
	alerts     *prometheus.CounterVec // final alerts by rule and level
	incidents  *prometheus.CounterVec // final incidents by severity
	revisions  *prometheus.CounterVec // open revisions by kind
	stateBytes *prometheus.GaugeVec   // checkpoint size by engine
	heldAlerts *prometheus.GaugeVec   // alerts held by engine
	ckptTime   *prometheus.GaugeVec   // unix time of the last checkpoint, by engine
	sinkFail   prometheus.Counter
	rekeyed    prometheus.Counter
	ready      atomic.Bool
}

// NewMetrics registers watch's metrics in a registry of their own (plus the Go runtime's).
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_watch_events_total", Help: "Activity Log events processed, by stream (topic/partition or file)."}, []string{"stream"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bulwark_watch_consumer_lag", Help: "Records not yet fetched, by stream (the partition's high watermark less the next offset)."}, []string{"stream"})
	m.malformedC = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_watch_decode_errors_total", Help: "Records or lines in them that could not be read, by stream."}, []string{"stream"})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_watch_alerts_total", Help: "Alerts delivered in their final form, by rule and level."}, []string{"rule", "level"})
	m.incidents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_watch_incidents_total", Help: "Incidents delivered in their final form, by severity."}, []string{"severity"})
	m.revisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bulwark_watch_open_revisions_total", Help: "Alerts and incidents delivered as they opened or grew, by kind."}, []string{"kind"})
	m.stateBytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bulwark_watch_checkpoint_bytes", Help: "Size of the last checkpoint (the detector's state, positions, outbox, duplicate keys), by engine."}, []string{"engine"})
	m.heldAlerts = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bulwark_watch_held_alerts", Help: "Alerts held (not yet final), by engine."}, []string{"engine"})
	m.ckptTime = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bulwark_watch_last_checkpoint_timestamp_seconds", Help: "When the last checkpoint was written (checkpoint age: time() minus this), by engine."}, []string{"engine"})
	m.sinkFail = prometheus.NewCounter(prometheus.CounterOpts{Name: "bulwark_watch_sink_failures_total", Help: "Deliveries that failed (the record stays in the outbox)."})
	m.rekeyed = prometheus.NewCounter(prometheus.CounterOpts{Name: "bulwark_watch_rekeyed_records_total", Help: "Records re-published to the rekey topic."})
	for _, c := range []prometheus.Collector{m.events, m.lag, m.malformedC, m.alerts, m.incidents, m.revisions, m.stateBytes, m.heldAlerts, m.ckptTime, m.sinkFail, m.rekeyed,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves /metrics, /healthz (the process is up) and /readyz (it has joined and is
// consuming: SetReady).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "not ready: not consuming yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// SetReady says whether the process is consuming.
func (m *Metrics) SetReady(ok bool) {
	if m != nil {
		m.ready.Store(ok)
	}
}

func (m *Metrics) processed(stream string, n int) {
	if m != nil && n > 0 {
		m.events.WithLabelValues(stream).Add(float64(n))
	}
}

// Lag sets a stream's consumer lag.
func (m *Metrics) Lag(stream string, n int64) {
	if m != nil {
		m.lag.WithLabelValues(stream).Set(float64(max(n, 0)))
	}
}

func (m *Metrics) malformed(stream string, n int) {
	if m != nil {
		m.malformedC.WithLabelValues(stream).Add(float64(n))
	}
}

func (m *Metrics) sinkFailure() {
	if m != nil {
		m.sinkFail.Inc()
	}
}

func (m *Metrics) rekey(n int) {
	if m != nil {
		m.rekeyed.Add(float64(n))
	}
}

func (m *Metrics) checkpointed(engine string, size int64, at time.Time) {
	if m != nil {
		m.stateBytes.WithLabelValues(engine).Set(float64(size))
		m.ckptTime.WithLabelValues(engine).Set(float64(at.UnixNano()) / 1e9)
	}
}

func (m *Metrics) held(engine string, n int) {
	if m != nil {
		m.heldAlerts.WithLabelValues(engine).Set(float64(n))
	}
}

func (m *Metrics) delivered(r sink.Record, final bool) {
	if m == nil {
		return
	}
	if !final {
		m.revisions.WithLabelValues(r.Kind).Inc()
		return
	}
	var v struct {
		Rule struct {
			Name, ID, Level string
		} `json:"rule"`
		Severity string `json:"severity"`
	}
	json.NewDecoder(bytes.NewReader(r.JSON)).Decode(&v)
	if r.Kind == "incident" {
		m.incidents.WithLabelValues(v.Severity).Inc()
		return
	}
	rule := v.Rule.Name
	if rule == "" {
		rule = v.Rule.ID
	}
	m.alerts.WithLabelValues(rule, v.Rule.Level).Inc()
}
