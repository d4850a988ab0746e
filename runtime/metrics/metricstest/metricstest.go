// Package metricstest scrapes a worker's /metrics for tests and reads the
// values back.
package metricstest

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families is one scrape, by metric name.
type Families map[string]*dto.MetricFamily

// Scrape gets url, a /metrics endpoint, and parses the text it serves.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mfs
}

// Family returns the metric called name, failing the test when the scrape
// lacks it.
func (f Families) Family(t testing.TB, name string) *dto.MetricFamily {
	t.Helper()
	mf, ok := f[name]
	if !ok {
		t.Fatalf("%s not exported", name)
	}
	return mf
}

// Sum adds the values of name's counter and gauge series that carry every
// label pair given (name, value, name, value...).
func (f Families) Sum(t testing.TB, name string, pairs ...string) float64 {
	t.Helper()
	total := 0.0
	for _, mt := range f.Family(t, name).GetMetric() {
		if HasLabels(mt, pairs...) {
			total += mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		}
	}
	return total
}

// Count adds the sample counts of name's histogram series.
func (f Families) Count(t testing.TB, name string) int {
	t.Helper()
	n := uint64(0)
	for _, mt := range f.Family(t, name).GetMetric() {
		n += mt.GetHistogram().GetSampleCount()
	}
	return int(n)
}

// HasLabels reports whether mt carries every label pair given.
func HasLabels(mt *dto.Metric, pairs ...string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range mt.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
