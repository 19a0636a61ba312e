// Package atomicfile writes files whole or not at all, and removes the
// temporary files of writers that died before finishing.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
)

// Write creates path with the bytes write writes. They go to a temporary
// file in path's directory (named as tempPattern says), which is flushed,
// synced, given mode 0644 and renamed to path, so that path never holds a
// partial file; on any error the temporary file is removed and path is
// left as it was.
func Write(path string, write func(w io.Writer) error) error {
	return writeThen(path, write, func() error { return nil })
}

// WriteKeepingPrevious is Write that keeps the file path held before as
// prev: once the new bytes are synced, path is renamed to prev (replacing
// it) and then the temporary file to path. At every moment path or prev
// holds a whole file, the newest of them or the one before; after a crash
// between the two renames, only prev does. When path does not exist yet,
// prev is left as it is.
func WriteKeepingPrevious(path, prev string, write func(w io.Writer) error) error {
	return writeThen(path, write, func() error {
		if err := os.Rename(path, prev); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// writeThen writes a synced temporary file with write, calls beforeRename
// and renames the temporary file to path, removing it on any error.
func writeThen(path string, write func(w io.Writer) error, beforeRename func() error) (err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriter(tmp)
	if err := write(buf); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := beforeRename(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
