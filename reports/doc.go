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
	// inline, when set, turns the path of a file beside the report into
	// the link the HTML uses, as a data: URI for a self-contained page.
	inline func(path string) string
}

type heading struct{ text, id string }

type para string

type table struct {
	header []string
	rows   [][]string
	right  []bool        // right-align column i (numbers)
	strong map[cell]bool // cells in bold, such as the best value of a column
	links  map[cell]link // a link after a cell's text
}

// cell is a table cell's row and column.
type cell struct{ row, col int }

// link is a link to a file beside the report.
type link struct{ text, href string }

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
			row := func(r int, cells []string) {
				b.WriteString("|")
				for i, c := range cells {
					text := mdInline(oneLine(c))
					if x.strong[cell{r, i}] {
						text = "**" + text + "**"
					}
					if l, ok := x.links[cell{r, i}]; ok {
						text += fmt.Sprintf(" ([%s](%s))", mdInline(l.text), l.href)
					}
					b.WriteString(" " + text + " |")
				}
				b.WriteString("\n")
			}
			row(-1, x.header)
			b.WriteString("|")
			for i := range x.header {
				if i < len(x.right) && x.right[i] {
					b.WriteString(" ---: |")
				} else {
					b.WriteString(" --- |")
				}
			}
			b.WriteString("\n")
			for r, cells := range x.rows {
				row(r, cells)
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

// breakable renders text for a table cell: as htmlInline, with a line
// break allowed after each / and _, so that metric keys and run names
// wrap at their parts rather than mid-word or not at all.
func breakable(text string) string {
	wbr := strings.NewReplacer("/", "/<wbr>", "_", "_<wbr>")
	var b strings.Builder
	for i, s := range spans(text) {
		if i%2 == 1 {
			b.WriteString("<code>" + wbr.Replace(html.EscapeString(s)) + "</code>")
		} else {
			b.WriteString(wbr.Replace(html.EscapeString(s)))
		}
	}
	return b.String()
}

// numCell renders a number cell: a value and its spread, "0.812 ± 0.004",
// may break before the ±, never inside a number.
func numCell(text string) string {
	mean, spread, ok := strings.Cut(text, " ± ")
	if !ok {
		return `<span class="nw">` + htmlInline(text) + `</span>`
	}
	return `<span class="nw">` + htmlInline(mean) + `</span> <span class="nw">± ` + htmlInline(spread) + `</span>`
}

// css keeps the page readable without anything from the network, and
// within 1,400 pixels: tables take the page's width and wrap their cells
// (headers at word boundaries, keys at their parts), figures sit two to a
// row.
const css = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #222; background: #fff; margin: 0; }
main { max-width: 1400px; margin: 0 auto; padding: 1.5em 2em 4em; box-sizing: border-box; }
h1 { font-size: 1.7em; margin-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
nav ul { columns: 3; padding-left: 1.2em; }
p { max-width: 75em; }
code { font: .9em/1.3 ui-monospace, "Liberation Mono", monospace; background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
.table { margin: 1em 0; max-width: 100%; }
table { border-collapse: collapse; font-size: .85em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: .3em .5em; vertical-align: top; overflow-wrap: break-word; }
th { background: #f0f0f0; text-align: left; word-break: normal; hyphens: manual; }
th code, td code { white-space: normal; }
tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td strong { font-weight: 700; }
.nw { white-space: nowrap; }
td.why { max-width: 40em; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: .5em 2em; align-items: start; }
figure { margin: 1.2em 0; min-width: 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figure.recon img { image-rendering: pixelated; }
.gallery { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
.gallery figure { margin: 1em 0; max-width: 30em; }
figcaption { color: #555; font-size: .85em; margin-top: .3em; }
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
	inFigs := false // within a grid of figures
	for _, blk := range d.blocks {
		if _, fig := blk.(figBlock); inFigs && !fig {
			b.WriteString("</div>\n")
			inFigs = false
		}
		switch x := blk.(type) {
		case heading:
			fmt.Fprintf(b, "<h2 id=\"%s\">%s</h2>\n", x.id, htmlInline(x.text))
		case para:
			fmt.Fprintf(b, "<p>%s</p>\n", htmlInline(string(x)))
		case table:
			b.WriteString("<div class=\"table\"><table>\n<thead><tr>")
			for _, h := range x.header {
				fmt.Fprintf(b, "<th>%s</th>", breakable(h))
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for r, row := range x.rows {
				b.WriteString("<tr>")
				for i, c := range row {
					class, text := "", breakable(c)
					switch {
					case i < len(x.right) && x.right[i]:
						class, text = ` class="num"`, numCell(c)
					case i < len(x.header) && x.header[i] == "why":
						class = ` class="why"`
					}
					if x.strong[cell{r, i}] {
						text = "<strong>" + text + "</strong>"
					}
					if l, ok := x.links[cell{r, i}]; ok {
						text += fmt.Sprintf(` (<a href="%s">%s</a>)`, html.EscapeString(d.href(l.href)), html.EscapeString(l.text))
					}
					fmt.Fprintf(b, "<td%s>%s</td>", class, text)
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</tbody>\n</table></div>\n")
		case figBlock:
			if !inFigs {
				b.WriteString("<div class=\"figs\">\n")
				inFigs = true
			}
			png := html.EscapeString(d.href(x.base + ".png"))
			svg := ""
			if d.inline == nil {
				// a self-contained page leaves the SVGs beside it
				svg = fmt.Sprintf(" (<a href=\"%s.svg\">SVG</a>)", html.EscapeString(x.base))
			}
			fmt.Fprintf(b, "<figure id=\"%s\">\n<a href=\"%s\"><img src=\"%s\" alt=\"%s\"></a>\n<figcaption>%s%s</figcaption>\n</figure>\n",
				html.EscapeString(x.base), png, png, html.EscapeString(x.title), htmlInline(x.caption), svg)
		case gallery:
			b.WriteString("<div class=\"gallery\">\n")
			for _, g := range x {
				size := ""
				if g.width > 0 && g.width < 256 {
					// small grids are scaled up by a whole factor, crisp
					size = fmt.Sprintf(" width=\"%d\"", g.width*min(4, (256+g.width-1)/g.width))
				}
				fmt.Fprintf(b, "<figure class=\"recon\">\n<img src=\"%s\" alt=\"%s\"%s>\n<figcaption>%s</figcaption>\n</figure>\n",
					html.EscapeString(d.href(g.path)), html.EscapeString(g.title), size, htmlInline(g.title))
			}
			b.WriteString("</div>\n")
		case codeBlock:
			fmt.Fprintf(b, "<pre><code>%s</code></pre>\n", html.EscapeString(x.text))
		}
	}
	if inFigs {
		b.WriteString("</div>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
}

// href is the link to path, a file beside the report: the path itself,
// or what d.inline makes of it.
func (d *doc) href(path string) string {
	if d.inline != nil {
		return d.inline(path)
	}
	return path
}
