package data

import (
	"fmt"
	"slices"
)

// Images is a set of labelled images held in memory. Image i occupies
// Pix[i*C*H*W : (i+1)*C*H*W], laid out [C][H][W] with rows top to bottom;
// its label is Labels[i], in [0, Dataset.Classes).
type Images struct {
	C, H, W int
	Pix     []uint8
	Labels  []int
}

// Len returns the number of images.
func (m *Images) Len() int { return len(m.Labels) }

// At returns the pixels of image i, laid out [C][H][W].
func (m *Images) At(i int) []uint8 {
	n := m.C * m.H * m.W
	return m.Pix[i*n : (i+1)*n]
}

// subset returns the images at the given positions, in that order, in
// storage of their own.
func (m *Images) subset(idx []int) *Images {
	s := &Images{C: m.C, H: m.H, W: m.W, Pix: make([]uint8, 0, len(idx)*m.C*m.H*m.W), Labels: make([]int, len(idx))}
	for k, i := range idx {
		s.Pix = append(s.Pix, m.At(i)...)
		s.Labels[k] = m.Labels[i]
	}
	return s
}

// sample returns n of the images chosen at random by r, kept in their
// order; n == 0 keeps them all. name and key describe the split in errors.
func (m *Images) sample(n int, r *rng, name, key string) (*Images, error) {
	if n == 0 || n == m.Len() {
		return m, nil
	}
	if n > m.Len() {
		return nil, fmt.Errorf("data.%s: %d exceeds the %d images of the %s", key, n, m.Len(), name)
	}
	idx := r.perm(m.Len())[:n]
	slices.Sort(idx)
	return m.subset(idx), nil
}

// maxLabel returns the largest label, or -1 when there are no images.
func (m *Images) maxLabel() int {
	top := -1
	for _, l := range m.Labels {
		top = max(top, l)
	}
	return top
}

// firstChannel returns the images reduced to their first channel.
func (m *Images) firstChannel() *Images {
	hw := m.H * m.W
	g := &Images{C: 1, H: m.H, W: m.W, Pix: make([]uint8, m.Len()*hw), Labels: m.Labels}
	for i := range m.Len() {
		copy(g.Pix[i*hw:(i+1)*hw], m.At(i))
	}
	return g
}
