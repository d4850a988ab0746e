package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
)

func (s *Server) routes() {
	s.handle("GET /{$}", s.root)
	s.handle("GET /health", s.health)

	s.handle("GET /connectors", s.listConnectors)
	s.handle("POST /connectors", s.createConnector)
	s.handle("GET /connectors/{name}", s.getConnector)
	s.handle("DELETE /connectors/{name}", s.deleteConnector)
	s.handle("GET /connectors/{name}/config", s.getConfig)
	s.handle("PUT /connectors/{name}/config", s.putConfig)
	s.handle("PATCH /connectors/{name}/config", s.patchConfig)
	s.handle("GET /connectors/{name}/status", s.getStatus)
	s.handle("GET /connectors/{name}/tasks", s.getTasks)
	s.handle("GET /connectors/{name}/tasks/{task}/status", s.getTaskStatus)
	s.handle("POST /connectors/{name}/restart", s.restartConnector)
	s.handle("POST /connectors/{name}/tasks/{task}/restart", s.restartTask)
	s.handle("PUT /connectors/{name}/pause", s.lifecycle(Herder.Pause, http.StatusAccepted))
	s.handle("PUT /connectors/{name}/resume", s.lifecycle(Herder.Resume, http.StatusAccepted))
	s.handle("PUT /connectors/{name}/stop", s.lifecycle(Herder.Stop, http.StatusNoContent))
	s.handle("GET /connectors/{name}/topics", s.getTopics)
	s.handle("PUT /connectors/{name}/topics/reset", s.resetTopics)
	s.handle("GET /connectors/{name}/offsets", s.getOffsets)
	s.handle("PATCH /connectors/{name}/offsets", s.alterOffsets)
	s.handle("DELETE /connectors/{name}/offsets", s.resetOffsets)

	s.handle("GET /connector-plugins", s.listPlugins)
	s.handle("GET /connector-plugins/{plugin}/config", s.pluginConfig)
	s.handle("PUT /connector-plugins/{plugin}/config/validate", s.validate)

	if s.opts.Loggers != nil {
		s.handle("GET /admin/loggers", s.listLoggers)
		s.handle("GET /admin/loggers/{logger}", s.getLogger)
		s.handle("PUT /admin/loggers/{logger}", s.setLogger)
	}
}

func (s *Server) root(r *http.Request) (int, any, error) {
	info := serverInfo{Version: s.opts.Version, Commit: s.opts.Commit}
	if id := s.clusterID.Load(); id != nil {
		info.KafkaClusterID = *id
	} else if s.opts.ClusterID != nil {
		id, err := s.opts.ClusterID(r.Context())
		if err != nil {
			return 0, nil, fmt.Errorf("read Kafka cluster id: %w", err)
		}
		s.clusterID.Store(&id)
		info.KafkaClusterID = id
	}
	return http.StatusOK, info, nil
}

func (s *Server) health(*http.Request) (int, any, error) {
	if !s.ready.Load() {
		return http.StatusServiceUnavailable, workerStatus{Status: "starting",
			Message: "Worker is still starting up."}, nil
	}
	return http.StatusOK, workerStatus{Status: "healthy",
		Message: "Worker has completed startup and is ready to handle requests."}, nil
}

func (s *Server) listConnectors(r *http.Request) (int, any, error) {
	names := s.opts.Herder.Connectors()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		return http.StatusOK, names, nil
	}
	out := make(map[string]map[string]any, len(names))
	for _, n := range names {
		entry := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				if st, err := s.opts.Herder.Status(n); err == nil {
					entry["status"] = newConnectorState(st)
				}
			case "info":
				if info, err := s.opts.Herder.Info(n); err == nil {
					entry["info"] = newConnectorInfo(info)
				}
			}
		}
		out[n] = entry
	}
	return http.StatusOK, out, nil
}

// targetStates maps initial_state to target states.
var targetStates = map[string]string{
	"":        store.TargetStarted,
	"RUNNING": store.TargetStarted,
	"PAUSED":  store.TargetPaused,
	"STOPPED": store.TargetStopped,
}

func (s *Server) createConnector(r *http.Request) (int, any, error) {
	var req createRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	name := strings.TrimSpace(req.Name)
	if req.Config == nil {
		return 0, nil, errorf(http.StatusBadRequest, "Connector config is required")
	}
	cfg, _, err := stringMap(req.Config)
	if err != nil {
		return 0, nil, err
	}
	if err := checkName(cfg, name); err != nil {
		return 0, nil, err
	}
	target, ok := targetStates[strings.ToUpper(req.InitialState)]
	if !ok {
		return 0, nil, errorf(http.StatusBadRequest,
			"initial_state %q is not one of RUNNING, PAUSED, STOPPED", req.InitialState)
	}
	if err := s.opts.Herder.Create(r.Context(), name, cfg, target, ""); err != nil {
		return 0, nil, apiError(err, name, "")
	}
	s.audit("connector created", name, cfg)
	return s.created(r, name)
}

// checkName applies Kafka Connect's rule: config.name, when present, must
// equal the connector's name; it is then set to it.
func checkName(cfg map[string]string, name string) error {
	if n, ok := cfg["name"]; ok && n != name {
		return errorf(http.StatusBadRequest, "Connector name configuration (%s) doesn't "+
			"match connector name in the URL (%s)", n, name)
	}
	cfg["name"] = name
	return nil
}

// created answers 201 with the Location of the connector and its info.
func (s *Server) created(r *http.Request, name string) (int, any, error) {
	info, err := s.opts.Herder.Info(name)
	if err != nil {
		return 0, nil, err
	}
	base := s.opts.BaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return http.StatusCreated, locatedInfo{newConnectorInfo(info),
		base + "/connectors/" + url.PathEscape(name)}, nil
}

// locatedInfo is a ConnectorInfo answered with a Location header.
type locatedInfo struct {
	connectorInfo
	location string
}

func (s *Server) getConnector(r *http.Request) (int, any, error) {
	info, err := s.opts.Herder.Info(r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newConnectorInfo(info), nil
}

func (s *Server) deleteConnector(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	if err := s.opts.Herder.Delete(r.Context(), name, ""); err != nil {
		return 0, nil, err
	}
	s.audit("connector deleted", name, nil)
	return http.StatusNoContent, nil, nil
}

func (s *Server) getConfig(r *http.Request) (int, any, error) {
	info, err := s.opts.Herder.Info(r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, config.Mask(info.Config), nil
}

func (s *Server) putConfig(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	var body map[string]any
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	cfg, _, err := stringMap(body)
	if err != nil {
		return 0, nil, err
	}
	if err := checkName(cfg, name); err != nil {
		return 0, nil, err
	}
	return s.writeConfig(r, name, cfg)
}

func (s *Server) writeConfig(r *http.Request, name string, cfg map[string]string) (int, any, error) {
	created, err := s.opts.Herder.PutConfig(r.Context(), name, cfg, "")
	if err != nil {
		return 0, nil, err
	}
	s.audit("connector config written", name, cfg)
	if created {
		return s.created(r, name)
	}
	return s.getConnector(r)
}

func (s *Server) patchConfig(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	info, err := s.opts.Herder.Info(name)
	if err != nil {
		return 0, nil, err
	}
	var body map[string]any
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	patch, nulls, err := stringMap(body)
	if err != nil {
		return 0, nil, err
	}
	cfg := maps.Clone(info.Config)
	maps.Copy(cfg, config.Unmask(patch, info.Config))
	for _, k := range nulls {
		delete(cfg, k)
	}
	return s.writeConfig(r, name, cfg)
}

func (s *Server) getStatus(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	st, err := s.opts.Herder.Status(name)
	if err != nil {
		return 0, nil, apiError(err, name, "No status found for connector "+name)
	}
	return http.StatusOK, newConnectorState(st), nil
}

func (s *Server) getTasks(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	cfgs, err := s.opts.Herder.TaskConfigs(name)
	if err != nil {
		return 0, nil, err
	}
	out := make([]taskInfo, len(cfgs))
	for i, c := range cfgs {
		out[i] = taskInfo{ID: worker.TaskID{Connector: name, Task: i}, Config: config.Mask(c)}
	}
	return http.StatusOK, out, nil
}

// taskID parses the {task} segment; a non-integer is a 404, as in Kafka
// Connect.
func taskID(r *http.Request) (int, error) {
	id, err := strconv.Atoi(r.PathValue("task"))
	if err != nil || id < 0 {
		return 0, errorf(http.StatusNotFound, "HTTP 404 Not Found")
	}
	return id, nil
}

func (s *Server) getTaskStatus(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	id, err := taskID(r)
	if err != nil {
		return 0, nil, err
	}
	st, err := s.opts.Herder.Status(name)
	if err != nil {
		return 0, nil, apiError(err, name, fmt.Sprintf("No status found for task %s-%d", name, id))
	}
	for _, ts := range st.Tasks {
		if ts.ID == id {
			return http.StatusOK, ts, nil
		}
	}
	return 0, nil, errorf(http.StatusNotFound, "No status found for task %s-%d", name, id)
}

func (s *Server) restartConnector(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	q := r.URL.Query()
	includeTasks, onlyFailed := q.Get("includeTasks") == "true", q.Get("onlyFailed") == "true"
	st, err := s.opts.Herder.Restart(r.Context(), name, includeTasks, onlyFailed)
	if err != nil {
		return 0, nil, apiError(err, name, "Unknown connector: "+name)
	}
	if !includeTasks && !onlyFailed {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusAccepted, newConnectorState(st), nil
}

func (s *Server) restartTask(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	id, err := taskID(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.opts.Herder.RestartTask(r.Context(), name, id); err != nil {
		if errors.Is(err, worker.ErrTaskNotFound) {
			return 0, nil, errorf(http.StatusNotFound, "Unknown task: %s-%d", name, id)
		}
		return 0, nil, apiError(err, name, "Unknown connector: "+name)
	}
	return http.StatusNoContent, nil, nil
}

// lifecycle serves pause, resume and stop.
func (s *Server) lifecycle(op func(Herder, context.Context, string) error, status int) handler {
	return func(r *http.Request) (int, any, error) {
		name := r.PathValue("name")
		if err := op(s.opts.Herder, r.Context(), name); err != nil {
			return 0, nil, apiError(err, name, "Unknown connector "+name)
		}
		s.log.Info("connector state requested", "connector", name, "path", r.URL.Path)
		return status, nil, nil
	}
}

func (s *Server) getTopics(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	if _, err := s.opts.Herder.Info(name); err != nil {
		return 0, nil, apiError(err, name, "Connector "+name+" not found")
	}
	topics := []string{}
	offsets, err := s.opts.Herder.Offsets(r.Context(), name)
	if err == nil {
		seen := map[string]bool{}
		for _, o := range offsets {
			if !seen[o.Topic] {
				seen[o.Topic] = true
				topics = append(topics, o.Topic)
			}
		}
		sort.Strings(topics)
	}
	return http.StatusOK, map[string]map[string][]string{name: {"topics": topics}}, nil
}

func (s *Server) resetTopics(*http.Request) (int, any, error) {
	return 0, nil, errorf(http.StatusForbidden, "Topic tracking reset is disabled.")
}

func (s *Server) getOffsets(r *http.Request) (int, any, error) {
	offsets, err := s.opts.Herder.Offsets(r.Context(), r.PathValue("name"))
	if err != nil {
		return 0, nil, err
	}
	out := connectorOffsets{Offsets: []connectorOffset{}}
	for _, o := range offsets {
		out.Offsets = append(out.Offsets, connectorOffset{
			Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": o.Partition},
			Offset:    map[string]any{"kafka_offset": o.Offset},
		})
	}
	return http.StatusOK, out, nil
}

func (s *Server) alterOffsets(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	var body struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	if len(body.Offsets) == 0 {
		return 0, nil, errorf(http.StatusBadRequest,
			"Partitions / offsets need to be provided for an alter offsets request")
	}
	offsets := make(map[connectors.TopicPartition]*int64, len(body.Offsets))
	for _, o := range body.Offsets {
		tp, off, err := sinkOffset(o.Partition, o.Offset)
		if err != nil {
			return 0, nil, err
		}
		offsets[tp] = off
	}
	handled, err := s.opts.Herder.AlterOffsets(r.Context(), name, offsets)
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("connector offsets altered", "connector", name, "partitions", len(offsets))
	return http.StatusOK, offsetsMessage("altered", handled), nil
}

func (s *Server) resetOffsets(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	handled, err := s.opts.Herder.ResetOffsets(r.Context(), name)
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("connector offsets reset", "connector", name)
	return http.StatusOK, offsetsMessage("reset", handled), nil
}

func offsetsMessage(what string, handled bool) message {
	if handled {
		return message{fmt.Sprintf("The offsets for this connector have been %s successfully", what)}
	}
	return message{fmt.Sprintf("The Connect framework-managed offsets for this connector "+
		"have been %s successfully. However, if this connector manages offsets externally, "+
		"they will need to be manually %s in the system that the connector uses.", what, what)}
}

// sinkOffset parses a sink partition and offset as Kafka Connect's
// SinkUtils does: numbers may be JSON numbers or numeric strings.
func sinkOffset(partition, offset map[string]any) (connectors.TopicPartition, *int64, error) {
	var tp connectors.TopicPartition
	topic, ok := partition["kafka_topic"].(string)
	if !ok || topic == "" {
		return tp, nil, errorf(http.StatusBadRequest,
			"Kafka topic must be specified in the partition: kafka_topic")
	}
	p, ok := number(partition["kafka_partition"])
	if !ok {
		return tp, nil, errorf(http.StatusBadRequest,
			"Failed to parse the following Kafka partition value in the provided offsets: %s",
			jsonText(partition["kafka_partition"]))
	}
	tp = connectors.TopicPartition{Topic: topic, Partition: int32(p)}
	if offset == nil {
		return tp, nil, nil
	}
	raw, ok := offset["kafka_offset"]
	if !ok {
		return tp, nil, errorf(http.StatusBadRequest,
			"The offset for sink connectors should either be null or contain the key 'kafka_offset'")
	}
	off, ok := number(raw)
	if !ok || off < 0 {
		return tp, nil, errorf(http.StatusBadRequest,
			"Failed to parse the following Kafka offset value in the provided offsets: %s",
			jsonText(raw))
	}
	return tp, &off, nil
}

// number reads an integer given as a JSON number or a numeric string.
func number(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// jsonText returns v as JSON, as the user sent it: null, "abc", {"a":1}.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

// audit logs a config change with its secrets masked.
func (s *Server) audit(msg, name string, cfg map[string]string) {
	s.log.Info(msg, "connector", name, "config", config.Mask(cfg))
}
