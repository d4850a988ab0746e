package metrics

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaHooksOfARestartedTask starts a task's second Kafka client while
// the first still runs, as a restart whose stop timed out does: the worker
// must not panic, and the first client's series go when it closes.
func TestKafkaHooksOfARestartedTask(t *testing.T) {
	const name = "tributary_kafka_buffered_fetch_records_total"
	m := New()
	task := m.Task("orders", 0)
	first, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), task.KafkaHooks())
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, m, name); n != 1 {
		t.Fatalf("%d series of %s for the first client, want 1", n, name)
	}
	second, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), task.KafkaHooks())
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	if n := count(t, m, name); n != 0 {
		t.Errorf("%d series of %s after the first client closed, want 0", n, name)
	}
	second.Close()
}

// TestWorkerStates renders a snapshot, one series per task and state, and
// drops a deleted connector's series.
func TestWorkerStates(t *testing.T) {
	m := New()
	m.SetWorker(func() Snapshot {
		return Snapshot{Connectors: 2, States: []string{"RUNNING", "FAILED"}, Tasks: []TaskState{
			{Connector: "a", Task: 0, State: "RUNNING"},
			{Connector: "a", Task: 1, State: "FAILED"},
		}}
	})
	if n := count(t, m, "tributary_task_state"); n != 4 {
		t.Errorf("%d task state series, want 4", n)
	}
	if v := value(t, m, "tributary_connectors"); v != 2 {
		t.Errorf("tributary_connectors = %v, want 2", v)
	}
	m.Task("a", 1).RecordsRead.Add(5)
	m.Task("b", 0).RecordsRead.Add(7)
	m.DeleteConnector("a")
	if v := value(t, m, "tributary_sink_records_read_total"); v != 7 {
		t.Errorf("records read %v after a was deleted, want b's 7", v)
	}
}

// count returns how many series of name m exports.
func count(t *testing.T, m *Metrics, name string) int {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

// value adds the values of name's counter and gauge series.
func value(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			total += mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		}
	}
	return total
}
