package parity

import (
	"path/filepath"
	"testing"
)

func TestGoldenCases(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.safetensors")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no parity cases in testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Check(filepath.Base(path), c)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			if !r.OK {
				t.Error(r)
			}
		})
	}
}
