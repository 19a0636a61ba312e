package reports

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each metric column of the configurations table has one precision, and
// its best mean, by the metric's direction, is marked.
func TestTableColumns(t *testing.T) {
	exp := loadFixture(t, wide())
	tb := configTable(exp)
	metrics := presentMetrics(exp)
	first := len(tb.header) - len(metrics)
	decimals := regexp.MustCompile(`^[+-]?\d+\.(\d+)`)
	for i, k := range metrics {
		col := first + i
		places := map[int]bool{}
		marked := 0
		for r, row := range tb.rows {
			if m := decimals.FindStringSubmatch(row[col]); m != nil {
				places[len(m[1])] = true
			}
			if tb.strong[cell{r, col}] {
				marked++
				for _, c := range exp.configs {
					if c.stats[k].n > 0 && better(k, c.stats[k].mean, exp.configs[r].stats[k].mean) {
						t.Errorf("%s: %s is marked, %s is better", k, exp.configs[r].label, c.label)
					}
				}
			}
		}
		if len(places) != 1 {
			t.Errorf("%s: the column mixes %v decimals", k, places)
		}
		if marked != 1 {
			t.Errorf("%s: %d cells marked best, want 1", k, marked)
		}
	}
	res, _ := generate(t, wide())
	if md := read(t, res.Markdown); !strings.Contains(md, "| **") {
		t.Error("report.md marks no best value")
	}
	if page := read(t, res.HTML); strings.Count(page, "<strong>") < len(metrics) {
		t.Error("report.html marks fewer best values than metrics")
	}
}

// A failed run's error is one short line in the table, with a link to the
// run's log where the error names one, else to the whole message.
func TestFailedRunErrors(t *testing.T) {
	withLog := wide()
	noLog := realistic()
	noLog.name = "nolog"
	long := "out of memory\n  allocating 3 GiB\n  at step 10"
	noLog.extra = []extraRun{{variant: 1, values: []any{0.75}, seed: 2, status: "failed", err: long, steps: 10}}
	tests := []struct {
		name     string
		fx       fixture
		linkText string
		file     string // the linked file holds this
	}{
		{"log", withLog, "full log", withLog.extra[0].log},
		{"message", noLog, "full message", long + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := generate(t, tt.fx)
			md := read(t, res.Markdown)
			m := regexp.MustCompile(`\| failed \| ([^|]*) \(\[` + tt.linkText + `\]\(([^)]+)\)\) \|`).FindStringSubmatch(md)
			if m == nil {
				t.Fatalf("no failed run with a %s link in report.md:\n%s", tt.linkText, md)
			}
			if short := unescapeMD(m[1]); len([]rune(short)) > whyShort || strings.Contains(short, "\n") {
				t.Errorf("the error shown is %d characters: %q", len([]rune(short)), short)
			}
			if got := read(t, filepath.Join(res.Dir, filepath.FromSlash(m[2]))); got != tt.file {
				t.Errorf("%s holds %q, want %q", m[2], got, tt.file)
			}
			if page := read(t, res.HTML); !strings.Contains(page, `<a href="`+m[2]+`">`+tt.linkText+`</a>`) {
				t.Errorf("report.html does not link %s", m[2])
			}
		})
	}
}

// With SingleFile, report.html refers to no file: figures, grids and logs
// are data: URIs.
func TestSingleFile(t *testing.T) {
	res, _ := generateWith(t, wide(), Options{SingleFile: true})
	page := read(t, res.HTML)
	for _, m := range htmlLink.FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") && !strings.HasPrefix(m[1], "data:") {
			t.Errorf("report.html links %s", m[1])
		}
	}
	if n, want := strings.Count(page, `src="data:image/png;base64,`), len(res.Figures)+len(res.Images); n != want {
		t.Errorf("%d inlined images, want %d", n, want)
	}
	if !strings.Contains(page, `href="data:text/plain;charset=utf-8;base64,`) {
		t.Error("the failed run's log is not inlined")
	}
	// the files are still there for report.md
	if _, err := os.Stat(filepath.Join(res.Dir, res.Figures[0]+".png")); err != nil {
		t.Error(err)
	}
}
