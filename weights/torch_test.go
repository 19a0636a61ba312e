package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The fixtures toplevel.pth and nested.pth were written by PyTorch 1.13
// (Debian's python3-torch) with
//
//	import argparse, collections, torch
//	base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
//	sd = collections.OrderedDict()
//	sd["z.weight"] = base.clone()
//	sd["a.transposed"] = base.t()   # stride (1, 6)
//	sd["m.rows"] = base[1:3]        # storage offset 6
//	sd["m.cols"] = base[:, 2:4]     # storage offset 2, stride (6, 1)
//	sd["f64"] = torch.arange(5, dtype=torch.float64) / 4
//	sd["f16"] = torch.arange(4, dtype=torch.float16) * 0.25
//	sd["bf16"] = torch.arange(4, dtype=torch.bfloat16) * -2
//	sd["i64.scalar"] = torch.tensor(7)
//	sd["i32"] = torch.tensor([1, -2, 3], dtype=torch.int32)
//	sd["i16"] = torch.tensor([-4, 5], dtype=torch.int16)
//	sd["i8"] = torch.tensor([-6, 7], dtype=torch.int8)
//	sd["u8"] = torch.tensor([8, 255], dtype=torch.uint8)
//	sd["bool"] = torch.tensor([True, False, True])
//	sd["param"] = torch.nn.Parameter(torch.ones(2, 2))
//	torch.save(sd, "toplevel.pth")
//
//	lin = torch.nn.Linear(3, 2)
//	with torch.no_grad():
//	    lin.weight.copy_(torch.arange(6.).reshape(2, 3))
//	    lin.bias.copy_(torch.tensor([-1., 1.]))
//	opt = torch.optim.AdamW(lin.parameters())
//	lin(torch.ones(1, 3)).sum().backward()
//	opt.step()
//	torch.save({"epoch": 7, "state_dict": lin.state_dict(), "optimizer": opt.state_dict(),
//	            "args": argparse.Namespace(lr=1e-3, model="crate")}, "nested.pth")
//
// crate_tiny.pth and crate_tiny.safetensors are copies of the parity case
// of the same name.

// TestReadTorchGolden checks the checkpoint against the safetensors file
// holding the same weights.
func TestReadTorchGolden(t *testing.T) {
	got, err := ReadTorch("testdata/crate_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadSafetensors("testdata/crate_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var want []Tensor
	for _, x := range st.Tensors {
		if !strings.HasPrefix(x.Name, "input.") && !strings.HasPrefix(x.Name, "expected.") {
			want = append(want, x)
		}
	}
	if len(got.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want))
	}
	for i, x := range got.Tensors {
		w := want[i]
		if x.Name != w.Name || x.DType != F32 || !slices.Equal(x.Shape, w.Shape) || !bytes.Equal(x.Data, w.Data) {
			t.Errorf("tensor %d: %s %s %v, want %s %s %v with the same bytes", i, x.Name, x.DType, x.Shape, w.Name, w.DType, w.Shape)
		}
	}
	if len(got.Metadata) != 0 {
		t.Errorf("metadata %v, want none", got.Metadata)
	}
}

func TestReadTorchFixtures(t *testing.T) {
	base := make([]float64, 24) // [4, 6]
	for i := range base {
		base[i] = float64(i)*0.5 - 3
	}
	var transposed, cols []float64
	for j := range 6 {
		for i := range 4 {
			transposed = append(transposed, base[i*6+j])
		}
	}
	for i := range 4 {
		cols = append(cols, base[i*6+2:i*6+4]...)
	}
	type want struct {
		name   string
		dtype  DType
		shape  []int
		floats []float64 // the values of a floating-point tensor
		data   []byte    // the bytes of any other
	}
	tests := []struct {
		path string
		want []want
	}{
		{"testdata/toplevel.pth", []want{
			{"z.weight", F32, []int{4, 6}, base, nil},
			{"a.transposed", F32, []int{6, 4}, transposed, nil},
			{"m.rows", F32, []int{2, 6}, base[6:18], nil},
			{"m.cols", F32, []int{4, 2}, cols, nil},
			{"f64", F64, []int{5}, []float64{0, 0.25, 0.5, 0.75, 1}, nil},
			{"f16", F16, []int{4}, []float64{0, 0.25, 0.5, 0.75}, nil},
			{"bf16", BF16, []int{4}, []float64{0, -2, -4, -6}, nil},
			{"i64.scalar", I64, []int{}, nil, le(int64(7))},
			{"i32", I32, []int{3}, nil, le([]int32{1, -2, 3})},
			{"i16", I16, []int{2}, nil, le([]int16{-4, 5})},
			{"i8", I8, []int{2}, nil, le([]int8{-6, 7})},
			{"u8", U8, []int{2}, nil, []byte{8, 255}},
			{"bool", Bool, []int{3}, nil, []byte{1, 0, 1}},
			{"param", F32, []int{2, 2}, []float64{1, 1, 1, 1}, nil},
		}},
		// The state dict is under "state_dict", beside an optimizer state
		// and an argparse.Namespace.
		{"testdata/nested.pth", []want{
			{"weight", F32, []int{2, 3}, nil, nil},
			{"bias", F32, []int{2}, nil, nil},
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			f, err := ReadTorch(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			var names, wantNames []string
			for _, x := range f.Tensors {
				names = append(names, x.Name)
			}
			for _, w := range tt.want {
				wantNames = append(wantNames, w.name)
			}
			if !slices.Equal(names, wantNames) {
				t.Fatalf("tensors %q, want %q", names, wantNames)
			}
			for i, w := range tt.want {
				x := f.Tensors[i]
				if x.DType != w.dtype || !slices.Equal(x.Shape, w.shape) {
					t.Errorf("%s: %s %v, want %s %v", w.name, x.DType, x.Shape, w.dtype, w.shape)
					continue
				}
				if w.data != nil && !bytes.Equal(x.Data, w.data) {
					t.Errorf("%s: data %v, want %v", w.name, x.Data, w.data)
				}
				if w.floats != nil {
					if v, err := x.Float64(); err != nil || !slices.Equal(v, w.floats) {
						t.Errorf("%s: values %v, %v, want %v", w.name, v, err, w.floats)
					}
				}
			}
		})
	}
}

// le returns v's little-endian encoding.
func le(v any) []byte {
	b, err := binary.Append(nil, binary.LittleEndian, v)
	if err != nil {
		panic(err)
	}
	return b
}

// A tiny pickle assembler (protocol 2) for checkpoints, malformed ones
// included, that torch.save cannot be made to write.

func pickleInt(n int) string { return "J" + string(le(int32(n))) }

func pickleStr(s string) string { return "X" + string(le(uint32(len(s)))) + s }

func pickleTuple(items ...string) string { return "(" + strings.Join(items, "") + "t" }

func pickleInts(v ...int) string {
	var items []string
	for _, n := range v {
		items = append(items, pickleInt(n))
	}
	return pickleTuple(items...)
}

// pickleDict pickles a dict of the given keys and pickled values.
func pickleDict(kv ...string) string {
	var items []string
	for i := 0; i < len(kv); i += 2 {
		items = append(items, pickleStr(kv[i]), kv[i+1])
	}
	return "}(" + strings.Join(items, "") + "u"
}

// pickleTensor pickles a tensor viewing the storage data/<key> of numel
// elements of the given torch storage class.
func pickleTensor(class, key string, numel, offset int, size, stride []int) string {
	storage := pickleTuple(pickleStr("storage"), "ctorch\n"+class+"\n", pickleStr(key), pickleStr("cpu"), pickleInt(numel)) + "Q"
	args := pickleTuple(storage, pickleInt(offset), pickleInts(size...), pickleInts(stride...), "\x89", "}")
	return "ctorch._utils\n_rebuild_tensor_v2\n" + args + "R"
}

// writeZip writes a zip archive of the given name and content pairs, with
// the given compression method, and returns its path.
func writeZip(t *testing.T, method uint16, records ...string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i < len(records); i += 2 {
		r, err := w.CreateHeader(&zip.FileHeader{Name: records[i], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(r, records[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.pth")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkpointRecords returns the records of an archive holding the pickled obj
// and four F32 elements 0, 1, 2, 3 in data/0.
func checkpointRecords(obj string) []string {
	return []string{"ck/data.pkl", "\x80\x02" + obj + ".", "ck/data/0", string(le([]float32{0, 1, 2, 3}))}
}

func TestReadTorchViews(t *testing.T) {
	f32 := func(offset int, size, stride []int) string {
		return pickleTensor("FloatStorage", "0", 4, offset, size, stride)
	}
	tests := []struct {
		name string
		obj  string
		want []Tensor
	}{
		{"offset", pickleDict("w", f32(1, []int{3}, []int{1})), []Tensor{NewF32("w", []int{3}, []float32{1, 2, 3})}},
		{"scalar", pickleDict("w", f32(2, nil, nil)), []Tensor{NewF32("w", []int{}, []float32{2})}},
		{"expanded", pickleDict("w", f32(1, []int{2, 2}, []int{0, 1})), []Tensor{NewF32("w", []int{2, 2}, []float32{1, 2, 1, 2})}},
		{"transposed", pickleDict("w", f32(0, []int{2, 2}, []int{1, 2})), []Tensor{NewF32("w", []int{2, 2}, []float32{0, 2, 1, 3})}},
		{"reversed dimension of one", pickleDict("w", f32(3, []int{1, 1}, []int{-1, -1})), []Tensor{NewF32("w", []int{1, 1}, []float32{3})}},
		{"empty", pickleDict("w", f32(9, []int{0, 5}, []int{9, 9})), []Tensor{NewF32("w", []int{0, 5}, nil)}},
		{
			"shared storage, module prefix",
			pickleDict("module.a", f32(0, []int{2}, []int{2}), "module.b", f32(1, []int{2}, []int{2})),
			[]Tensor{NewF32("a", []int{2}, []float32{0, 2}), NewF32("b", []int{2}, []float32{1, 3})},
		},
		{
			`"model" before "state_dict"`,
			pickleDict("state_dict", pickleDict("s", f32(0, nil, nil)), "model", pickleDict("m", f32(1, nil, nil)), "epoch", pickleInt(3)),
			[]Tensor{NewF32("m", []int{}, []float32{1})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadTorch(writeZip(t, zip.Store, checkpointRecords(tt.obj)...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Tensors, tt.want) {
				t.Errorf("tensors %+v, want %+v", f.Tensors, tt.want)
			}
		})
	}
}

// TestReadTorchCompressed checks a checkpoint whose records were
// compressed, as torch.save does not.
func TestReadTorchCompressed(t *testing.T) {
	z, err := zip.OpenReader("testdata/crate_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var records []string
	for _, zf := range z.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, zf.Name, string(b))
	}
	got, err := ReadTorch(writeZip(t, zip.Deflate, records...))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadTorch("testdata/crate_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("compressed checkpoint reads differently")
	}
}

func TestReadTorchMalformed(t *testing.T) {
	w := pickleTensor("FloatStorage", "0", 4, 0, []int{4}, []int{1})
	data := string(le([]float32{0, 1, 2, 3}))
	tests := []struct {
		name    string
		records []string
		wantErr string
	}{
		{"no data.pkl", []string{"ck/data/0", data}, "not a torch.save archive: no <prefix>/data.pkl"},
		{"data.pkl at top level", []string{"data.pkl", "\x80\x02" + pickleDict("w", w) + ".", "data/0", data}, "no <prefix>/data.pkl"},
		{"truncated pickle", []string{"ck/data.pkl", "\x80\x02}(X"}, "unpickling ck/data.pkl"},
		{"odd SETITEMS", checkpointRecords("}(" + pickleStr("a") + "u"), "unpickling ck/data.pkl: malformed pickle: runtime error: index out of range"},
		{"not a dict", checkpointRecords(pickleInts(1, 2)), "no state dict: the checkpoint is not a dict"},
		{"no state dict", checkpointRecords(pickleDict("epoch", pickleInt(3), "optimizer", pickleDict())), `no state dict: the checkpoint has no "model" or "state_dict" dict, and its entry epoch is not a tensor`},
		{"model not a dict", checkpointRecords(pickleDict("model", pickleInt(3), "w", w)), "its entry model is not a tensor"},
		{"empty", checkpointRecords(pickleDict("state_dict", pickleDict())), "no state dict: no tensors"},
		{"not all tensors", checkpointRecords(pickleDict("model", pickleDict("w", w, "n", pickleInt(3)))), `state dict "model": entry n is not a tensor`},
		{"duplicate names", checkpointRecords(pickleDict("module.w", w, "w", w)), `state dict: two tensors named "w"`},
		{"storage missing", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "1", 4, 0, []int{4}, []int{1}))), `tensor "w": record ck/data/1 missing`},
		{"storage short", []string{"ck/data.pkl", "\x80\x02" + pickleDict("w", w) + ".", "ck/data/0", data[:12]}, `tensor "w": record ck/data/0 holds 12 bytes, want 16`},
		{"storage long", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 3, 0, []int{3}, []int{1}))), "record ck/data/0 holds 16 bytes, want 12"},
		{"view past storage", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 2, []int{3}, []int{1}))), `tensor "w": view (offset 2, size [3], stride [1]) exceeds its storage of 4 elements`},
		{"offset past storage", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 4, nil, nil))), "exceeds its storage"},
		{"negative offset", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, -1, []int{1}, []int{1}))), "exceeds its storage"},
		{"negative stride", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 3, []int{2}, []int{-1}))), "exceeds its storage"},
		{"huge stride", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 0, []int{2, 2}, []int{1 << 30, 1 << 30}))), "exceeds its storage"},
		{"negative size", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 0, []int{-1}, []int{1}))), `tensor "w": invalid size [-1]`},
		{"size and stride differ", checkpointRecords(pickleDict("w", pickleTensor("FloatStorage", "0", 4, 0, []int{2}, nil))), "_rebuild_tensor_v2: unexpected arguments"},
		{"unsupported storage", checkpointRecords(pickleDict("w", pickleTensor("ComplexFloatStorage", "0", 2, 0, []int{2}, []int{1}))), "unsupported storage type torch.ComplexFloatStorage"},
		{"bad persistent id", checkpointRecords(pickleDict("w", pickleTuple(pickleStr("storage"))+"Q")), "unexpected persistent id"},
		{"big-endian", append(checkpointRecords(pickleDict("w", w)), "ck/byteorder", "big"), `unsupported byte order "big"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeZip(t, zip.Store, tt.records...)
			f, err := ReadTorch(path)
			if err == nil {
				t.Fatalf("read %+v, want error %q", f, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "reading "+path+": ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want one naming the file and containing %q", err, tt.wantErr)
			}
		})
	}

	// The same checkpoints with a little-endian byte order record load.
	if _, err := ReadTorch(writeZip(t, zip.Store, append(checkpointRecords(pickleDict("w", w)), "ck/byteorder", "little")...)); err != nil {
		t.Error(err)
	}
}

// TestReadTorchCorrupt checks that a flipped byte in the pickle or in a
// storage is caught.
func TestReadTorchCorrupt(t *testing.T) {
	orig, err := os.ReadFile("testdata/crate_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range z.File {
		if zf.Name != "crate_tiny/data.pkl" && zf.Name != "crate_tiny/data/1" {
			continue
		}
		off, err := zf.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		b := slices.Clone(orig)
		b[off+100] ^= 1
		path := filepath.Join(t.TempDir(), "corrupt.pth")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadTorch(path); !errors.Is(err, zip.ErrChecksum) || !strings.Contains(err.Error(), zf.Name) {
			t.Errorf("%s corrupted: error %v, want a checksum error naming the record", zf.Name, err)
		}
	}
}

func TestReadTorchNotCheckpoint(t *testing.T) {
	for _, path := range []string{"testdata/crate_tiny.safetensors", filepath.Join(t.TempDir(), "missing.pth")} {
		_, err := ReadTorch(path)
		if err == nil || !strings.HasPrefix(err.Error(), "reading "+path+": ") {
			t.Errorf("ReadTorch(%s) error = %v, want one naming the file", path, err)
		}
	}
	if _, err := ReadTorch("testdata/crate_tiny.safetensors"); !strings.Contains(err.Error(), "not a torch.save zip archive") {
		t.Errorf("ReadTorch(safetensors) error = %v", err)
	}
	if _, err := ReadTorch(filepath.Join(t.TempDir(), "missing.pth")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadTorch(missing) error = %v, want a not-exist error", err)
	}
}

// TestReadTorchF32Exact checks that float32 bits, NaN payloads included,
// pass through unchanged.
func TestReadTorchF32Exact(t *testing.T) {
	bits := []uint32{0x7fc00001, 0xffbfffff, 0x00000001, 0x80000000, math.Float32bits(float32(math.Inf(-1)))}
	obj := pickleDict("w", pickleTensor("FloatStorage", "0", len(bits), 0, []int{len(bits)}, []int{1}))
	f, err := ReadTorch(writeZip(t, zip.Store, "ck/data.pkl", "\x80\x02"+obj+".", "ck/data/0", string(le(bits))))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Tensors[0].Data, le(bits)) {
		t.Errorf("data %x, want %x", f.Tensors[0].Data, le(bits))
	}
}
