package ablations

import (
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// syntaxError turns an error of the TOML decoder into an inputError at
// source:line, followed by an excerpt of text around the line, as a
// compiler shows it:
//
//	x.toml:3:7: expected '.' or ']' to end table name, but got '\n' instead
//	    2 | name = "x"
//	    3 | [model
//	      |       ^
//	    4 | img_size = 8
func syntaxError(text []byte, source string, err error) error {
	perr, ok := errors.AsType[toml.ParseError](err)
	if !ok {
		return &inputError{source, err}
	}
	line, col := position(text, perr.Position)
	return &inputError{fmt.Sprintf("%s:%d:%d", source, line, col), errors.New(perr.Message + "\n" + excerpt(text, line, col))}
}

// position is the 1-based line and column (in bytes) of the error at p.
// It counts from p.Start, the error's byte offset: the decoder's own line
// is one too far when the offending character is the newline that ends a
// line, as after a table header without its ']' ("[model").
func position(text []byte, p toml.Position) (line, col int) {
	if p.Start < 0 || p.Start > len(text) {
		return p.Line, p.Col
	}
	before := text[:p.Start]
	line = 1 + strings.Count(string(before), "\n")
	col = p.Start - strings.LastIndexByte(string(before), '\n')
	return line, col
}

// excerpt shows the line before, the line and the line after line of
// text, numbered, with a caret under column col of the line.
func excerpt(text []byte, line, col int) string {
	lines := strings.Split(string(text), "\n")
	width := len(fmt.Sprint(min(line+1, len(lines))))
	var b strings.Builder
	for n := max(line-1, 1); n <= min(line+1, len(lines)); n++ {
		l := strings.TrimRight(lines[n-1], "\r")
		if n > line && l == "" && n == len(lines) {
			break // the empty remainder after a final newline
		}
		fmt.Fprintf(&b, "  %*d | %s\n", width, n, printable(l))
		if n == line {
			fmt.Fprintf(&b, "  %*s | %s^\n", width, "", caretPad(l, col))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// caretPad is the blank space that puts a caret under column col of l,
// keeping l's tabs so that the caret lines up.
func caretPad(l string, col int) string {
	var b strings.Builder
	for i, r := range l {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteRune('\t')
		} else {
			b.WriteRune(' ')
		}
	}
	if n := col - 1 - len(l); n > 0 {
		b.WriteString(strings.Repeat(" ", n))
	}
	return b.String()
}

// printable replaces the control characters of a line of the file other
// than tabs, which would act on a terminal, with U+FFFD.
func printable(l string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && (r < ' ' || r == 0x7f) {
			return '\uFFFD'
		}
		return r
	}, l)
}
