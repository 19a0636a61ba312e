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
  out.textContent = "images=" + document.images.length + " broken=" + broken.length + " " + broken.join(" ");
  document.body.appendChild(out);
});
</script>
`

var checkResult = regexp.MustCompile(`id="img-check">images=(\d+) broken=(\d+) ?([^<]*)<`)

// chromium finds Debian's chromium (apt-get install chromium).
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// report.html opens in headless Chromium with every image loaded: a copy
// with a script that counts broken images is loaded from disk, and the
// count read back from the dumped DOM.
func TestReportHTMLInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium)")
	}
	res, _ := generate(t, realistic())
	page := read(t, res.HTML)
	if !strings.Contains(page, "</body>") {
		t.Fatal("report.html has no </body>")
	}
	check := filepath.Join(res.Dir, "browser_check.html")
	if err := os.WriteFile(check, []byte(strings.Replace(page, "</body>", checkScript+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(check)
	abs, err := filepath.Abs(check)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
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
	images, _ := strconv.Atoi(m[1])
	broken, _ := strconv.Atoi(m[2])
	if want := len(res.Figures) + len(res.Images); images != want {
		t.Errorf("the page has %d images, want %d figures and grids", images, want)
	}
	if broken != 0 {
		t.Errorf("%d images did not load: %s", broken, m[3])
	}
	if !strings.Contains(string(dom), "Missing runs") {
		t.Error("the page lost its content")
	}
}
