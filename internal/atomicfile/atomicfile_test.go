package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "first"); return err }); err != nil {
		t.Fatal(err)
	}
	// a failing write leaves the old file and no temporary file behind
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "first" {
		t.Errorf("file holds %q, %v; want the first write", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	if err := Write(filepath.Join(dir, "missing", "f"), func(io.Writer) error { return nil }); err == nil {
		t.Error("wrote into a missing directory")
	}
}

func TestWriteKeepingPrevious(t *testing.T) {
	dir := t.TempDir()
	path, prev := filepath.Join(dir, "f"), filepath.Join(dir, "f.prev")
	for _, content := range []string{"one", "two", "three"} {
		if err := WriteKeepingPrevious(path, prev, writeString(content)); err != nil {
			t.Fatal(err)
		}
	}
	for file, want := range map[string]string{path: "three", prev: "two"} {
		if b, err := os.ReadFile(file); err != nil || string(b) != want {
			t.Errorf("%s holds %q, %v; want %q", filepath.Base(file), b, err, want)
		}
	}
	// a failed write rotates nothing
	boom := errors.New("boom")
	if err := WriteKeepingPrevious(path, prev, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(prev); string(b) != "two" {
		t.Errorf("after a failed write the previous file holds %q, want two", b)
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}
