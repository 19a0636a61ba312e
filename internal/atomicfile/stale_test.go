package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTempName(t *testing.T) {
	for _, c := range []struct {
		name string
		want tempName
		ok   bool
	}{
		{".checkpoint.safetensors.tmp-4242-0a1b2c3d-123456", tempName{pid: 4242, host: "0a1b2c3d"}, true},
		{".f.tmp-1-ffffffff-9", tempName{pid: 1, host: "ffffffff"}, true},
		{".checkpoint.safetensors.tmp123456", tempName{}, true}, // an older version's
		{"checkpoint.safetensors.tmp-4242-0a1b2c3d-123456", tempName{}, false},
		{".f.tmp-4242-0a1b2c3d", tempName{}, false},
		{".f.tmp-4242-0A1B2C3D-1", tempName{}, false},
		{".f.tmp-0-0a1b2c3d-1", tempName{}, false},
		{".f.tmp-x-0a1b2c3d-1", tempName{}, false},
		{".f.tmp", tempName{}, false},
		{".tmp123", tempName{}, false},
		{"checkpoint.safetensors", tempName{}, false},
		{".f.tmp-1-0a1b2c3d-1-2", tempName{}, false},
	} {
		got, ok := parseTempName(c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("parseTempName(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	tmp, err := createTemp(filepath.Join(t.TempDir(), "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	if n, ok := parseTempName(filepath.Base(tmp.Name())); !ok || n.pid != os.Getpid() || n.host != hostTag() {
		t.Errorf("createTemp's name %q parses as %+v, %v", filepath.Base(tmp.Name()), n, ok)
	}
}

// The helper process's environment: the file it writes and never finishes.
const helperPathEnv = "ATOMICFILE_HELPER_PATH"

// TestHelperWriter is the body of a writer killed mid-write: it writes a
// line, says so on standard output and blocks until it is killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	Write(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		fmt.Println("writing")
		select {}
	})
}

// A writer killed by SIGKILL leaves its temporary file; RemoveStale removes
// it, and only it: not a live writer's, nor another host's or an older
// version's of less than StaleAge, nor any other file.
func TestRemoveStaleAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), helperPathEnv+"="+filepath.Join(dir, "checkpoint.safetensors"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "writing\n" {
		cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait() // reaped: its pid no longer runs
	dead := fmt.Sprintf(".checkpoint.safetensors.tmp-%d-%s-", cmd.Process.Pid, hostTag())

	live, err := createTemp(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	live.Close()
	old := time.Now().Add(-StaleAge - time.Hour)
	files := map[string]time.Time{ // name: modification time
		".a.tmp-1-00000000-1": time.Now(), // another host's, young
		".b.tmp-1-00000000-1": old,        // another host's, old
		".c.tmp12345":         time.Now(), // an older version's, young
		".d.tmp12345":         old,        // an older version's, old
		"checkpoint.prev":     old,
		"notes.tmp":           old,
	}
	for name, mod := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if len(removed) != 3 || removed[0] != ".b.tmp-1-00000000-1" || !strings.HasPrefix(removed[1], dead) || removed[2] != ".d.tmp12345" {
		t.Errorf("removed %q, want .b's, the killed writer's (%s…) and .d's", removed, dead)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{".a.tmp-1-00000000-1", ".c.tmp12345", filepath.Base(live.Name()), "checkpoint.prev", "notes.tmp"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}
