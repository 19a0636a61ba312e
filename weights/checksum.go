package weights

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ChecksumTensor is the tensor of a checksummed safetensors file that holds
// its checksum: U8, shape [32], last in the header and in the data, the
// SHA-256 of every byte before it (header length, header, the other
// tensors' data). The file stays a valid safetensors file for any reader.
// One changed bit anywhere is detected: before the checksum it changes the
// bytes hashed, in the checksum the hash compared with, and in the
// checksum's header entry it either breaks the header or makes the file
// one without a checksum, which the caller then refuses (see
// DecodeChecksummed).
const ChecksumTensor = "checksum.sha256"

// EncodeChecksummed writes f to w in the safetensors format, as
// EncodeSafetensors lays it out, followed by ChecksumTensor. f must not
// hold a tensor of that name.
func EncodeChecksummed(w io.Writer, f *File) error {
	placeholder := Tensor{Name: ChecksumTensor, DType: U8, Shape: []int{sha256.Size}, Data: make([]byte, sha256.Size)}
	header, err := encodeHeader(&File{Metadata: f.Metadata, Tensors: append(slices.Clip(f.Tensors), placeholder)})
	if err != nil {
		return err
	}
	sum := sha256.New()
	if err := writeFile(io.MultiWriter(w, sum), header, f.Tensors); err != nil {
		return err
	}
	_, err = w.Write(sum.Sum(nil))
	return err
}

// DecodeChecksummed decodes b as DecodeSafetensors does and, when it holds
// ChecksumTensor, checks that tensor is the file's last 32 bytes and
// equals the SHA-256 of the bytes before it. It returns the file without
// the checksum tensor and whether it had one: a file without one is
// returned as it is, so callers that require one must refuse it.
func DecodeChecksummed(b []byte) (*File, bool, error) {
	f, err := DecodeSafetensors(b)
	if err != nil {
		return nil, false, err
	}
	i := slices.IndexFunc(f.Tensors, func(t Tensor) bool { return t.Name == ChecksumTensor })
	if i < 0 {
		return f, false, nil
	}
	body := len(b) - sha256.Size
	if t := f.Tensors[i]; t.DType != U8 || len(t.Data) != sha256.Size || &t.Data[0] != &b[body] {
		return nil, true, errors.New("safetensors: the checksum is not the file's last 32 bytes")
	}
	if sum := sha256.Sum256(b[:body]); !bytes.Equal(sum[:], f.Tensors[i].Data) {
		return nil, true, fmt.Errorf("safetensors: checksum mismatch: the %d bytes before the checksum changed since they were written", body)
	}
	f.Tensors = slices.Delete(f.Tensors, i, i+1)
	return f, true, nil
}
