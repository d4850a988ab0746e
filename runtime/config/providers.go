package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tributary-io/tributary/connectors"
)

// Config provider names, as config.providers lists them.
const (
	ProviderEnv  = "env"
	ProviderFile = "file"
)

// Providers resolves the ${provider:argument} references of connector
// configs for the providers a worker enables, as Kafka Connect's
// config.providers does. The worker resolves a config only when it starts
// the connector's tasks; stores, responses and logs keep the references.
type Providers struct {
	// Enabled lists the enabled providers: env, file or both. A reference
	// to any other provider is an error.
	Enabled []string
	// EnvAllow, when not nil, limits ${env:NAME} to names it matches in
	// full (config.providers.env.param.allowlist.pattern).
	EnvAllow *regexp.Regexp
	// FileAllowed lists the directories ${file:path:key} may read under
	// (config.providers.file.param.allowed.paths). Paths are compared after
	// resolving symbolic links, so a link cannot lead outside. Empty allows
	// no file at all.
	FileAllowed []string
	// Getenv reads the environment; nil reads the process environment.
	Getenv func(string) (string, bool)
}

// Resolve returns a copy of cfg with every reference replaced by its value.
// Every problem is reported, joined; each is a connectors.FieldError that
// names the key and the reference but never a value.
func (p *Providers) Resolve(cfg map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(cfg))
	var errs []error
	for _, key := range sortedKeys(cfg) {
		value := cfg[key]
		if !strings.Contains(value, "${") {
			out[key] = value
			continue
		}
		out[key] = reference.ReplaceAllStringFunc(value, func(ref string) string {
			m := reference.FindStringSubmatch(ref)
			v, msg := p.lookup(m[1], m[2])
			if msg != "" {
				errs = append(errs, connectors.FieldError{Key: key, Message: msg})
				return ref
			}
			return v
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Check resolves cfg and returns the problems as field errors, discarding
// the values: the REST API validates references this way without holding
// what they resolve to.
func (p *Providers) Check(cfg map[string]string) []connectors.FieldError {
	_, err := p.Resolve(cfg)
	var out []connectors.FieldError
	for _, e := range unjoin(err) {
		var fe connectors.FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	return out
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lookup resolves one reference; msg says what is wrong, without a value.
func (p *Providers) lookup(provider, arg string) (value, msg string) {
	if !slices.Contains(p.Enabled, provider) {
		return "", fmt.Sprintf("config provider %q is not enabled on this worker (config.providers: %s)",
			provider, strings.Join(p.Enabled, ", "))
	}
	switch provider {
	case ProviderEnv:
		return p.env(arg)
	case ProviderFile:
		return p.file(arg)
	}
	return "", fmt.Sprintf("config provider %q is not supported; use env or file", provider)
}

func (p *Providers) env(name string) (string, string) {
	if name == "" {
		return "", "empty environment variable name in ${env:}"
	}
	if p.EnvAllow != nil && !p.EnvAllow.MatchString(name) {
		return "", fmt.Sprintf("environment variable %s is not allowed by "+
			"config.providers.env.param.allowlist.pattern", name)
	}
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	v, ok := getenv(name)
	if !ok {
		return "", fmt.Sprintf("environment variable %s is not set", name)
	}
	return v, ""
}

// file reads key from the properties file of ${file:path:key}.
func (p *Providers) file(arg string) (string, string) {
	i := strings.LastIndexByte(arg, ':')
	if i <= 0 || i == len(arg)-1 {
		return "", fmt.Sprintf("want ${file:/path:key}, got ${file:%s}", arg)
	}
	path, key := arg[:i], arg[i+1:]
	real, msg := p.allowedPath(path)
	if msg != "" {
		return "", msg
	}
	data, err := readFile(real)
	if err != nil {
		return "", fmt.Sprintf("read %s: %v", path, errors.Unwrap(err))
	}
	v, ok := properties(data)[key]
	if !ok {
		return "", fmt.Sprintf("%s has no key %s", path, key)
	}
	return v, ""
}

// allowedPath resolves path's symbolic links and checks that the result
// lies under one of the allowed directories, themselves resolved too.
func (p *Providers) allowedPath(path string) (string, string) {
	if !filepath.IsAbs(path) {
		return "", fmt.Sprintf("file %s: the path must be absolute", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Sprintf("file %s is not readable", path)
	}
	for _, dir := range p.FileAllowed {
		rdir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rdir, real); err == nil && rel != ".." &&
			!strings.HasPrefix(rel, "../") {
			return real, ""
		}
	}
	return "", fmt.Sprintf("file %s is outside config.providers.file.param.allowed.paths", path)
}

// properties parses a Java properties file's key=value and key: value
// lines; # and ! start comments. Line continuations are not supported.
func properties(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			out[line] = ""
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}
