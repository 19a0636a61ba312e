// Package weights reads and writes model weights: safetensors files and the
// state dicts of PyTorch checkpoints written by torch.save.
//
// Tensors are kept as raw little-endian bytes together with their element
// type and shape; Float32 and Float64 convert floating-point tensors to Go
// slices.
package weights

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// DType is the element type of a tensor, spelled as in the safetensors
// header.
type DType string

// The supported element types.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"  // IEEE 754 half precision
	BF16 DType = "BF16" // bfloat16
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	Bool DType = "BOOL" // one byte per element, 0 or 1
)

var dtypeSizes = map[DType]int{
	F64: 8, F32: 4, F16: 2, BF16: 2,
	I64: 8, I32: 4, I16: 2, I8: 1,
	U64: 8, U32: 4, U16: 2, U8: 1,
	Bool: 1,
}

// Size returns the size in bytes of one element of type d, or 0 if d is not
// a supported type.
func (d DType) Size() int { return dtypeSizes[d] }

// A Tensor is a named n-dimensional array stored densely in row-major
// order. Data holds the elements as little-endian bytes, Shape[i] elements
// along dimension i; an empty Shape denotes a scalar.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the number of elements implied by t.Shape: the product
// of its dimensions, 1 for a scalar.
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// check returns an error unless t has a supported type and as many bytes
// as its shape requires.
func (t Tensor) check() error {
	size := t.DType.Size()
	if size == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	n, ok := numElements(t.Shape)
	if !ok || n > math.MaxInt/size {
		return fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
	}
	if n*size != len(t.Data) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, have %d", t.Name, t.Shape, t.DType, n*size, len(t.Data))
	}
	return nil
}

// numElements returns the product of shape, and false if a dimension is
// negative or the product overflows an int.
func numElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Float32 returns the elements of t as float32 values. F16, BF16 and F32 are
// converted exactly, F64 is rounded to nearest. Other types are an error.
func (t Tensor) Float32() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	switch t.DType {
	case F32, F64, F16, BF16:
	default:
		return nil, fmt.Errorf("tensor %q: %s is not a floating-point type", t.Name, t.DType)
	}
	size := t.DType.Size()
	v := make([]float32, len(t.Data)/size)
	for i := range v {
		b := t.Data[i*size:]
		switch t.DType {
		case F32:
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b))
		case F64:
			v[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		case F16:
			v[i] = halfToFloat32(binary.LittleEndian.Uint16(b))
		case BF16:
			v[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
		}
	}
	return v, nil
}

// Float64 returns the elements of t as float64 values, converted exactly
// from F64, F32, F16 or BF16. Other types are an error.
func (t Tensor) Float64() ([]float64, error) {
	if t.DType != F64 {
		v, err := t.Float32()
		if err != nil {
			return nil, err
		}
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = float64(x)
		}
		return w, nil
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	v := make([]float64, len(t.Data)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[i*8:]))
	}
	return v, nil
}

// halfToFloat32 converts an IEEE 754 half-precision value to float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	var bits uint32
	switch {
	case exp == 0x1f: // infinity or NaN
		bits = sign | 0xff<<23 | mant<<13
	case exp != 0: // normal
		bits = sign | (exp+127-15)<<23 | mant<<13
	case mant == 0: // zero
		bits = sign
	default: // subnormal: shift the leading 1 into the implicit position
		e := uint32(127 - 14)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		bits = sign | e<<23 | (mant&0x3ff)<<13
	}
	return math.Float32frombits(bits)
}

// NewF32 returns an F32 tensor holding v. It panics if len(v) does not match
// shape.
func NewF32(name string, shape []int, v []float32) Tensor {
	t := newTensor(name, F32, shape, len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(t.Data[i*4:], math.Float32bits(x))
	}
	return t
}

// NewF64 returns an F64 tensor holding v. It panics if len(v) does not match
// shape.
func NewF64(name string, shape []int, v []float64) Tensor {
	t := newTensor(name, F64, shape, len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(t.Data[i*8:], math.Float64bits(x))
	}
	return t
}

func newTensor(name string, dtype DType, shape []int, n int) Tensor {
	if m, ok := numElements(shape); !ok || m != n {
		panic(fmt.Sprintf("weights: %d values for tensor %q of shape %v", n, name, shape))
	}
	return Tensor{
		Name:  name,
		DType: dtype,
		Shape: append([]int{}, shape...),
		Data:  make([]byte, n*dtype.Size()),
	}
}

// A File is an ordered collection of tensors with string metadata, the
// content of a safetensors file or of a checkpoint's state dict.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor
}

// Get returns the tensor called name, and whether there is one.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Read reads a weights file of either kind, judging by its content rather
// than its name: a zip archive is read by ReadTorch, anything else by
// ReadSafetensors.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	magic := make([]byte, len(zipMagic))
	_, err = io.ReadFull(f, magic)
	f.Close()
	if err == nil && string(magic) == zipMagic {
		return ReadTorch(path)
	}
	return ReadSafetensors(path)
}

// zipMagic starts a zip archive (a local file header). A safetensors file
// starts with its header length instead, which would have to be 67 MB for
// the two to be confused.
const zipMagic = "PK\x03\x04"
