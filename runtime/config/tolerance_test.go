package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestErrorHandlingDefaults(t *testing.T) {
	c := &Connector{Name: "r", Config: map[string]string{
		"connector.class": "s3", "topics": "a",
	}}
	cm, errs := c.Common()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if cm.Errors != DefaultErrorHandling() {
		t.Errorf("errors %+v, want %+v", cm.Errors, DefaultErrorHandling())
	}
	e := cm.Errors
	if e.Tolerance != "none" || e.RetryTimeout >= 0 || e.RetryDelayMax != time.Minute ||
		e.LogEnable || e.LogMessages || e.DeadLetterTopic != "" ||
		e.DeadLetterReplication != 3 || e.ContextHeaders {
		t.Errorf("defaults %+v", e)
	}
}

func TestErrorHandlingValues(t *testing.T) {
	c := &Connector{Name: "r", Config: map[string]string{
		"connector.class": "s3", "topics": "a",
		"errors.tolerance":                                "all",
		"errors.retry.timeout":                            "-1",
		"errors.retry.delay.max.ms":                       "250",
		"errors.log.enable":                               "TRUE",
		"errors.log.include.messages":                     "false",
		"errors.deadletterqueue.topic.name":               "dlq-a",
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
	}}
	cm, errs := c.Common()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := ErrorHandling{
		Tolerance: "all", RetryTimeout: -time.Millisecond, RetryDelayMax: 250 * time.Millisecond,
		LogEnable: true, DeadLetterTopic: "dlq-a", DeadLetterReplication: 1,
		ContextHeaders: true,
	}
	if cm.Errors != want || cm.ErrorsTolerance != "all" {
		t.Errorf("errors %+v, want %+v", cm.Errors, want)
	}
}

func TestErrorHandlingErrors(t *testing.T) {
	c := &Connector{Name: "r", Config: map[string]string{
		"connector.class": "s3", "topics": "a,b",
		"errors.retry.timeout":                            "-2",
		"errors.retry.delay.max.ms":                       "0",
		"errors.log.enable":                               "yes",
		"errors.deadletterqueue.topic.name":               "b",
		"errors.deadletterqueue.topic.replication.factor": "0",
		"errors.deadletterqueue.context.headers.enable":   "1",
	}}
	_, errs := c.Common()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"errors.retry.timeout: must be -1 (forever) or at least 0, got -2",
		"errors.retry.delay.max.ms: must be at least 1, got 0",
		`errors.log.enable: want true or false, got "yes"`,
		`errors.deadletterqueue.context.headers.enable: want true or false, got "1"`,
		"errors.deadletterqueue.topic.name: must not be one of the connector's topics",
		"errors.deadletterqueue.topic.replication.factor: must be at least 1, " +
			"or -1 for the broker's default, got 0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrorHandlingRegexTopic(t *testing.T) {
	c := &Connector{Name: "r", Config: map[string]string{
		"connector.class": "s3", "topics.regex": "orders.*",
		"errors.deadletterqueue.topic.name": "orders-dlq",
	}}
	_, errs := c.Common()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "topics.regex") {
		t.Errorf("errors %v, want one about topics.regex", errs)
	}
}
