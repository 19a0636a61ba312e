package reports

import (
	"fmt"
	"html"
	"strings"
)

// doc is a report as a list of blocks, rendered as Markdown and as HTML.
// Text in blocks is plain, except that `backquoted` spans are code.
type doc struct {
	title  string
	blocks []any // heading, para, table, figBlock, gallery, codeBlock
	ids    map[string]bool
}

type heading struct{ text, id string }

type para string

type table struct {
	header []string
	rows   [][]string
	right  []bool // right-align column i (numbers)
}

type figBlock struct{ title, base, caption string } // base.png and base.svg

// gallery is a row of reconstruction grids.
type gallery []grid

type codeBlock struct{ lang, text string }

func (d *doc) add(b any)        { d.blocks = append(d.blocks, b) }
func (d *doc) para(text string) { d.add(para(text)) }
func (d *doc) heading(text string) {
	if d.ids == nil {
		d.ids = make(map[string]bool)
	}
	id := slug(text)
	for n := 2; d.ids[id]; n++ {
		id = fmt.Sprintf("%s-%d", slug(text), n)
	}
	d.ids[id] = true
	d.add(heading{text: text, id: id})
}

// spans splits text into alternating plain and code spans, plain first.
func spans(text string) []string { return strings.Split(text, "`") }

// mdInline renders text for Markdown, escaping what could be read as markup.
func mdInline(text string) string {
	var b strings.Builder
	for i, s := range spans(text) {
		if i%2 == 1 {
			b.WriteString("`" + s + "`")
			continue
		}
		for _, r := range s {
			if strings.ContainsRune("\\*_[]<>|#", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine folds line breaks, which would end a Markdown table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
}

// markdown renders d as Markdown with relative image links.
func (d *doc) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "# %s\n\n", mdInline(d.title))
	for _, blk := range d.blocks {
		switch x := blk.(type) {
		case heading:
			fmt.Fprintf(b, "## %s\n\n", mdInline(x.text))
		case para:
			fmt.Fprintf(b, "%s\n\n", mdInline(string(x)))
		case table:
			row := func(cells []string) {
				b.WriteString("|")
				for _, c := range cells {
					b.WriteString(" " + mdInline(oneLine(c)) + " |")
				}
				b.WriteString("\n")
			}
			row(x.header)
			b.WriteString("|")
			for i := range x.header {
				if i < len(x.right) && x.right[i] {
					b.WriteString(" ---: |")
				} else {
					b.WriteString(" --- |")
				}
			}
			b.WriteString("\n")
			for _, r := range x.rows {
				row(r)
			}
			b.WriteString("\n")
		case figBlock:
			fmt.Fprintf(b, "![%s](%s.png)\n\n", mdInline(x.title), x.base)
			fmt.Fprintf(b, "%s ([SVG](%s.svg))\n\n", mdInline(x.caption), x.base)
		case gallery:
			for _, g := range x {
				fmt.Fprintf(b, "![%s](%s)\n\n%s\n\n", mdInline(g.title), g.path, mdInline(g.title))
			}
		case codeBlock:
			fence := "```"
			for strings.Contains(x.text, fence) {
				fence += "`"
			}
			fmt.Fprintf(b, "%s%s\n%s\n%s\n\n", fence, x.lang, strings.TrimRight(x.text, "\n"), fence)
		}
	}
}

// htmlInline renders text for HTML, with code spans.
func htmlInline(text string) string {
	var b strings.Builder
	for i, s := range spans(text) {
		if i%2 == 1 {
			b.WriteString("<code>" + html.EscapeString(s) + "</code>")
		} else {
			b.WriteString(html.EscapeString(s))
		}
	}
	return b.String()
}

// css keeps the page readable without anything from the network.
const css = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #222; background: #fff; margin: 0; }
main { max-width: 1400px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1 { font-size: 1.7em; margin-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
nav ul { columns: 2; padding-left: 1.2em; }
code { font: .9em/1.3 ui-monospace, "Liberation Mono", monospace; background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; vertical-align: top; }
th { background: #f0f0f0; text-align: left; overflow-wrap: anywhere; min-width: 5em; }
tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.why { white-space: pre-wrap; max-width: 40em; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figure.recon img { image-rendering: pixelated; }
.gallery { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
.gallery figure { margin: 1em 0; max-width: 20em; }
figcaption { color: #555; font-size: .9em; margin-top: .3em; max-width: 60em; }
`

// html renders d as one self-contained page; images are files beside it.
func (d *doc) html(b *strings.Builder) {
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n",
		html.EscapeString(d.title), css)
	fmt.Fprintf(b, "<h1>%s</h1>\n", htmlInline(d.title))
	b.WriteString("<nav><ul>\n")
	for _, blk := range d.blocks {
		if h, ok := blk.(heading); ok {
			fmt.Fprintf(b, "<li><a href=\"#%s\">%s</a></li>\n", h.id, htmlInline(h.text))
		}
	}
	b.WriteString("</ul></nav>\n")
	for _, blk := range d.blocks {
		switch x := blk.(type) {
		case heading:
			fmt.Fprintf(b, "<h2 id=\"%s\">%s</h2>\n", x.id, htmlInline(x.text))
		case para:
			fmt.Fprintf(b, "<p>%s</p>\n", htmlInline(string(x)))
		case table:
			b.WriteString("<div class=\"table\"><table>\n<thead><tr>")
			for _, h := range x.header {
				fmt.Fprintf(b, "<th>%s</th>", htmlInline(h))
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for _, r := range x.rows {
				b.WriteString("<tr>")
				for i, c := range r {
					class := ""
					switch {
					case i < len(x.right) && x.right[i]:
						class = ` class="num"`
					case i < len(x.header) && x.header[i] == "why":
						class = ` class="why"`
					}
					fmt.Fprintf(b, "<td%s>%s</td>", class, htmlInline(c))
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</tbody>\n</table></div>\n")
		case figBlock:
			fmt.Fprintf(b, "<figure id=\"%s\">\n<img src=\"%s.png\" alt=\"%s\">\n<figcaption>%s (<a href=\"%s.svg\">SVG</a>)</figcaption>\n</figure>\n",
				html.EscapeString(x.base), html.EscapeString(x.base), html.EscapeString(x.title), htmlInline(x.caption), html.EscapeString(x.base))
		case gallery:
			b.WriteString("<div class=\"gallery\">\n")
			for _, g := range x {
				size := ""
				if g.width > 0 && g.width < 256 {
					// small grids are scaled up by a whole factor, crisp
					size = fmt.Sprintf(" width=\"%d\"", g.width*min(4, (256+g.width-1)/g.width))
				}
				fmt.Fprintf(b, "<figure class=\"recon\">\n<img src=\"%s\" alt=\"%s\"%s>\n<figcaption>%s</figcaption>\n</figure>\n",
					html.EscapeString(g.path), html.EscapeString(g.title), size, htmlInline(g.title))
			}
			b.WriteString("</div>\n")
		case codeBlock:
			fmt.Fprintf(b, "<pre><code>%s</code></pre>\n", html.EscapeString(x.text))
		}
	}
	b.WriteString("</main>\n</body>\n</html>\n")
}
