package data

import (
	"iter"

	"harness/internal/parallel"
)

// Split is the train or the test part of a dataset, read through the
// dataset's transform.
type Split struct {
	images *Images
	t      *Transform
}

// Len returns the number of images.
func (s *Split) Len() int { return s.images.Len() }

// Label returns the class of image i.
func (s *Split) Label(i int) int { return s.images.Labels[i] }

// Images returns the stored images, before the transform.
func (s *Split) Images() *Images { return s.images }

// Image writes image i, transformed to the model input, to the first
// In.Len() values of dst, laid out [Chans][Size][Size], where In is the
// input of the split's transform.
func (s *Split) Image(dst []float32, i int) { s.t.Apply(dst, s.images.At(i)) }

// Batch is a batch of model inputs.
type Batch struct {
	// Step is the training step of a [Loader] batch, or the position of a
	// [Split.Batches] batch in its walk.
	Step int
	// Indices are the positions in the split of the images.
	Indices []int
	// Labels are their classes.
	Labels []int
	// X holds the images transformed, laid out [len(Indices)][Chans][Size][Size].
	X []float32
}

// newBatch returns a batch with room for n images of the split.
func (s *Split) newBatch(n int) *Batch {
	return &Batch{Indices: make([]int, 0, n), Labels: make([]int, 0, n), X: make([]float32, 0, n*s.t.In.Len())}
}

// fill makes b the batch of the images at idx, transforming them in
// parallel.
func (s *Split) fill(b *Batch, step int, idx []int) {
	b.Step = step
	b.Indices = append(b.Indices[:0], idx...)
	b.Labels = b.Labels[:0]
	for _, i := range idx {
		b.Labels = append(b.Labels, s.Label(i))
	}
	n := s.t.In.Len()
	b.X = b.X[:len(idx)*n]
	parallel.For(len(idx), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			s.Image(b.X[k*n:(k+1)*n], idx[k])
		}
	})
}

// Batches walks the split in order in batches of size images, the last
// one shorter if size does not divide Len. The yielded batch is reused:
// it is valid until the walk resumes.
func (s *Split) Batches(size int) iter.Seq[*Batch] {
	if size < 1 {
		panic("data: batch size must be positive")
	}
	return func(yield func(*Batch) bool) {
		n := min(size, s.Len())
		b := s.newBatch(n)
		idx := make([]int, 0, n)
		for lo := 0; lo < s.Len(); lo += size {
			idx = idx[:0]
			for i := lo; i < min(lo+size, s.Len()); i++ {
				idx = append(idx, i)
			}
			s.fill(b, lo/size, idx)
			if !yield(b) {
				return
			}
		}
	}
}
