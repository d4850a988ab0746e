package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// RootLogger is the name of the logger every other one inherits from.
const RootLogger = "root"

// Logger name attributes: a logger made with slog's With("logger", "rest")
// is the logger "rest"; one that adds a connector field becomes
// "connector.<name>", so that one connector's level can be changed alone.
const (
	loggerKey    = "logger"
	connectorKey = "connector"
)

// Loggers holds the log level of each named logger and can change them
// while the worker runs, as Kafka Connect's /admin/loggers does with
// log4j. A logger without a level of its own takes the level of the
// longest dotted prefix of its name that has one, else root's. It is safe
// for concurrent use.
type Loggers struct {
	mu       sync.RWMutex
	levels   map[string]slog.Level
	modified map[string]int64 // epoch ms of the last change through the API
	known    map[string]bool

	// redact, when not nil, rewrites message and string values of records.
	redact func(string) string
}

// NewLoggers returns loggers at root level root. redact, when not nil, is
// applied to every message and string attribute before it is logged.
func NewLoggers(root slog.Level, redact func(string) string) *Loggers {
	return &Loggers{
		levels:   map[string]slog.Level{RootLogger: root},
		modified: map[string]int64{},
		known:    map[string]bool{RootLogger: true},
		redact:   redact,
	}
}

// Handler wraps next so that records are filtered by the level of their
// logger; next itself should let every level through.
func (l *Loggers) Handler(next slog.Handler) slog.Handler {
	return &levelHandler{l: l, next: next, name: RootLogger}
}

// Level returns the effective level of logger name.
func (l *Loggers) Level(name string) slog.Level {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.level(name)
}

func (l *Loggers) level(name string) slog.Level {
	for n := name; ; {
		if lv, ok := l.levels[n]; ok {
			return lv
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return l.levels[RootLogger]
		}
		n = n[:i]
	}
}

func (l *Loggers) register(name string) {
	l.mu.RLock()
	ok := l.known[name]
	l.mu.RUnlock()
	if !ok {
		l.mu.Lock()
		l.known[name] = true
		l.mu.Unlock()
	}
}

// Set sets the level of name and of every known logger below it, and
// returns their names, sorted.
func (l *Loggers) Set(name string, level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UnixMilli()
	l.known[name] = true
	var changed []string
	for n := range l.known {
		if n == name || name == RootLogger || strings.HasPrefix(n, name+".") {
			l.levels[n] = level
			l.modified[n] = now
			changed = append(changed, n)
		}
	}
	sort.Strings(changed)
	return changed
}

// levelHandler filters by its logger's level and redacts.
type levelHandler struct {
	l    *Loggers
	next slog.Handler
	name string
}

func (h *levelHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.l.Level(h.name)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.l.redact == nil {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.l.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// redactAttr redacts the text a handler would print for a: strings,
// errors, Stringers such as a *url.URL, the values of a string map such as
// a config, and groups, recursively.
func (h *levelHandler) redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.l.redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, ga := range attrs {
			out[i] = h.redactAttr(ga)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.l.redact(x.Error()))
		case fmt.Stringer:
			if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
				return a // nothing to hide, and String may not take nil
			}
			return slog.String(a.Key, h.l.redact(x.String()))
		case map[string]string:
			m := make(map[string]string, len(x))
			for k, s := range x {
				m[k] = h.l.redact(s)
			}
			return slog.Any(a.Key, m)
		}
	}
	return a
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	name := h.name
	for _, a := range attrs {
		switch a.Key {
		case loggerKey:
			name = a.Value.String()
		case connectorKey:
			name = "connector." + a.Value.String()
		}
	}
	if name != h.name {
		h.l.register(name)
	}
	redacted := attrs
	if h.l.redact != nil {
		redacted = make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			redacted[i] = h.redactAttr(a)
		}
	}
	return &levelHandler{l: h.l, next: h.next.WithAttrs(redacted), name: name}
}

func (h *levelHandler) WithGroup(group string) slog.Handler {
	return &levelHandler{l: h.l, next: h.next.WithGroup(group), name: h.name}
}

// Levels as Kafka Connect names them (log4j's), and slog's equivalents.
var levelNames = []struct {
	name  string
	level slog.Level
}{
	{"ALL", slog.LevelDebug - 8},
	{"TRACE", slog.LevelDebug - 4},
	{"DEBUG", slog.LevelDebug},
	{"INFO", slog.LevelInfo},
	{"WARN", slog.LevelWarn},
	{"ERROR", slog.LevelError},
	{"FATAL", slog.LevelError + 4},
	{"OFF", slog.LevelError + 8},
}

func levelName(l slog.Level) string {
	name := levelNames[0].name
	for _, ln := range levelNames {
		if l >= ln.level {
			name = ln.name
		}
	}
	return name
}

func (l *Loggers) entry(name string) loggerLevel {
	out := loggerLevel{Level: levelName(l.level(name))}
	if ms, ok := l.modified[name]; ok {
		out.LastModified = &ms
	}
	return out
}

func (s *Server) listLoggers(*http.Request) (int, any, error) {
	l := s.opts.Loggers
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string]loggerLevel{}
	for n := range l.levels {
		out[n] = l.entry(n)
	}
	return http.StatusOK, out, nil
}

func (s *Server) getLogger(r *http.Request) (int, any, error) {
	name := r.PathValue("logger")
	if strings.EqualFold(name, RootLogger) {
		name = RootLogger
	}
	l := s.opts.Loggers
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.known[name] {
		return 0, nil, errorf(http.StatusNotFound, "Logger %s not found.", name)
	}
	return http.StatusOK, l.entry(name), nil
}

func (s *Server) setLogger(r *http.Request) (int, any, error) {
	name := r.PathValue("logger")
	if strings.EqualFold(name, RootLogger) {
		name = RootLogger
	}
	var body map[string]any
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	raw, ok := body["level"].(string)
	if !ok {
		return 0, nil, errorf(http.StatusBadRequest,
			"Desired 'level' parameter was not specified in request.")
	}
	level, found := slog.Level(0), false
	for _, ln := range levelNames {
		if strings.EqualFold(ln.name, raw) {
			level, found = ln.level, true
		}
	}
	if !found {
		return 0, nil, errorf(http.StatusNotFound, "invalid log level '%s'.", raw)
	}
	changed := s.opts.Loggers.Set(name, level)
	s.log.Info("log level changed", "logger", name, "level", strings.ToUpper(raw))
	if r.URL.Query().Get("scope") == "cluster" {
		// A standalone worker is the whole cluster.
		return http.StatusNoContent, nil, nil
	}
	return http.StatusOK, changed, nil
}
