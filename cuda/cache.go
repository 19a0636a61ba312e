package cuda

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"harness/internal/atomicfile"
)

// A Compiler turns CUDA C into a CUBIN: NVRTC in a Runtime (see
// Runtime.Compiler), a fake one in tests.
type Compiler struct {
	// Version names the compiler and its version; it is part of the key,
	// so another compiler never reads this one's entries.
	Version string
	// Compile compiles src for arch (e.g. "sm_90") with options opts.
	Compile func(src, arch string, opts []string) ([]byte, error)
}

// A KernelCache keeps compiled kernels on disk, so that a second run loads
// them at once instead of compiling them again.
//
// An entry is a file named by its key, the SHA-256 of the source, the
// architecture, the compiler's version and the options. It holds a header,
// then the CUBIN:
//
//	magic    8 bytes  "HCUBIN1\n"
//	key     32 bytes  the entry's key
//	length   8 bytes  the CUBIN's length, little-endian
//	sum     32 bytes  the SHA-256 of the CUBIN
//
// Entries are written whole or not at all (a temporary file renamed), and
// checked when read: one whose header or checksum does not match is
// compiled again and replaced, never loaded.
type KernelCache struct {
	Dir      string // where the entries are; see DefaultCacheDir
	Compiler Compiler
}

// CacheDirEnv names the environment variable that overrides
// DefaultCacheDir.
const CacheDirEnv = "HARNESS_CUBIN_CACHE"

// DefaultCacheDir is $HARNESS_CUBIN_CACHE, or else harness/cubin under the
// user's cache directory (~/.cache/harness/cubin on Linux).
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheDirEnv); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kernel cache directory: %w (set $%s)", err, CacheDirEnv)
	}
	return filepath.Join(base, "harness", "cubin"), nil
}

// magic starts every entry.
const magic = "HCUBIN1\n"

// headerSize is the size of an entry's header.
const headerSize = len(magic) + sha256.Size + 8 + sha256.Size

// Key is the cache key of src compiled for arch with opts.
func (c *KernelCache) Key(src, arch string, opts []string) [sha256.Size]byte {
	h := sha256.New()
	field := func(s string) { // length-prefixed, so that fields cannot run into each other
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		io.WriteString(h, s)
	}
	field(src)
	field(arch)
	field(c.Compiler.Version)
	for _, o := range opts {
		field(o)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// CUBIN returns src compiled for arch with opts: the cached entry when it
// is sound, else a fresh compilation, which it caches.
func (c *KernelCache) CUBIN(src, arch string, opts []string) ([]byte, error) {
	key := c.Key(src, arch, opts)
	path := filepath.Join(c.Dir, fmt.Sprintf("%x.cubin", key))
	if cubin, err := readEntry(path, key); err == nil {
		return cubin, nil
	}
	cubin, err := c.Compiler.Compile(src, arch, opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kernel cache: %w", err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return writeEntry(w, key, cubin) }); err != nil {
		return nil, fmt.Errorf("kernel cache: %w", err)
	}
	return cubin, nil
}

// writeEntry writes an entry of key holding cubin.
func writeEntry(w io.Writer, key [sha256.Size]byte, cubin []byte) error {
	sum := sha256.Sum256(cubin)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(cubin)))
	for _, b := range [][]byte{[]byte(magic), key[:], n[:], sum[:], cubin} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// errBadEntry is an entry that must not be loaded.
var errBadEntry = errors.New("bad kernel cache entry")

// readEntry reads the CUBIN of the entry at path, checking that it is
// whole and holds key.
func readEntry(path string, key [sha256.Size]byte) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < headerSize || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%s: %w: no header", path, errBadEntry)
	}
	h := b[len(magic):headerSize]
	if !bytes.Equal(h[:sha256.Size], key[:]) {
		return nil, fmt.Errorf("%s: %w: another key", path, errBadEntry)
	}
	n := binary.LittleEndian.Uint64(h[sha256.Size : sha256.Size+8])
	cubin := b[headerSize:]
	if uint64(len(cubin)) != n {
		return nil, fmt.Errorf("%s: %w: %d bytes, header says %d", path, errBadEntry, len(cubin), n)
	}
	if sum := sha256.Sum256(cubin); !bytes.Equal(sum[:], h[sha256.Size+8:]) {
		return nil, fmt.Errorf("%s: %w: checksum mismatch", path, errBadEntry)
	}
	return cubin, nil
}
