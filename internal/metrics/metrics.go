// Package metrics holds purse's Prometheus metrics, registered on a registry of
// their own and served on the admin listener at /metrics.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the instruments; a nil *Metrics records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	Requests        *prometheus.CounterVec   // listener, route, status
	RequestDuration *prometheus.HistogramVec // listener, route
	BatchSize       prometheus.Histogram
	CommitDuration  prometheus.Histogram
	QueueDepth      prometheus.GaugeFunc
	BatchRetries    prometheus.Counter
	FaultsInjected  *prometheus.CounterVec // listener, action (purse serve --emulator)
	EventsWritten   prometheus.Counter
	Deliveries      *prometheus.CounterVec // outcome: delivered, failed
	lag             *lagCollector          // purse_webhook_delivery_lag_seconds, by subscription
	Disabled        prometheus.Gauge       // subscriptions disabled
	Paced           prometheus.Counter     // seconds webhook lanes waited for their pace (a saturated writer)

	requests sync.Map // requestKey -> *requestObs
}

// Sources are the counts that other parts keep and the metrics read when scraped.
type Sources struct {
	QueueDepth             func() float64   // the engine's queue length
	InFlight               func() float64   // requests holding a place at the engine's overload gate
	CacheHits, CacheMisses func() float64   // the credential cache's counters
	ShedNow, ShedAfterWait func() float64   // requests the engine refused on arrival, after a wait
	Now                    func() time.Time // the clock events are stamped by [time.Now]
}

// New registers every metric.
func New(src Sources) *Metrics {
	r := prometheus.NewRegistry()
	if src.Now == nil {
		src.Now = time.Now
	}
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "purse_http_requests_total", Help: "HTTP requests by listener, route and status.",
		}, []string{"listener", "route", "status"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "purse_http_request_duration_seconds", Help: "HTTP request latency by listener and route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"listener", "route"}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "purse_engine_batch_size", Help: "Requests per engine batch (one commit each).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		CommitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "purse_engine_commit_seconds", Help: "Time to write and commit one batch.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1},
		}),
		QueueDepth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "purse_engine_queue_depth", Help: "Requests waiting for the engine.",
		}, src.QueueDepth),
		BatchRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "purse_engine_batch_retries_total", Help: "Batches run again after losing a race with another node.",
		}),
		FaultsInjected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "purse_faults_injected_total", Help: "Requests given a fault by a fault rule (purse serve --emulator), by listener and action.",
		}, []string{"listener", "action"}),
		EventsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "purse_events_written_total", Help: "Events written to the outbox (in the same commits as their effects).",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "purse_webhook_deliveries_total", Help: "Webhook delivery attempts by outcome (delivered, failed).",
		}, []string{"outcome"}),
		lag: &lagCollector{now: src.Now, oldest: map[string]time.Time{}, desc: prometheus.NewDesc("purse_webhook_delivery_lag_seconds",
			"Age of the oldest event not yet delivered, by subscription this node delivers (0: caught up).", []string{"subscription"}, nil)},
		Disabled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "purse_webhook_subscriptions_disabled", Help: "Webhook subscriptions disabled (by the operator, or for failing too long).",
		}),
		Paced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "purse_webhook_paced_seconds_total", Help: "Time webhook delivery lanes waited, while the writer was saturated, to keep to their pace (2,000 events a second a lane), summed over lanes.",
		}),
	}
	hits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "purse_auth_cache_hits_total", Help: "Credential checks answered from the cache.",
	}, src.CacheHits)
	misses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "purse_auth_cache_misses_total", Help: "Credential checks that had to be verified (argon2id or a key lookup).",
	}, src.CacheMisses)
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "purse_engine_in_flight", Help: "Money requests holding a place at the engine's overload gate (at most 64): queued, in a batch, or waiting for its sync.",
	}, src.InFlight)
	const shedHelp = "Money requests refused by the engine's overload gate (503), on arrival or after waiting for a place."
	shedNow := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "purse_engine_shed_total", Help: shedHelp, ConstLabels: prometheus.Labels{"when": "arrival"},
	}, src.ShedNow)
	shedLate := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "purse_engine_shed_total", Help: shedHelp, ConstLabels: prometheus.Labels{"when": "wait"},
	}, src.ShedAfterWait)
	r.MustRegister(m.Requests, m.RequestDuration, m.BatchSize, m.CommitDuration, m.QueueDepth, m.BatchRetries, m.FaultsInjected, hits, misses, inFlight, shedNow, shedLate,
		m.EventsWritten, m.Deliveries, m.lag, m.Disabled, m.Paced,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type requestKey struct {
	listener, route string
	status          int
}

type requestObs struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// ObserveRequest records a finished request. The label lookups are cached, so the
// hot path is two atomic adds and a bucket search.
func (m *Metrics) ObserveRequest(listener, route string, status int, d time.Duration) {
	k := requestKey{listener, route, status}
	o, ok := m.requests.Load(k)
	if !ok {
		o, _ = m.requests.LoadOrStore(k, &requestObs{
			count:    m.Requests.WithLabelValues(listener, route, strconv.Itoa(status)),
			duration: m.RequestDuration.WithLabelValues(listener, route),
		})
	}
	r := o.(*requestObs)
	r.count.Inc()
	r.duration.Observe(d.Seconds())
}

// Behind sets a subscription's oldest event not yet delivered (zero: caught up).
// Its lag is that event's age when scraped, so it grows while a receiver is down
// and the deliverer waits between retries.
func (m *Metrics) Behind(subscriptionID string, oldest time.Time) {
	if m == nil {
		return
	}
	m.lag.mu.Lock()
	m.lag.oldest[subscriptionID] = oldest
	m.lag.mu.Unlock()
}

// Forget drops a subscription's lag: this node no longer delivers it (deleted,
// disabled, or another node's to deliver), and a last value kept would never
// clear an alert, or raise one.
func (m *Metrics) Forget(subscriptionID string) {
	if m == nil {
		return
	}
	m.lag.mu.Lock()
	delete(m.lag.oldest, subscriptionID)
	m.lag.mu.Unlock()
}

// lagCollector reports each delivered subscription's lag, computed when scraped.
type lagCollector struct {
	desc   *prometheus.Desc
	now    func() time.Time
	mu     sync.Mutex
	oldest map[string]time.Time
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, oldest := range c.oldest {
		lag := 0.0
		if !oldest.IsZero() {
			lag = max(now.Sub(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, lag, id)
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
