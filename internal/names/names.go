// Package names turns the names of an experiment file (the experiment's,
// its variants', its ablation labels', its runs') into directory names
// safely: nothing that passes [Check] or comes out of [Escape] can leave the
// directory it is joined to, or confuse a terminal it is printed on.
package names

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest name, in bytes, that [Check] accepts and [Escape]
// returns: NAME_MAX, the longest file name of Linux's file systems.
const MaxLen = 255

// ErrUnsafe is wrapped by every error of [Check] and [CheckText].
var ErrUnsafe = errors.New("unsafe name")

// CheckText refuses text that would confuse a terminal it is printed on:
// invalid UTF-8, control characters (newline, tab, ESC and the rest of
// Unicode's Cc) and the bidirectional formatting characters that reorder
// what follows them. Variant names and ablation labels, which become parts
// of run names, must pass it.
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q: %w: not valid UTF-8", s, ErrUnsafe)
	}
	for _, r := range s {
		if unsafeRune(r) {
			return fmt.Errorf("%q: %w: holds the control character %U", s, ErrUnsafe, r)
		}
	}
	return nil
}

// Check refuses a name that cannot be a directory name as it is: what
// [CheckText] refuses, "", "." and "..", a '/' or '\\', a leading or
// trailing space (a lone space included), and more than [MaxLen] bytes.
// An experiment's name must pass it. A name that passes is returned
// unchanged by [Escape] unless it holds a '%'.
func Check(name string) error {
	if err := CheckText(name); err != nil {
		return err
	}
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrUnsafe)
	case name == "." || name == "..":
		return fmt.Errorf("%q: %w: names a directory already there", name, ErrUnsafe)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%q: %w: holds a path separator ('/' or '\\')", name, ErrUnsafe)
	case name != strings.TrimSpace(name):
		return fmt.Errorf("%q: %w: begins or ends with a space", name, ErrUnsafe)
	case len(name) > MaxLen:
		return fmt.Errorf("%.40q...: %w: %d bytes, at most %d", name, ErrUnsafe, len(name), MaxLen)
	}
	return nil
}

// Escape maps any string, such as a run name, which holds '/' by design
// ("CRATE-MAE/mask_ratio=0.75/seed=0"), to one directory name that [Check]
// accepts. It percent-encodes (as %XX per byte) '%' itself, '/', '\\', the
// characters [CheckText] refuses, bytes of invalid UTF-8, a leading or
// trailing space and the dots of "." and ".."; "" becomes "%". Distinct
// strings give distinct names, except that a result over [MaxLen] bytes is
// cut at a character boundary and ends in '~' and 16 hex digits of the
// SHA-256 of s.
func Escape(s string) string {
	if s == "" {
		return "%"
	}
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		edge := i == 0 || i+n == len(s)
		if (r == utf8.RuneError && n == 1) || r == '%' || r == '/' || r == '\\' || unsafeRune(r) || (edge && unicode.IsSpace(r)) {
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return shorten(b.String(), s)
}

// shorten cuts an escaped name over MaxLen bytes to fit, ending it in '~'
// and a hash of the original s.
func shorten(escaped, s string) string {
	if len(escaped) <= MaxLen {
		return escaped
	}
	sum := sha256.Sum256([]byte(s))
	tail := "~" + hex.EncodeToString(sum[:8])
	cut := MaxLen - len(tail)
	for cut > 0 && !utf8.RuneStart(escaped[cut]) {
		cut--
	}
	// never cut inside a %XX escape
	if p := strings.LastIndexByte(escaped[:cut], '%'); p >= 0 && p > cut-3 {
		cut = p
	}
	return escaped[:cut] + tail
}

// unsafeRune reports whether r confuses a terminal: a control character
// or a bidirectional formatting character.
func unsafeRune(r rune) bool {
	switch r {
	case '\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069':
		return true
	}
	return unicode.IsControl(r)
}
