package config

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tributary-io/tributary/connectors"
)

// MaxFileSize caps the size of a config file. Config files are small; the cap
// keeps a wrong path (a log file, a dump) from being read into memory.
const MaxFileSize = 1 << 20

// errTooLarge reports a file over MaxFileSize.
var errTooLarge = errors.New("file is larger than 1 MiB")

// position renders where a key sits in the compiler's style, path:line: key,
// leaving out what is unknown.
func position(path string, line int, key string) string {
	where := path
	if path != "" && line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	switch {
	case where == "":
		return key
	case key == "":
		return where
	default:
		return where + ": " + key
	}
}

// fieldErr builds a FieldError at a position.
func fieldErr(path string, line int, key, format string, args ...any) connectors.FieldError {
	return connectors.FieldError{
		Key:     position(path, line, key),
		Message: fmt.Sprintf(format, args...),
	}
}

// suggest returns a hint naming the known key closest to key, or "" when no
// known key is within two edits of it.
func suggest(key string, known []string) string {
	best := Closest(key, known)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// Closest returns the known key closest to key, or "" when none is within
// two edits of it.
func Closest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
