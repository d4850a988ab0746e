// Package metrics declares every Prometheus metric a worker exports, with
// its names and labels, on a registry of the worker's own. It observes the
// data path; nothing on the path reads it.
//
// The runtime (runtime/worker) binds a Task to each task's labels once, so
// that the task loop pays an atomic add per batch and never a label lookup.
// Sinks report their own measurements through connectors.SinkMetrics, which
// Task implements. The Kafka clients' metrics come from franz-go's kprom
// plugin under tributary_kafka. The task states and the connector count are
// read from the worker at each scrape (SetWorker), so they cannot go stale.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Label names. Label values are bounded: connectors, tasks and states, never
// records, keys or partitions.
const (
	LabelConnector = "connector"
	LabelTask      = "task"
	LabelState     = "state"
)

const (
	namespace      = "tributary"
	kafkaNamespace = "tributary_kafka"
)

var taskLabels = []string{LabelConnector, LabelTask}

// Metrics is one worker's metrics and the registry that serves them. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	recordsRead    *prometheus.CounterVec
	recordsWritten *prometheus.CounterVec
	recordErrors   *prometheus.CounterVec
	recordsSkipped *prometheus.CounterVec
	dlqRequests    *prometheus.CounterVec
	dlqFailures    *prometheus.CounterVec

	objectsCommitted *prometheus.CounterVec
	bytesUploaded    *prometheus.CounterVec
	commitDuration   *prometheus.HistogramVec
	openSegments     *prometheus.GaugeVec

	workerMu sync.Mutex
	worker   func() Snapshot
}

// New returns the metrics of one worker on a new registry, which also
// holds the Go runtime's and the process's metrics.
func New() *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: name, Help: help,
		}, taskLabels)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		recordsRead: counter("sink_records_read_total",
			"Records polled from Kafka, before conversion and transforms "+
				"(Kafka Connect's sink-record-read-total)."),
		recordsWritten: counter("sink_records_written_total",
			"Records handed to the sink after transforms "+
				"(Kafka Connect's sink-record-send-total)."),
		recordErrors: counter("task_record_errors_total",
			"Records that failed conversion or a transform "+
				"(Kafka Connect's total-record-errors)."),
		recordsSkipped: counter("task_records_skipped_total",
			"Failed records skipped under errors.tolerance=all "+
				"(Kafka Connect's total-records-skipped)."),
		dlqRequests: counter("task_deadletterqueue_produce_requests_total",
			"Records sent to the dead letter queue "+
				"(Kafka Connect's deadletterqueue-produce-requests)."),
		dlqFailures: counter("task_deadletterqueue_produce_failures_total",
			"Dead letters the broker did not acknowledge "+
				"(Kafka Connect's deadletterqueue-produce-failures)."),
		objectsCommitted: counter("storage_objects_committed_total",
			"Data objects made durable by the storage sink's commits."),
		bytesUploaded: counter("storage_bytes_uploaded_total",
			"Bytes of data objects the storage sink uploaded."),
		commitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "storage_commit_duration_seconds",
			Help: "Time from closing a segment's files until they are durable: " +
				"plan, uploads and all retries.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, taskLabels),
		openSegments: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "storage_open_segments",
			Help: "Segments the storage sink holds open, one at most per partition.",
		}, taskLabels),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.recordsRead, m.recordsWritten, m.recordErrors, m.recordsSkipped,
		m.dlqRequests, m.dlqFailures,
		m.objectsCommitted, m.bytesUploaded, m.commitDuration, m.openSegments,
		workerCollector{m},
	)
	return m
}

// Registry returns the registry, for tests and for other metrics of the
// process.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Task returns task id of connector's metrics, bound to their labels. A
// restarted task gets the same series back, so its counters keep counting.
func (m *Metrics) Task(connector string, id int) *Task {
	l := []string{connector, strconv.Itoa(id)}
	return &Task{
		RecordsRead:        m.recordsRead.WithLabelValues(l...),
		RecordsWritten:     m.recordsWritten.WithLabelValues(l...),
		RecordErrors:       m.recordErrors.WithLabelValues(l...),
		RecordsSkipped:     m.recordsSkipped.WithLabelValues(l...),
		DeadLetters:        m.dlqRequests.WithLabelValues(l...),
		DeadLetterFailures: m.dlqFailures.WithLabelValues(l...),
		objects:            m.objectsCommitted.WithLabelValues(l...),
		bytes:              m.bytesUploaded.WithLabelValues(l...),
		commits:            m.commitDuration.WithLabelValues(l...),
		segments:           m.openSegments.WithLabelValues(l...),
		m:                  m,
		labels:             prometheus.Labels{LabelConnector: l[0], LabelTask: l[1]},
	}
}

// DeleteConnector drops the series of a deleted connector's tasks.
func (m *Metrics) DeleteConnector(connector string) {
	match := prometheus.Labels{LabelConnector: connector}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.recordsRead, m.recordsWritten, m.recordErrors, m.recordsSkipped,
		m.dlqRequests, m.dlqFailures,
		m.objectsCommitted, m.bytesUploaded, m.commitDuration, m.openSegments,
	} {
		v.DeletePartialMatch(match)
	}
}

// Task is one task's metrics. The counters are exported for the task loop,
// which adds to them once per batch; the rest is reported by the sink
// through the connectors.SinkMetrics methods.
type Task struct {
	RecordsRead        prometheus.Counter
	RecordsWritten     prometheus.Counter
	RecordErrors       prometheus.Counter
	RecordsSkipped     prometheus.Counter
	DeadLetters        prometheus.Counter
	DeadLetterFailures prometheus.Counter

	objects  prometheus.Counter
	bytes    prometheus.Counter
	commits  prometheus.Observer
	segments prometheus.Gauge

	m      *Metrics
	labels prometheus.Labels
}

// Uploaded implements connectors.SinkMetrics.
func (t *Task) Uploaded(bytes int64) { t.bytes.Add(float64(bytes)) }

// Committed implements connectors.SinkMetrics.
func (t *Task) Committed(objects int, took time.Duration) {
	t.objects.Add(float64(objects))
	t.commits.Observe(took.Seconds())
}

// OpenSegments implements connectors.SinkMetrics.
func (t *Task) OpenSegments(n int) { t.segments.Set(float64(n)) }

// KafkaHooks returns the option that gives one of the task's Kafka clients
// kprom's metrics, under tributary_kafka with the task's labels and the
// client's ID as client_id, which tells the task's consumer from its dead
// letter queue's producer. Fetch and produce metrics are labelled by
// broker and topic, never by partition.
//
// kprom registers a client's collectors when the client starts and drops
// them when it closes. Should a restarted task's client start before its
// predecessor's closed, the new one runs without metrics rather than
// failing the registration.
func (t *Task) KafkaHooks() kgo.Opt {
	return kgo.WithHooks(kprom.NewMetrics(kafkaNamespace,
		kprom.Registerer(lenient{t.m.reg}),
		kprom.Gatherer(t.m.reg),
		kprom.WithStaticLabel(t.labels),
		kprom.WithClientLabel(),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Records,
			kprom.UncompressedBytes),
	))
}

// lenient is a Registerer whose MustRegister skips collectors it cannot
// register instead of panicking.
type lenient struct{ prometheus.Registerer }

func (l lenient) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = l.Register(c)
	}
}

// Snapshot is the worker's state at one scrape.
type Snapshot struct {
	// Connectors counts the connectors the worker hosts, in any state.
	Connectors int
	// States lists every state a task can be in; each task gets a series
	// per state, 1 for its current one and 0 for the others.
	States []string
	// Tasks are the tasks this worker runs.
	Tasks []TaskState
}

// TaskState is one task's state at a scrape.
type TaskState struct {
	Connector string
	Task      int
	State     string
}

// SetWorker sets the function each scrape reads the worker's state from.
// It may block while the worker applies a change, which delays the scrape.
func (m *Metrics) SetWorker(f func() Snapshot) {
	m.workerMu.Lock()
	m.worker = f
	m.workerMu.Unlock()
}

var (
	connectorsDesc = prometheus.NewDesc(namespace+"_connectors",
		"Connectors the worker hosts (Kafka Connect's connector-count).", nil, nil)
	taskStateDesc = prometheus.NewDesc(namespace+"_task_state",
		"1 for the state a task of this worker is in, 0 for the others "+
			"(Kafka Connect's task status).",
		[]string{LabelConnector, LabelTask, LabelState}, nil)
)

// workerCollector reads the worker's state at each scrape.
type workerCollector struct{ m *Metrics }

func (c workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectorsDesc
	ch <- taskStateDesc
}

func (c workerCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.workerMu.Lock()
	f := c.m.worker
	c.m.workerMu.Unlock()
	if f == nil {
		return
	}
	s := f()
	ch <- prometheus.MustNewConstMetric(connectorsDesc, prometheus.GaugeValue,
		float64(s.Connectors))
	for _, ts := range s.Tasks {
		id := strconv.Itoa(ts.Task)
		for _, state := range s.States {
			v := 0.0
			if state == ts.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(taskStateDesc, prometheus.GaugeValue, v,
				ts.Connector, id, state)
		}
	}
}
