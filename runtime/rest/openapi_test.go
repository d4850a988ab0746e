package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// TestOpenAPIRoutes checks that the document and the server list the same
// routes.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	s := New(Options{Herder: nil, Loggers: NewLoggers(0, nil)})
	wildcard := regexp.MustCompile(`\{\$\}$`)
	var served []string
	for _, p := range s.patterns {
		served = append(served, wildcard.ReplaceAllString(p, ""))
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("routes differ\ndocumented: %s\nserved:     %s",
			strings.Join(documented, ", "), strings.Join(served, ", "))
	}
}

// TestOpenAPIResponses runs the route test with every request and response
// validated against the document.
func TestOpenAPIResponses(t *testing.T) {
	testRoutesAgainstDocument(t, newFixture(t, Options{}))
}

// testRoutesAgainstDocument runs testRoutes on f, validating every exchange
// against openapi.yaml, and fails when a documented route went unchecked.
func testRoutesAgainstDocument(t *testing.T, f *fixture) {
	doc := loadOpenAPI(t)
	doc.Servers = openapi3.Servers{{URL: f.http.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	f.check = func(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
		t.Helper()
		route, params, err := router.FindRoute(req)
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s is not documented but answered %d", req.Method, req.URL, resp.StatusCode)
			}
			return
		}
		if err != nil {
			t.Fatalf("find route %s %s: %v", req.Method, req.URL, err)
		}
		opts := &openapi3filter.Options{
			IncludeResponseStatus: true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params,
			Route: route, Options: opts}
		err = openapi3filter.ValidateResponse(context.Background(),
			&openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
				Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
			})
		if err != nil {
			t.Errorf("%s %s answered %d %s, which the document does not allow: %v",
				req.Method, req.URL, resp.StatusCode, body, err)
		}
		checked[req.Method+" "+route.Path] = true
	}
	testRoutes(t, f)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !checked[method+" "+path] {
				t.Errorf("no response of %s %s was checked", method, path)
			}
		}
	}
}
