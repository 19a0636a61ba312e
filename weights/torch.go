package weights

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// A checkpoint written by torch.save since PyTorch 1.6 is a zip
// archive holding <prefix>/data.pkl, a pickle of the saved object, and
// <prefix>/data/<key>, the raw little-endian bytes of each tensor storage
// the pickle refers to by key. A tensor is pickled as a call of
// torch._utils._rebuild_tensor_v2 with its storage, storage offset, size
// and stride.

// ReadTorch reads the state dict of the PyTorch checkpoint at path, a zip
// archive written by torch.save; the older non-zip format and TorchScript
// archives are not supported. The state dict is the checkpoint's "model"
// or else its "state_dict" entry, or the checkpoint itself if it has
// neither; other entries, such as "epoch", "optimizer" or "args", are
// ignored. A leading "module.", left by DistributedDataParallel, is dropped
// from the tensor names. The tensors keep the state dict's order and their
// element type, and are made contiguous. The Metadata is empty.
//
// The archive's checksums guard against corruption, but not against a
// crafted pickle, which can make the unpickler exhaust memory: as with
// torch.load, read only checkpoints from trusted sources.
func ReadTorch(path string) (*File, error) {
	f, err := readTorch(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return f, nil
}

func readTorch(name string) (*File, error) {
	fd, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	z, err := zip.NewReader(fd, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("not a torch.save zip archive: %w", err)
	}
	ck := &checkpoint{records: map[string]*zip.File{}, storages: map[string]*storage{}}
	for _, zf := range z.File {
		ck.records[zf.Name] = zf
		if dir, file := path.Split(zf.Name); file == "data.pkl" && strings.Count(dir, "/") == 1 && ck.prefix == "" {
			ck.prefix = dir
		}
	}
	if ck.prefix == "" {
		return nil, errors.New("not a torch.save archive: no <prefix>/data.pkl")
	}
	if _, ok := ck.records[ck.prefix+"byteorder"]; ok { // written since PyTorch 2.1
		b, err := ck.read(ck.prefix+"byteorder", -1)
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("unsupported byte order %q", b)
		}
	}
	pkl, err := ck.read(ck.prefix+"data.pkl", -1)
	if err != nil {
		return nil, err
	}
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = findClass
	u.PersistentLoad = ck.persistentLoad
	top, err := unpickle(&u)
	if err != nil {
		return nil, fmt.Errorf("unpickling %sdata.pkl: %w", ck.prefix, err)
	}

	entries, ok := dictEntries(top)
	if !ok {
		return nil, errors.New("no state dict: the checkpoint is not a dict")
	}
	where := "" // the entry holding the state dict, if not the checkpoint
	for _, key := range []string{"model", "state_dict"} {
		if sd, ok := dictEntries(lookup(entries, key)); ok {
			entries, where = sd, key
			break
		}
	}
	f := &File{Metadata: map[string]string{}}
	seen := map[string]bool{}
	for _, e := range entries {
		key, ok1 := e.Key.(string)
		ref, ok2 := e.Value.(*tensorRef)
		switch {
		case ok1 && ok2:
		case where == "":
			return nil, fmt.Errorf(`no state dict: the checkpoint has no "model" or "state_dict" dict, and its entry %v is not a tensor`, e.Key)
		default:
			return nil, fmt.Errorf("state dict %q: entry %v is not a tensor", where, e.Key)
		}
		name, _ := strings.CutPrefix(key, "module.")
		if seen[name] {
			return nil, fmt.Errorf("state dict: two tensors named %q", name)
		}
		seen[name] = true
		t, err := ck.tensor(name, ref)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	if len(f.Tensors) == 0 {
		return nil, errors.New("no state dict: no tensors")
	}
	return f, nil
}

// unpickle runs u.Load, turning the panics that gopickle can raise on
// malformed input into errors.
func unpickle(u *pickle.Unpickler) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed pickle: %v", r)
		}
	}()
	return u.Load()
}

// dictEntries returns the entries of a pickled dict or OrderedDict in order,
// and false if v is neither.
func dictEntries(v any) ([]types.DictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		var entries []types.DictEntry
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe := e.Value.(*types.OrderedDictEntry)
			entries = append(entries, types.DictEntry{Key: oe.Key, Value: oe.Value})
		}
		return entries, true
	}
	return nil, false
}

// lookup returns the value of the entry with the given key, or nil.
func lookup(entries []types.DictEntry, key string) any {
	for _, e := range entries {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// storageTypes maps the pickled names of torch storage classes to the
// element types of their data.
var storageTypes = map[string]DType{
	"DoubleStorage":   F64,
	"FloatStorage":    F32,
	"HalfStorage":     F16,
	"BFloat16Storage": BF16,
	"LongStorage":     I64,
	"IntStorage":      I32,
	"ShortStorage":    I16,
	"CharStorage":     I8,
	"ByteStorage":     U8,
	"BoolStorage":     Bool,
}

// storageType is a torch storage class, as named in the pickle.
type storageType DType

// pyFunc is a Python function the pickle calls.
type pyFunc func(args ...any) (any, error)

// Call implements types.Callable.
func (f pyFunc) Call(args ...any) (any, error) { return f(args...) }

// pyObject stands for any Python class, function or instance that reading
// a state dict need not understand, such as the argparse.Namespace that
// MAE's training script saves with its checkpoints. It absorbs calls,
// instantiation and state.
type pyObject struct{ name string }

// Call implements types.Callable.
func (o *pyObject) Call(...any) (any, error) { return o, nil }

// PyNew implements types.PyNewable.
func (o *pyObject) PyNew(...any) (any, error) { return o, nil }

// PySetState implements types.PyStateSettable.
func (o *pyObject) PySetState(any) error { return nil }

// String returns the Python name of o.
func (o *pyObject) String() string { return o.name }

// findClass resolves the globals a pickle refers to.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return pyFunc(rebuildTensor), nil
	case "torch._utils._rebuild_parameter":
		return pyFunc(rebuildParameter), nil
	}
	if dt, ok := storageTypes[name]; ok && module == "torch" {
		return storageType(dt), nil
	}
	return &pyObject{module + "." + name}, nil
}

// A storage is a flat array of numel elements of type dtype, held in the
// archive record data/<key>.
type storage struct {
	dtype DType
	key   string
	numel int
	data  []byte // read on first use
}

// A tensorRef is a pickled tensor: a strided view of a storage.
type tensorRef struct {
	storage *storage
	offset  int
	size    []int
	stride  []int
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, storage_offset,
// size, stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensor(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments", len(args))
	}
	s, ok1 := args[0].(*storage)
	offset, ok2 := args[1].(int)
	size, ok3 := intTuple(args[2])
	stride, ok4 := intTuple(args[3])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: unexpected arguments %v", args[:4])
	}
	return &tensorRef{storage: s, offset: offset, size: size, stride: stride}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks), which unpickles an nn.Parameter: it yields its tensor.
func rebuildParameter(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: %v is not a tensor", args[0])
	}
	return args[0], nil
}

func intTuple(v any) ([]int, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	s := make([]int, t.Len())
	for i := range s {
		if s[i], ok = t.Get(i).(int); !ok {
			return nil, false
		}
	}
	return s, true
}

// A checkpoint is an open torch.save archive.
type checkpoint struct {
	prefix   string               // of all record names, ending in "/"
	records  map[string]*zip.File // by name
	storages map[string]*storage  // by key
}

// persistentLoad resolves the pickle's references to storages, tuples
// ("storage", storage type, key, location, numel). It reads no data.
func (ck *checkpoint) persistentLoad(id any) (any, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() != 5 || t.Get(0) != "storage" {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	dtype, ok1 := t.Get(1).(storageType)
	key, ok2 := t.Get(2).(string)
	numel, ok3 := t.Get(4).(int)
	if !ok1 {
		return nil, fmt.Errorf("unsupported storage type %v", t.Get(1))
	}
	if !ok2 || !ok3 || numel < 0 {
		return nil, fmt.Errorf("unexpected persistent id %v", id)
	}
	if s, ok := ck.storages[key]; ok {
		return s, nil
	}
	s := &storage{dtype: DType(dtype), key: key, numel: numel}
	ck.storages[key] = s
	return s, nil
}

// read returns the content of the named record, checking that it holds
// size bytes unless size is negative.
func (ck *checkpoint) read(name string, size int64) ([]byte, error) {
	zf, ok := ck.records[name]
	if !ok {
		return nil, fmt.Errorf("record %s missing", name)
	}
	if size >= 0 && zf.UncompressedSize64 != uint64(size) {
		return nil, fmt.Errorf("record %s holds %d bytes, want %d", name, zf.UncompressedSize64, size)
	}
	r, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r) // checks the CRC-32 at the end
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", name, err)
	}
	return b, nil
}

// tensor returns ref's elements as a contiguous tensor.
func (ck *checkpoint) tensor(name string, ref *tensorRef) (Tensor, error) {
	s := ref.storage
	es := s.dtype.Size()
	if s.data == nil {
		if s.numel > math.MaxInt/es {
			return Tensor{}, fmt.Errorf("tensor %q: storage %s of %d elements is too large", name, s.key, s.numel)
		}
		b, err := ck.read(ck.prefix+"data/"+s.key, int64(s.numel*es))
		if err != nil {
			return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
		}
		s.data = b
	}
	n, ok := numElements(ref.size)
	if !ok || n > math.MaxInt/es {
		return Tensor{}, fmt.Errorf("tensor %q: invalid size %v", name, ref.size)
	}
	t := Tensor{Name: name, DType: s.dtype, Shape: ref.size, Data: make([]byte, 0, n*es)}
	if n == 0 {
		return t, nil
	}
	// The last element of the view must lie in the storage; compute its
	// index without overflowing.
	last := ref.offset
	inRange := last >= 0 && last < s.numel
	for i, d := range ref.size {
		if !inRange || d == 1 {
			continue
		}
		st := ref.stride[i]
		inRange = st >= 0 && (st == 0 || d-1 <= (s.numel-1-last)/st)
		last += (d - 1) * st
	}
	if !inRange {
		return Tensor{}, fmt.Errorf("tensor %q: view (offset %d, size %v, stride %v) exceeds its storage of %d elements", name, ref.offset, ref.size, ref.stride, s.numel)
	}
	t.Data = gather(t.Data, s.data, es, ref.offset, ref.size, ref.stride)
	return t, nil
}

// gather appends to dst, in row-major order, the elements of size es of the
// view of src at offset with the given size and stride, all in elements.
func gather(dst, src []byte, es, offset int, size, stride []int) []byte {
	switch {
	case len(size) == 0:
		return append(dst, src[offset*es:(offset+1)*es]...)
	case len(size) == 1 && stride[0] == 1:
		return append(dst, src[offset*es:(offset+size[0])*es]...)
	}
	for i := range size[0] {
		dst = gather(dst, src, es, offset+i*stride[0], size[1:], stride[1:])
	}
	return dst
}
