package transform

import (
	"fmt"
	"strings"
)

// javaLayout translates a java.text.SimpleDateFormat pattern into a Go time
// layout. It covers the letters dates are written with (y M d D H h m s S a
// E z Z X) and quoted literals; it rejects patterns Go cannot express, such
// as fractions of a second that do not follow a '.' or ','.
func javaLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			end := i + 1
			if end < len(pattern) && pattern[end] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for end < len(pattern) && pattern[end] != '\'' {
				end++
			}
			if end == len(pattern) {
				return "", fmt.Errorf("unterminated quote in %q", pattern)
			}
			lit := pattern[i+1 : end]
			if err := checkLiteral(lit); err != nil {
				return "", fmt.Errorf("pattern %q: %w", pattern, err)
			}
			b.WriteString(lit)
			i = end + 1
			continue
		}
		if !isLetter(c) {
			if c >= '0' && c <= '9' {
				return "", fmt.Errorf("pattern %q: literal digits are not supported", pattern)
			}
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		tok, err := layoutToken(c, n, b.String())
		if err != nil {
			return "", fmt.Errorf("pattern %q: %w", pattern, err)
		}
		b.WriteString(tok)
		i += n
	}
	return b.String(), nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// layoutToken returns the Go layout of n repetitions of the pattern letter
// c; before is the layout so far.
func layoutToken(c byte, n int, before string) (string, error) {
	pick := func(short, long string, at int) string {
		if n >= at {
			return long
		}
		return short
	}
	switch c {
	case 'y', 'Y':
		if n == 2 {
			return "06", nil
		}
		return "2006", nil
	case 'M':
		switch {
		case n >= 4:
			return "January", nil
		case n == 3:
			return "Jan", nil
		}
		return pick("1", "01", 2), nil
	case 'd':
		return pick("2", "02", 2), nil
	case 'D':
		return "002", nil
	case 'H', 'k':
		return "15", nil
	case 'h', 'K':
		return pick("3", "03", 2), nil
	case 'm':
		return pick("4", "04", 2), nil
	case 's':
		return pick("5", "05", 2), nil
	case 'S':
		if !strings.HasSuffix(before, ".") && !strings.HasSuffix(before, ",") {
			return "", fmt.Errorf("fractions of a second (S) must follow '.' or ','")
		}
		return strings.Repeat("0", n), nil
	case 'a':
		return "PM", nil
	case 'E':
		return pick("Mon", "Monday", 4), nil
	case 'z':
		return "MST", nil
	case 'Z':
		return "-0700", nil
	case 'X':
		switch n {
		case 1:
			return "Z07", nil
		case 2:
			return "Z0700", nil
		}
		return "Z07:00", nil
	}
	return "", fmt.Errorf("pattern letter %c is not supported", c)
}

// checkLiteral rejects quoted text that Go would read as a layout element.
func checkLiteral(lit string) error {
	if strings.ContainsAny(lit, "0123456789") {
		return fmt.Errorf("literal %q: digits are not supported", lit)
	}
	for _, tok := range []string{"Jan", "Mon", "MST", "PM", "pm", "Z07"} {
		if strings.Contains(lit, tok) {
			return fmt.Errorf("literal %q reads as the time element %s", lit, tok)
		}
	}
	return nil
}
