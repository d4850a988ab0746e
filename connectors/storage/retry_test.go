package storage

import (
	"testing"
	"time"
)

// errors.retry.timeout means what it means to the runtime: 0 retries
// nothing, -1 retries forever.
func TestRetryTimeoutMeaning(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", 5 * time.Minute},
		{"0", 0},
		{"1500", 1500 * time.Millisecond},
		{"-1", 100 * 365 * 24 * time.Hour},
	} {
		m := map[string]string{"flush.size": "10", "format.class": "parquet"}
		if tc.value != "" {
			m["errors.retry.timeout"] = tc.value
		}
		c, errs := ParseConfig(m)
		if len(errs) > 0 {
			t.Fatalf("%q: %v", tc.value, errs)
		}
		if c.RetryTimeout != tc.want {
			t.Errorf("errors.retry.timeout=%q: %s, want %s", tc.value, c.RetryTimeout, tc.want)
		}
	}
}
