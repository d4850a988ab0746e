package config

import (
	"strconv"
	"strings"
	"time"
)

// Error handling keys, spelt and defaulted as in Kafka Connect.
const (
	KeyErrorsRetryTimeout    = "errors.retry.timeout"
	KeyErrorsRetryDelayMax   = "errors.retry.delay.max.ms"
	KeyErrorsLogEnable       = "errors.log.enable"
	KeyErrorsLogMessages     = "errors.log.include.messages"
	KeyDeadLetterTopic       = "errors.deadletterqueue.topic.name"
	KeyDeadLetterReplication = "errors.deadletterqueue.topic.replication.factor"
	KeyDeadLetterHeaders     = "errors.deadletterqueue.context.headers.enable"
)

// ErrorHandling holds the errors.* keys of a sink connector.
type ErrorHandling struct {
	// Tolerance is errors.tolerance: ToleranceNone or ToleranceAll.
	Tolerance string
	// RetryTimeout is errors.retry.timeout: how long an operation that
	// failed transiently is retried before the task fails. 0 retries
	// nothing; negative retries forever (-1 in the config). Unset, it is
	// forever, unlike Kafka Connect's 0: a sink waits out a registry or
	// broker outage, holding its offsets, instead of failing a task that
	// someone must then restart.
	RetryTimeout time.Duration
	// RetryDelayMax is errors.retry.delay.max.ms, the longest wait between
	// two attempts (default 60s).
	RetryDelayMax time.Duration
	// LogEnable is errors.log.enable: log each tolerated record failure.
	LogEnable bool
	// LogMessages is errors.log.include.messages: add the record's key and
	// value to that log line.
	LogMessages bool
	// DeadLetterTopic is errors.deadletterqueue.topic.name; empty means no
	// dead letter queue.
	DeadLetterTopic string
	// DeadLetterReplication is
	// errors.deadletterqueue.topic.replication.factor (default 3), capped
	// by the number of brokers when the topic is created.
	DeadLetterReplication int16
	// ContextHeaders is errors.deadletterqueue.context.headers.enable: add
	// the __connect.errors.* headers to dead-lettered records.
	ContextHeaders bool
}

// DefaultErrorHandling returns Kafka Connect's defaults, but for
// RetryTimeout (see there).
func DefaultErrorHandling() ErrorHandling {
	return ErrorHandling{
		Tolerance:             ToleranceNone,
		RetryTimeout:          -1,
		RetryDelayMax:         60 * time.Second,
		DeadLetterReplication: 3,
	}
}

// errorHandling parses the errors.* keys into cm.Errors.
func (p *commonParser) errorHandling(topics []string) ErrorHandling {
	e := DefaultErrorHandling()
	cfg := p.c.Config
	if s, ok := cfg[KeyErrorsTolerance]; ok {
		if msg := oneOf(ToleranceNone, ToleranceAll)(s); msg != "" {
			p.errorf(KeyErrorsTolerance, "%s", msg)
		} else {
			e.Tolerance = s
		}
	}
	if s, ok := cfg[KeyErrorsRetryTimeout]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		switch {
		case err != nil:
			p.errorf(KeyErrorsRetryTimeout, "want milliseconds, got %q", s)
		case n < -1:
			p.errorf(KeyErrorsRetryTimeout, "must be -1 (forever) or at least 0, got %d", n)
		default:
			e.RetryTimeout = time.Duration(n) * time.Millisecond
		}
	}
	if s, ok := cfg[KeyErrorsRetryDelayMax]; ok {
		if msg := positiveInt(s); msg != "" {
			p.errorf(KeyErrorsRetryDelayMax, "%s", msg)
		} else {
			n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			e.RetryDelayMax = time.Duration(n) * time.Millisecond
		}
	}
	e.LogEnable = p.boolean(KeyErrorsLogEnable, false)
	e.LogMessages = p.boolean(KeyErrorsLogMessages, false)
	e.ContextHeaders = p.boolean(KeyDeadLetterHeaders, false)

	e.DeadLetterTopic = strings.TrimSpace(cfg[KeyDeadLetterTopic])
	if e.DeadLetterTopic != "" {
		if msg := topicName(e.DeadLetterTopic); msg != "" {
			p.errorf(KeyDeadLetterTopic, "%s", msg)
		}
		for _, t := range topics {
			if t == e.DeadLetterTopic {
				p.errorf(KeyDeadLetterTopic, "must not be one of the connector's topics")
			}
		}
		if p.regex != nil && p.regex.MatchString(e.DeadLetterTopic) {
			p.errorf(KeyDeadLetterTopic, "must not match the connector's topics.regex")
		}
	}
	if s, ok := cfg[KeyDeadLetterReplication]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 16)
		switch {
		case err != nil:
			p.errorf(KeyDeadLetterReplication, "want an integer, got %q", s)
		case n < 1 && n != -1:
			p.errorf(KeyDeadLetterReplication,
				"must be at least 1, or -1 for the broker's default, got %d", n)
		default:
			e.DeadLetterReplication = int16(n)
		}
	}
	return e
}

// boolean parses a true or false key, in any case as Kafka Connect does,
// that is def when unset.
func (p *commonParser) boolean(key string, def bool) bool {
	s, ok := p.c.Config[key]
	if !ok {
		return def
	}
	switch v := strings.TrimSpace(s); {
	case strings.EqualFold(v, "true"):
		return true
	case strings.EqualFold(v, "false"):
		return false
	}
	p.errorf(key, "want true or false, got %q", s)
	return def
}
