package weights

import (
	"bytes"
	"reflect"
	"testing"
)

func checksummedFile(t *testing.T) (*File, []byte) {
	t.Helper()
	f := &File{
		Metadata: map[string]string{"format": "test/1", "step": "7"},
		Tensors:  []Tensor{NewF32("w", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), NewF32("b", []int{2}, []float32{-1, 0.5})},
	}
	var buf bytes.Buffer
	if err := EncodeChecksummed(&buf, f); err != nil {
		t.Fatal(err)
	}
	return f, buf.Bytes()
}

func TestChecksummedRoundTrip(t *testing.T) {
	f, b := checksummedFile(t)
	got, checksummed, err := DecodeChecksummed(b)
	if err != nil || !checksummed {
		t.Fatalf("decoded with checksum %v, error %v", checksummed, err)
	}
	if !reflect.DeepEqual(got.Metadata, f.Metadata) || len(got.Tensors) != len(f.Tensors) {
		t.Fatalf("decoded %+v, want %+v", got, f)
	}
	for i := range f.Tensors {
		if g, w := got.Tensors[i], f.Tensors[i]; g.Name != w.Name || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("tensor %d: %s %v, want %s %v", i, g.Name, g.Data, w.Name, w.Data)
		}
	}
	// a file without a checksum decodes, and says so
	plain, err := EncodeSafetensors(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, checksummed, err := DecodeChecksummed(plain); err != nil || checksummed {
		t.Errorf("a file without checksum: checksummed %v, error %v", checksummed, err)
	}
}

// Every single flipped bit, in the header length, the header, the data or
// the checksum, makes the file fail to decode or lose its checksum: never
// does it decode as verified.
func TestChecksumDetectsEveryFlippedBit(t *testing.T) {
	_, b := checksummedFile(t)
	for bit := range 8 * len(b) {
		c := bytes.Clone(b)
		c[bit/8] ^= 1 << (bit % 8)
		if _, checksummed, err := DecodeChecksummed(c); err == nil && checksummed {
			t.Errorf("bit %d of byte %d flipped: decoded as verified", bit%8, bit/8)
		}
	}
	for _, n := range []int{0, 8, len(b) / 2, len(b) - 1} {
		if _, _, err := DecodeChecksummed(b[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: decoded", n, len(b))
		}
	}
}
