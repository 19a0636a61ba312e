package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// safetensors assembles a safetensors file from its header and data.
func safetensors(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// pattern returns n bytes counting up from seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

func TestSafetensorsRoundTrip(t *testing.T) {
	tests := []struct {
		dtype DType
		shape []int
	}{
		{F64, []int{2, 3}},
		{F32, []int{3, 1, 2}},
		{F16, []int{4}},
		{BF16, []int{2, 2}},
		{I64, []int{}}, // scalar
		{I32, []int{5}},
		{I16, []int{1, 3}},
		{I8, []int{7}},
		{U64, []int{2}},
		{U32, []int{0}}, // no elements
		{U16, []int{3}},
		{U8, []int{2, 0, 4}},
		{Bool, []int{3}},
	}
	for i, tt := range tests {
		t.Run(string(tt.dtype), func(t *testing.T) {
			x := Tensor{Name: "t." + string(tt.dtype), DType: tt.dtype, Shape: tt.shape}
			x.Data = pattern(x.NumElements()*tt.dtype.Size(), byte(i))
			if tt.dtype == Bool {
				x.Data = []byte{1, 0, 1}
			}
			f := &File{
				Metadata: map[string]string{"dtype": string(tt.dtype)},
				Tensors:  []Tensor{x, NewF32("after", []int{2}, []float32{1, 2})},
			}
			checkRoundTrip(t, f)

			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := WriteSafetensors(path, f); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSafetensors(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, f) {
				t.Errorf("read back %+v, want %+v", got, f)
			}
		})
	}
}

// TestSafetensorsLayout checks the exact bytes written.
func TestSafetensorsLayout(t *testing.T) {
	f := &File{
		Metadata: map[string]string{"z": "last", "a": "<first>"},
		Tensors: []Tensor{
			NewF32("x", []int{2}, []float32{1, 2}),
			{Name: "s", DType: I64, Shape: nil, Data: pattern(8, 1)},
		},
	}
	header := `{"__metadata__":{"a":"\u003cfirst\u003e","z":"last"},` +
		`"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"s":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}`
	header += strings.Repeat(" ", 7-(len(header)+7)%8)
	want := safetensors(header, append(slices.Clone(f.Tensors[0].Data), f.Tensors[1].Data...))
	got, err := EncodeSafetensors(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeSafetensors =\n%q\nwant\n%q", got, want)
	}
	if (len(got)-16)%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", len(got)-16-8)
	}

	empty, err := EncodeSafetensors(&File{})
	if err != nil {
		t.Fatal(err)
	}
	if want := safetensors("{}      ", nil); !bytes.Equal(empty, want) {
		t.Errorf("EncodeSafetensors(empty) = %q, want %q", empty, want)
	}
}

// TestSafetensorsOrder checks that tensors keep their order, whatever
// their names and offsets.
func TestSafetensorsOrder(t *testing.T) {
	names := []string{"z", "b.weight", "a", "b.bias", "_", "10", "9"}
	f := &File{Metadata: map[string]string{}}
	for i, name := range names {
		f.Tensors = append(f.Tensors, NewF32(name, []int{1}, []float32{float32(i)}))
	}
	checkRoundTrip(t, f)

	// Header order, not data order, decides.
	got, err := DecodeSafetensors(safetensors(
		`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`,
		[]byte{'a', 'b'}))
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{{Name: "b", DType: U8, Shape: []int{1}, Data: []byte{'b'}}, {Name: "a", DType: U8, Shape: []int{1}, Data: []byte{'a'}}}
	if !reflect.DeepEqual(got.Tensors, want) {
		t.Errorf("decoded %+v, want %+v", got.Tensors, want)
	}
}

// TestDecodeSafetensorsLenient checks files that are valid although
// EncodeSafetensors would lay them out differently.
func TestDecodeSafetensorsLenient(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want *File
	}{
		{"no tensors, unpadded", safetensors("{}", nil), &File{Metadata: map[string]string{}}},
		{"null metadata", safetensors(`{"__metadata__":null}`, nil), &File{Metadata: map[string]string{}}},
		{
			"metadata last, whitespace",
			safetensors("{\n \"x\": {\"shape\": [], \"dtype\": \"U8\", \"data_offsets\": [0, 1]},\n \"__metadata__\": {\"k\": \"v\"}\n}\n", []byte{9}),
			&File{Metadata: map[string]string{"k": "v"}, Tensors: []Tensor{{Name: "x", DType: U8, Shape: []int{}, Data: []byte{9}}}},
		},
		{
			"empty tensors sharing an offset",
			safetensors(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F64","shape":[2,0],"data_offsets":[0,0]}}`, []byte{9}),
			&File{Metadata: map[string]string{}, Tensors: []Tensor{
				{Name: "e", DType: F32, Shape: []int{0}, Data: []byte{}},
				{Name: "x", DType: U8, Shape: []int{1}, Data: []byte{9}},
				{Name: "f", DType: F64, Shape: []int{2, 0}, Data: []byte{}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSafetensors(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeSafetensorsMalformed(t *testing.T) {
	const x8 = `"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	tests := []struct {
		name    string
		file    []byte
		wantErr string
	}{
		{"empty file", nil, "truncated: 0 bytes"},
		{"short length", []byte{1, 0, 0}, "truncated: 3 bytes"},
		{"header past end", safetensors(`{}`, nil)[:9], "header length 2 exceeds the 1 bytes"},
		{"data truncated", safetensors(`{`+x8+`}`, make([]byte, 6)), `tensor "x": data_offsets [0, 8] out of range of the 6 data bytes`},
		{"empty header", safetensors("", nil), "header is not a JSON object"},
		{"header not an object", safetensors(`[1]`, nil), "header is not a JSON object"},
		{"bad JSON", safetensors(`{"x":{"dtype":"F32",}}`, nil), `header: tensor "x": invalid character`},
		{"unterminated JSON", safetensors(`{`+x8, make([]byte, 8)), "header: EOF"},
		{"non-string key", safetensors(`{3:{}}`, nil), "header: invalid character '3'"},
		{"trailing header data", safetensors(`{}{}`, nil), "trailing data after the JSON object"},
		{"entry not an object", safetensors(`{"x":3}`, nil), `header: tensor "x": json: cannot unmarshal number`},
		{"unknown field", safetensors(`{"x":{"dtype":"U8","shape":[],"data_offsets":[0,1],"extra":1}}`, []byte{0}), `unknown field "extra"`},
		{"missing shape", safetensors(`{"x":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{0}), `tensor "x": missing shape or data_offsets`},
		{"missing offsets", safetensors(`{"x":{"dtype":"U8","shape":[1]}}`, []byte{0}), `tensor "x": missing shape or data_offsets`},
		{"missing dtype", safetensors(`{"x":{"shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "x": unknown dtype ""`},
		{"unknown dtype", safetensors(`{"x":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "x": unknown dtype "F8_E5M2"`},
		{"three offsets", safetensors(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}`, []byte{0}), `tensor "x": data_offsets [0 1 1] is not [begin, end]`},
		{"fractional dimension", safetensors(`{"x":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, []byte{0}), `tensor "x": json: cannot unmarshal number 1.5`},
		{"negative dimension", safetensors(`{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), `tensor "x": invalid shape [-1]`},
		{"overflowing shape", safetensors(`{"x":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), `tensor "x": invalid shape`},
		{"negative offset", safetensors(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, []byte{0}), "out of range"},
		{"begin after end", safetensors(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, []byte{0}), "data_offsets [1, 0] out of range"},
		{"shape and size differ", safetensors(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "x": shape [3] of F32 needs 12 bytes, have 8`},
		{"overlap", safetensors(`{`+x8+`,"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `tensor "y": data_offsets [4, 12] overlap tensor "x"`},
		{"same offsets", safetensors(`{`+x8+`,"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), `overlap tensor "x"`},
		{"gap", safetensors(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"y":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}`, make([]byte, 4)), `tensor "y": 2 unused data bytes before it`},
		{"trailing data", safetensors(`{`+x8+`}`, make([]byte, 11)), "3 unused data bytes after the last tensor"},
		{"duplicate tensor", safetensors(`{`+x8+`,`+x8+`}`, make([]byte, 8)), `duplicate entry "x"`},
		{"duplicate metadata", safetensors(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate entry "__metadata__"`},
		{"metadata not strings", safetensors(`{"__metadata__":{"epoch":3}}`, nil), "header: __metadata__: json: cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeSafetensors(tt.file)
			if err == nil {
				t.Fatalf("decoded %+v, want error %q", f, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadSafetensorsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, safetensors(`{"x":{}}`, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadSafetensors(bad)
	if want := "reading " + bad + ": safetensors: header: tensor \"x\": missing shape"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ReadSafetensors(%s) error = %v, want %q...", bad, err, want)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := ReadSafetensors(missing); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "reading "+missing) {
		t.Errorf("ReadSafetensors(%s) error = %v, want a not-exist error naming the file", missing, err)
	}
}

func TestEncodeSafetensorsInvalid(t *testing.T) {
	x := NewF32("x", []int{1}, []float32{1})
	tests := []struct {
		name    string
		tensors []Tensor
		wantErr string
	}{
		{"duplicate name", []Tensor{x, x}, `tensor name "x" used twice or reserved`},
		{"reserved name", []Tensor{NewF32("__metadata__", nil, []float32{1})}, `tensor name "__metadata__" used twice or reserved`},
		{"short data", []Tensor{{Name: "y", DType: F64, Shape: []int{2}, Data: make([]byte, 8)}}, `tensor "y": shape [2] of F64 needs 16 bytes, have 8`},
		{"unknown dtype", []Tensor{{Name: "y", DType: "f32", Shape: []int{1}, Data: make([]byte, 4)}}, `tensor "y": unknown dtype "f32"`},
		{"negative dimension", []Tensor{{Name: "y", DType: U8, Shape: []int{-2}}}, `tensor "y": invalid shape [-2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &File{Tensors: tt.tensors}
			if _, err := EncodeSafetensors(f); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("EncodeSafetensors error = %v, want %q", err, tt.wantErr)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "w.safetensors")
			err := WriteSafetensors(path, f)
			if err == nil || !strings.HasPrefix(err.Error(), "writing "+path+": ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("WriteSafetensors error = %v, want %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("WriteSafetensors left %v behind", entries)
			}
		})
	}
}

// TestWriteSafetensorsReplaces checks that an existing file is replaced
// whole and that no temporary file stays behind.
func TestWriteSafetensorsReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := os.WriteFile(path, bytes.Repeat([]byte("old"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &File{Metadata: map[string]string{}, Tensors: []Tensor{NewF64("y", []int{1}, []float64{3})}}
	if err := WriteSafetensors(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("read back %+v, want %+v", got, f)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only w.safetensors", entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("Stat(%s) = %v, %v, want mode 0644", path, fi.Mode(), err)
	}

	if err := WriteSafetensors(filepath.Join(dir, "no", "such", "dir.safetensors"), f); err == nil {
		t.Error("WriteSafetensors into a missing directory succeeded")
	}
}

// TestGoldenSafetensors reads a file written by the reference Python code.
func TestGoldenSafetensors(t *testing.T) {
	f, err := ReadSafetensors("testdata/crate_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Metadata["format"]; got != "crate-mae-parity/1" {
		t.Errorf("metadata format = %q", got)
	}
	for _, tt := range []struct {
		name  string
		dtype DType
		shape []int
	}{
		{"cls_token", F32, []int{1, 1, 32}},
		{"patch_embed.proj.weight", F32, []int{32, 3, 4, 4}},
		{"input.images", F32, []int{2, 3, 16, 16}},
		{"expected.loss", F64, []int{1}},
	} {
		x, ok := f.Get(tt.name)
		if !ok || x.DType != tt.dtype || !slices.Equal(x.Shape, tt.shape) {
			t.Errorf("tensor %s: %v %v (found %v), want %v %v", tt.name, x.DType, x.Shape, ok, tt.dtype, tt.shape)
		}
	}
	// It survives an encode and decode.
	b, err := EncodeSafetensors(f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, f) {
		t.Error("crate_tiny.safetensors changed on a write and read")
	}
}

// FuzzDecodeSafetensors checks that decoding never panics and that whatever
// decodes survives an encode and decode.
func FuzzDecodeSafetensors(f *testing.F) {
	f.Add(safetensors(`{"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(safetensors(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"b":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}`, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		enc, err := EncodeSafetensors(file)
		if err != nil {
			t.Fatalf("decoded %+v, which does not encode: %v", file, err)
		}
		again, err := DecodeSafetensors(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, file) {
			t.Errorf("decoded %+v, then %+v", file, again)
		}
	})
}

// checkRoundTrip encodes f and checks that decoding gives f back.
func checkRoundTrip(t *testing.T, f *File) {
	t.Helper()
	b, err := EncodeSafetensors(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("decoded %+v, want %+v", got, f)
	}
}
