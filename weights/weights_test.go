package weights

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},              // largest normal
		{0x0400, 1.0 / (1 << 14)},    // smallest normal
		{0x0001, 1.0 / (1 << 24)},    // smallest subnormal
		{0x03ff, 1023.0 / (1 << 24)}, // largest subnormal
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := halfToFloat32(tt.h); got != tt.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tt.h, got, tt.want)
		}
	}
	if got := math.Float32bits(halfToFloat32(0x8000)); got != 0x80000000 {
		t.Errorf("halfToFloat32(0x8000) has bits %#x, want negative zero", got)
	}
	// Every value, against the definition. (gopickle's pytorch.FloatBits16to32
	// gets subnormals wrong: it maps 0x0001 to 0x38802000.)
	for h := range 1 << 16 {
		sign, exp, mant := h>>15, h>>10&0x1f, h&0x3ff
		var want float64
		switch exp {
		case 0:
			want = math.Ldexp(float64(mant), -24)
		case 0x1f:
			want = math.Inf(1)
		default:
			want = math.Ldexp(float64(0x400|mant), exp-25)
		}
		if sign == 1 {
			want = -want
		}
		got := halfToFloat32(uint16(h))
		if exp == 0x1f && mant != 0 { // NaN: keep the payload
			if bits := math.Float32bits(got); bits != uint32(sign)<<31|0x7f800000|uint32(mant)<<13 {
				t.Fatalf("halfToFloat32(%#04x) has bits %#08x", h, bits)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign == 1) {
			t.Fatalf("halfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestFloatConversion(t *testing.T) {
	tests := []struct {
		name    string
		tensor  Tensor
		want    []float64
		wantErr string
	}{
		{"F32", NewF32("x", []int{3}, []float32{1.5, -2, 0.1}), []float64{1.5, -2, float64(float32(0.1))}, ""},
		{"F64", NewF64("x", []int{2}, []float64{0.25, -1}), []float64{0.25, -1}, ""},
		{"F16", Tensor{Name: "x", DType: F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}, []float64{1, -2}, ""},
		{"BF16", Tensor{Name: "x", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x40, 0xc0}}, []float64{1, -3}, ""},
		{"scalar", NewF32("x", []int{}, []float32{7}), []float64{7}, ""},
		{"empty", NewF32("x", []int{0, 3}, nil), []float64{}, ""},
		{"I64", Tensor{Name: "x", DType: I64, Shape: []int{1}, Data: make([]byte, 8)}, nil, "I64 is not a floating-point type"},
		{"empty I32", Tensor{Name: "x", DType: I32, Shape: []int{0}}, nil, "I32 is not a floating-point type"},
		{"short data", Tensor{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}, nil, "needs 8 bytes, have 7"},
		{"unknown dtype", Tensor{Name: "x", DType: "F8_E4M3", Shape: []int{1}, Data: make([]byte, 1)}, nil, `unknown dtype "F8_E4M3"`},
		{"negative shape", Tensor{Name: "x", DType: F32, Shape: []int{-1}}, nil, "invalid shape [-1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got64, err := tt.tensor.Float64()
			got32, err32 := tt.tensor.Float32()
			if tt.wantErr != "" {
				if err == nil || err32 == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Float64() error = %v, Float32() error = %v, want %q", err, err32, tt.wantErr)
				}
				return
			}
			if err != nil || err32 != nil {
				t.Fatalf("Float64() error = %v, Float32() error = %v", err, err32)
			}
			if !reflect.DeepEqual(got64, tt.want) {
				t.Errorf("Float64() = %v, want %v", got64, tt.want)
			}
			for i, w := range tt.want {
				if got32[i] != float32(w) {
					t.Errorf("Float32()[%d] = %v, want %v", i, got32[i], float32(w))
				}
			}
		})
	}
}

func TestFloat32RoundsF64(t *testing.T) {
	v, err := NewF64("x", []int{1}, []float64{0.1}).Float32()
	if err != nil || v[0] != float32(0.1) {
		t.Errorf("Float32() = %v, %v, want [%v]", v, err, float32(0.1))
	}
}

func TestNewF32(t *testing.T) {
	shape := []int{2, 1}
	x := NewF32("w", shape, []float32{1, -1})
	shape[0] = 5 // NewF32 must have copied the shape
	want := Tensor{Name: "w", DType: F32, Shape: []int{2, 1}, Data: []byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf}}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("NewF32 = %+v, want %+v", x, want)
	}
	if n := x.NumElements(); n != 2 {
		t.Errorf("NumElements() = %d, want 2", n)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewF32 with 3 values for shape [2] did not panic")
		}
	}()
	NewF32("w", []int{2}, []float32{1, 2, 3})
}

func TestGet(t *testing.T) {
	f := &File{Tensors: []Tensor{NewF32("a", nil, []float32{1}), NewF32("b", nil, []float32{2})}}
	if x, ok := f.Get("b"); !ok || x.Name != "b" {
		t.Errorf(`Get("b") = %v, %v`, x, ok)
	}
	if _, ok := f.Get("c"); ok {
		t.Error(`Get("c") found a tensor`)
	}
}

// TestRead checks that Read goes by content, not by file name.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	misnamed := map[string]string{
		"testdata/crate_tiny.pth":         filepath.Join(dir, "pth.safetensors"),
		"testdata/crate_tiny.safetensors": filepath.Join(dir, "safetensors.pth"),
	}
	for src, dst := range misnamed {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path string
		read func(string) (*File, error)
	}{
		{"testdata/crate_tiny.pth", ReadTorch},
		{misnamed["testdata/crate_tiny.pth"], ReadTorch},
		{"testdata/crate_tiny.safetensors", ReadSafetensors},
		{misnamed["testdata/crate_tiny.safetensors"], ReadSafetensors},
	} {
		got, err := Read(tt.path)
		if err != nil {
			t.Errorf("Read(%s): %v", tt.path, err)
			continue
		}
		want, err := tt.read(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Read(%s) differs from the reader for its content", tt.path)
		}
	}

	missing := filepath.Join(dir, "missing.pth")
	if _, err := Read(missing); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Read(%s) error = %v, want a not-exist error naming the file", missing, err)
	}
}
