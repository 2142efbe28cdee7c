// Package atomicfile writes whole files so that no reader, and no crash,
// ever sees part of one: the data goes to a temporary file in the target's
// folder, is synced, and the temporary file is renamed over the target.
// It is the one such writer of the repository (result records, the cache's
// files, checkpoints).
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path atomically, creating path's folder if needed.
// The file is readable by all (0644), as os.WriteFile would leave it under
// the usual umask; on an error nothing is left behind and path is as it was.
func Write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
