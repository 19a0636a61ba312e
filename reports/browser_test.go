package reports

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"harness/store"
)

// checkScript writes into the page, once everything has loaded, how many
// images it has and which of them did not load.
const checkScript = `<script>
window.addEventListener("load", function () {
  var broken = [];
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!img.complete || img.naturalWidth === 0) broken.push(img.getAttribute("src"));
  }
  var out = document.createElement("pre");
  out.id = "img-check";
  out.textContent = "width=" + document.documentElement.scrollWidth + " viewport=" + window.innerWidth +
    " images=" + document.images.length + " broken=" + broken.length + " " + broken.join(" ");
  document.body.appendChild(out);
});
</script>
`

var checkResult = regexp.MustCompile(`id="img-check">width=(\d+) viewport=(\d+) images=(\d+) broken=(\d+) ?([^<]*)<`)

// chromium finds Debian's chromium (apt-get install chromium).
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// wide is an experiment whose tables are as wide as reports get: two
// axes, long variant names, and a failed run with a long error.
func wide() fixture {
	fx := realistic()
	fx.name = "wide"
	fx.variants[0].name = "CRATE-MAE-with-a-long-variant-name"
	fx.variants[1].name = "MAE-with-a-long-variant-name"
	fx.axes = append(fx.axes, fixtureAxis{"train.blr", []any{1.5e-4, 1e-3}})
	fx.extra = []extraRun{{variant: 1, values: []any{0.75, 1e-3}, seed: 2, status: store.StatusFailed, steps: 50,
		err: "worker exited: " + strings.Repeat("a very long line of the traceback of a crash ", 20),
		log: "step 40 loss 0.3\npanic: runtime error: index out of range [7] with length 7\n"}}
	return fx
}

// report.html opens in headless Chromium at 1,400 pixels without a
// horizontal scrollbar and with every image loaded: a copy with a script
// that measures the page and counts broken images is loaded from disk, and
// the result read back from the dumped DOM. A self-contained page loads its
// images alone in another directory.
func TestReportHTMLInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium)")
	}
	tests := []struct {
		name   string
		fx     fixture
		single bool
	}{
		{"realistic", realistic(), false},
		{"wide", wide(), false},
		{"single file", wide(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res Result
			if tt.single {
				res, _ = generateWith(t, tt.fx, Options{SingleFile: true})
			} else {
				res, _ = generate(t, tt.fx)
			}
			page := read(t, res.HTML)
			if !strings.Contains(page, "</body>") {
				t.Fatal("report.html has no </body>")
			}
			dir := res.Dir
			if tt.single {
				dir = t.TempDir() // alone, nothing beside it
			}
			check := filepath.Join(dir, "browser_check.html")
			if err := os.WriteFile(check, []byte(strings.Replace(page, "</body>", checkScript+"</body>", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(check)
			dom, m := openInChromium(t, bin, check)
			width, _ := strconv.Atoi(m[1])
			viewport, _ := strconv.Atoi(m[2])
			images, _ := strconv.Atoi(m[3])
			broken, _ := strconv.Atoi(m[4])
			if viewport != 1400 {
				t.Errorf("viewport %d pixels wide, want 1400", viewport)
			}
			if width > 1400 {
				t.Errorf("the page is %d pixels wide at 1,400: it scrolls sideways", width)
			}
			if want := len(res.Figures) + len(res.Images); images != want {
				t.Errorf("the page has %d images, want %d figures and grids", images, want)
			}
			if broken != 0 {
				t.Errorf("%d images did not load: %.300s", broken, m[5])
			}
			if !strings.Contains(dom, "Missing runs") {
				t.Error("the page lost its content")
			}
		})
	}
}

// openInChromium loads the page at path in headless Chromium, 1,400 by
// 2,000 pixels, and returns its DOM and the check script's result.
func openInChromium(t *testing.T, bin, path string) (string, []string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--window-size=1400,2000",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", "file://"+filepath.ToSlash(abs))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := checkResult.FindStringSubmatch(string(dom))
	if m == nil {
		t.Fatalf("the check script wrote nothing; DOM:\n%.2000s\nstderr:\n%s", dom, stderr.String())
	}
	return string(dom), m
}
