package data

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// openSynthetic opens a synthetic dataset of n train images for a model
// taking 3 x 8 x 8 inputs.
func openSynthetic(t *testing.T, n int) *Dataset {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dataset, cfg.TrainSize, cfg.TestSize, cfg.SyntheticSize = "synthetic", n, 10, 6
	d, err := Open(cfg, Input{Chans: 3, Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// draw returns copies of the next n batches of l.
func draw(l *Loader, n int) []Batch {
	var bs []Batch
	for range n {
		b := l.Next()
		bs = append(bs, Batch{Step: b.Step, Indices: slices.Clone(b.Indices), Labels: slices.Clone(b.Labels), X: slices.Clone(b.X)})
	}
	return bs
}

func sameBatch(a, b Batch) bool {
	return a.Step == b.Step && slices.Equal(a.Indices, b.Indices) && slices.Equal(a.Labels, b.Labels) && slices.Equal(a.X, b.X)
}

func newLoader(t *testing.T, s *Split, size int, seed uint64, step int) *Loader {
	t.Helper()
	l, err := NewLoader(s, size, seed, step)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestLoaderResume(t *testing.T) {
	d := openSynthetic(t, 50)
	tests := []struct {
		name       string
		size, step int
	}{
		{"first step", 8, 0},
		{"within the first epoch", 8, 4},
		{"last step of an epoch", 8, 5},
		{"later epoch", 8, 13},
		{"whole split per batch", 50, 3},
		{"single images", 1, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := draw(newLoader(t, d.Train, tt.size, 9, 0), tt.step+2)
			resumed := draw(newLoader(t, d.Train, tt.size, 9, tt.step), 2)
			for i, b := range resumed {
				if b.Step != tt.step+i {
					t.Fatalf("resumed batch %d is of step %d, want %d", i, b.Step, tt.step+i)
				}
				if !sameBatch(b, whole[tt.step+i]) {
					t.Fatalf("step %d: resumed batch %v differs from %v", b.Step, b.Indices, whole[tt.step+i].Indices)
				}
			}
		})
	}
}

func TestLoaderEpochs(t *testing.T) {
	d := openSynthetic(t, 50)
	l := newLoader(t, d.Train, 8, 3, 0)
	per := l.StepsPerEpoch()
	if per != 6 {
		t.Fatalf("%d steps per epoch, want 6", per)
	}
	img := make([]float32, d.Transform.In.Len())
	var epochs [][]int
	for e := range 3 {
		var seen []int
		for _, b := range draw(l, per) {
			if len(b.Indices) != 8 || len(b.Labels) != 8 || len(b.X) != 8*len(img) {
				t.Fatalf("batch of %d indices, %d labels, %d values", len(b.Indices), len(b.Labels), len(b.X))
			}
			for k, i := range b.Indices {
				d.Train.Image(img, i)
				if b.Labels[k] != d.Train.Label(i) || !slices.Equal(b.X[k*len(img):(k+1)*len(img)], img) {
					t.Fatalf("epoch %d: image %d of the batch is not image %d of the split", e, k, i)
				}
			}
			seen = append(seen, b.Indices...)
		}
		if distinct := slices.Compact(slices.Sorted(slices.Values(seen))); len(distinct) != 48 {
			t.Fatalf("epoch %d repeats images: %v", e, seen)
		}
		epochs = append(epochs, seen)
	}
	if slices.Equal(epochs[0], epochs[1]) || slices.Equal(epochs[1], epochs[2]) {
		t.Errorf("epochs in the same order")
	}
	other := draw(newLoader(t, d.Train, 8, 4, 0), 1)[0]
	if slices.Equal(other.Indices, epochs[0][:8]) {
		t.Errorf("seeds 3 and 4 give the same first batch")
	}
}

func TestLoaderClose(t *testing.T) {
	d := openSynthetic(t, 20)
	before := runtime.NumGoroutine()
	for _, drawn := range []int{0, 1, 5} {
		l, err := NewLoader(d.Train, 4, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		draw(l, drawn)
		l.Close()
		l.Close()
		if b := l.Next(); b != nil {
			t.Fatalf("Next after Close = %v, want nil", b)
		}
	}
	// Close waits for the loader's goroutine, but the goroutines that
	// fill a batch in parallel may take a moment to be reaped.
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after closing, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewLoaderErrors(t *testing.T) {
	d := openSynthetic(t, 20)
	tests := []struct {
		size, step int
		want       string
	}{
		{0, 0, "batch size must be >= 1, got 0"},
		{21, 0, "batch size 21 exceeds the 20 images of the split"},
		{4, -1, "step must be >= 0, got -1"},
	}
	for _, tt := range tests {
		if _, err := NewLoader(d.Train, tt.size, 0, tt.step); err == nil || err.Error() != tt.want {
			t.Errorf("NewLoader(%d, %d) = %v, want %q", tt.size, tt.step, err, tt.want)
		}
	}
}

func TestBatches(t *testing.T) {
	d := openSynthetic(t, 10)
	img := make([]float32, d.Transform.In.Len())
	for _, size := range []int{1, 3, 10, 64} {
		var next int
		for b := range d.Train.Batches(size) {
			if b.Step != next/size {
				t.Fatalf("size %d: batch at %d numbered %d", size, next, b.Step)
			}
			if want := min(size, 10-next); len(b.Indices) != want || len(b.X) != want*len(img) {
				t.Fatalf("size %d: batch at %d holds %d images, want %d", size, next, len(b.Indices), want)
			}
			for k, i := range b.Indices {
				d.Train.Image(img, i)
				if i != next || b.Labels[k] != d.Train.Label(i) || !slices.Equal(b.X[k*len(img):(k+1)*len(img)], img) {
					t.Fatalf("size %d: image %d of the batch at %d is not image %d", size, k, next, next)
				}
				next++
			}
		}
		if next != 10 {
			t.Errorf("size %d: walked %d images, want 10", size, next)
		}
	}
	var n int
	for range d.Train.Batches(3) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("walk went on after break")
	}
}

func TestBatchesPanics(t *testing.T) {
	d := openSynthetic(t, 10)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "batch size") {
			t.Errorf("Batches(0) did not panic about the batch size: %v", r)
		}
	}()
	d.Train.Batches(0)
}
