package worker

import "github.com/twmb/franz-go/pkg/kgo"

// syncPause makes the consumer follow the connector's target state: a
// PAUSED connector's tasks stay in the group, keep their partitions and
// keep committing what is durable, but fetch nothing. Pausing whole topics
// also covers partitions assigned while paused. The task loop calls it
// before each poll; buffered records of paused topics are not returned.
func (t *task) syncPause(cl *kgo.Client) {
	paused := cl.PauseFetchTopics()
	state := t.status().State
	if t.c.paused.Load() {
		if topics := cl.GetConsumeTopics(); len(topics) > len(paused) {
			cl.PauseFetchTopics(topics...)
		}
		if state == StateRunning {
			t.setState(StatePaused, nil)
			t.log.Info("task paused")
		}
		return
	}
	if len(paused) > 0 {
		cl.ResumeFetchTopics(paused...)
	}
	if state == StatePaused {
		t.setState(StateRunning, nil)
		t.log.Info("task resumed")
	}
}
