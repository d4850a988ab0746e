package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
)

// serverInfo is GET /.
type serverInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// connectorInfo is Kafka Connect's ConnectorInfo.
type connectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []worker.TaskID   `json:"tasks"`
	Type   string            `json:"type"`
}

func newConnectorInfo(i worker.Info) connectorInfo {
	return connectorInfo{Name: i.Name, Config: config.Mask(i.Config), Tasks: i.Tasks, Type: i.Type}
}

// stateInfo is the connector part of ConnectorStateInfo.
type stateInfo struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// connectorState is Kafka Connect's ConnectorStateInfo.
type connectorState struct {
	Name      string              `json:"name"`
	Connector stateInfo           `json:"connector"`
	Tasks     []worker.TaskStatus `json:"tasks"`
	Type      string              `json:"type"`
}

func newConnectorState(st worker.ConnectorStatus) connectorState {
	tasks := st.Tasks
	if tasks == nil {
		tasks = []worker.TaskStatus{}
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
	return connectorState{Name: st.Name, Type: st.Type, Tasks: tasks,
		Connector: stateInfo{State: st.State, WorkerID: st.WorkerID, Trace: st.Trace}}
}

// taskInfo is Kafka Connect's TaskInfo.
type taskInfo struct {
	ID     worker.TaskID     `json:"id"`
	Config map[string]string `json:"config"`
}

// createRequest is Kafka Connect's CreateConnectorRequest.
type createRequest struct {
	Name         string         `json:"name"`
	Config       map[string]any `json:"config"`
	InitialState string         `json:"initial_state"`
}

// pluginInfo is Kafka Connect's PluginInfo.
type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// connectorOffset is one entry of Kafka Connect's ConnectorOffsets, in the
// sink form.
type connectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

type connectorOffsets struct {
	Offsets []connectorOffset `json:"offsets"`
}

type message struct {
	Message string `json:"message"`
}

// loggerLevel is Kafka Connect's LoggerLevel.
type loggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// workerStatus is GET /health.
type workerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// stringMap turns a JSON object into a config, as Kafka Connect's Jackson
// does: strings as they are, numbers and booleans in their JSON text.
// Nested objects and arrays are refused. A null value is kept as absent
// from the result and listed in nulls, which PATCH uses to remove keys.
func stringMap(m map[string]any) (cfg map[string]string, nulls []string, err error) {
	cfg = make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			cfg[k] = v
		case json.Number:
			cfg[k] = v.String()
		case bool:
			cfg[k] = fmt.Sprint(v)
		case nil:
			nulls = append(nulls, k)
		default:
			return nil, nil, errorf(http.StatusBadRequest,
				"config value of %s must be a string, number or boolean", k)
		}
	}
	sort.Strings(nulls)
	return cfg, nulls, nil
}
