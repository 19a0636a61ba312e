// Package numfmt formats numbers for people.
package numfmt

import (
	"strconv"
	"strings"
)

// Thousands formats n with comma separators: 44,638,464.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
