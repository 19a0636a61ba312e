package weights

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"harness/internal/atomicfile"
)

// The safetensors format (https://github.com/huggingface/safetensors) is an
// 8-byte little-endian header length n, n bytes of JSON header and the
// tensor data. The header maps each tensor name to its dtype, shape and
// [begin, end) byte offsets into the data, plus an optional "__metadata__"
// map of strings.

const metadataKey = "__metadata__"

// tensorInfo is a tensor's entry in a safetensors header.
type tensorInfo struct {
	DType       DType   `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// ReadSafetensors reads the safetensors file at path. The tensors appear in
// the order of the file's header.
func ReadSafetensors(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	f, err := DecodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return f, nil
}

// DecodeSafetensors decodes a safetensors file held in b, validating it
// fully: the header must be well-formed JSON naming known dtypes, and the
// tensors' data must exactly tile the data section, each matching its
// shape. The tensors appear in header order and their Data slices alias b.
func DecodeSafetensors(b []byte) (*File, error) {
	f, err := decodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return f, nil
}

func decodeSafetensors(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated: %d bytes, too short for the header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("truncated: header length %d exceeds the %d bytes that follow", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]

	f := &File{Metadata: map[string]string{}}
	var offsets [][2]int64 // of f.Tensors[i]
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("header is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
		name := tok.(string) // object keys are strings
		if seen[name] {
			return nil, fmt.Errorf("header: duplicate entry %q", name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&f.Metadata); err != nil {
				return nil, fmt.Errorf("header: %s: %w", metadataKey, err)
			}
			continue
		}
		var info tensorInfo
		if err := dec.Decode(&info); err != nil {
			return nil, fmt.Errorf("header: tensor %q: %w", name, err)
		}
		if info.Shape == nil || info.DataOffsets == nil {
			return nil, fmt.Errorf("header: tensor %q: missing shape or data_offsets", name)
		}
		if len(info.DataOffsets) != 2 {
			return nil, fmt.Errorf("header: tensor %q: data_offsets %v is not [begin, end]", name, info.DataOffsets)
		}
		begin, end := info.DataOffsets[0], info.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(data)) {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range of the %d data bytes", name, begin, end, len(data))
		}
		t := Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: data[begin:end:end]}
		if err := t.check(); err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
		offsets = append(offsets, [2]int64{begin, end})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("header: trailing data after the JSON object")
	}
	if f.Metadata == nil { // "__metadata__": null
		f.Metadata = map[string]string{}
	}

	// The tensors must tile the data section without gaps or overlaps.
	order := make([]int, len(offsets))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(cmp.Compare(offsets[i][0], offsets[j][0]), cmp.Compare(offsets[i][1], offsets[j][1]))
	})
	var pos int64
	for k, i := range order {
		switch begin := offsets[i][0]; {
		case begin < pos:
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q", f.Tensors[i].Name, begin, offsets[i][1], f.Tensors[order[k-1]].Name)
		case begin > pos:
			return nil, fmt.Errorf("tensor %q: %d unused data bytes before it", f.Tensors[i].Name, begin-pos)
		}
		pos = offsets[i][1]
	}
	if pos != int64(len(data)) {
		return nil, fmt.Errorf("%d unused data bytes after the last tensor", int64(len(data))-pos)
	}
	return f, nil
}

// WriteSafetensors writes f to path in the safetensors format, as
// EncodeSafetensors lays it out. It writes a temporary file in the same
// directory and renames it to path once synced, so path never holds a
// partial file. The file gets mode 0644.
func WriteSafetensors(path string, f *File) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	header, err := encodeHeader(f)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { return writeFile(w, header, f.Tensors) })
}

// writeFile writes the header, then the tensors' data in order.
func writeFile(w io.Writer, header []byte, tensors []Tensor) error {
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// EncodeSafetensors returns f in the safetensors format. The header is
// compact JSON holding "__metadata__" first (if f.Metadata is not empty,
// keys sorted) and then the tensors in the order of f.Tensors, padded with
// spaces to a multiple of 8 bytes; the tensors' data follow in the same
// order.
func EncodeSafetensors(f *File) ([]byte, error) {
	b, err := encodeHeader(f)
	if err != nil {
		return nil, err
	}
	for _, t := range f.Tensors {
		b = append(b, t.Data...)
	}
	return b, nil
}

// encodeHeader returns the length and header parts of f's safetensors
// encoding, after checking that the tensors are consistent.
func encodeHeader(f *File) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(f.Metadata) > 0 {
		m, _ := json.Marshal(f.Metadata) // a map of strings always marshals
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(m)
	}
	seen := map[string]bool{}
	var pos int64
	for _, t := range f.Tensors {
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		if t.Name == metadataKey || seen[t.Name] {
			return nil, fmt.Errorf("safetensors: tensor name %q used twice or reserved", t.Name)
		}
		seen[t.Name] = true
		// Strings, ints and slices of them always marshal.
		name, _ := json.Marshal(t.Name)
		info, _ := json.Marshal(tensorInfo{
			DType:       t.DType,
			Shape:       append([]int{}, t.Shape...), // [] rather than null for a scalar
			DataOffsets: []int64{pos, pos + int64(len(t.Data))},
		})
		if h.Len() > 1 {
			h.WriteByte(',')
		}
		h.Write(name)
		h.WriteByte(':')
		h.Write(info)
		pos += int64(len(t.Data))
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(h.Len()))
	return append(b, h.Bytes()...), nil
}
