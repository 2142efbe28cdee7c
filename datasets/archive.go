package datasets

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Checksum is the expected digest of a file.
type Checksum struct {
	Algorithm      string // "md5" or "sha256"
	Hex            string // lower-case hex digest
	OfDecompressed bool   // the digest is of the gzip-decompressed content (for .gz files)
}

// IsZero reports whether no checksum is known.
func (c Checksum) IsZero() bool { return c.Hex == "" }

func (c Checksum) String() string {
	if c.IsZero() {
		return "none"
	}
	if c.OfDecompressed {
		return c.Algorithm + "(decompressed):" + c.Hex
	}
	return c.Algorithm + ":" + c.Hex
}

func (c Checksum) newHash() hash.Hash {
	switch c.Algorithm {
	case "md5":
		return md5.New()
	case "sha256":
		return sha256.New()
	}
	panic(fmt.Sprintf("datasets: Checksum: unknown algorithm %q", c.Algorithm))
}

// check compares h's digest with c and returns a *FileError naming file on a
// mismatch.
func (c Checksum) check(file string, h hash.Hash) error {
	got := hex.EncodeToString(h.Sum(nil))
	if got != c.Hex {
		what := ""
		if c.OfDecompressed {
			what = " of the decompressed content"
		}
		return fileErr(file, -1, fixRedownload, fmt.Errorf("%w: %s%s is %s, want %s", ErrChecksum, c.Algorithm, what, got, c.Hex))
	}
	return nil
}

// VerifyFile checks the file at path against want; for a checksum of the
// decompressed content the file may be gzip-compressed or raw.
func VerifyFile(path string, want Checksum) error {
	if want.IsZero() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return missingErr(path, err)
	}
	defer f.Close()
	h := want.newHash()
	var r io.Reader = f
	if want.OfDecompressed {
		r, err = maybeGunzip(path, f)
		if err != nil {
			return err
		}
	}
	if _, err := io.Copy(h, r); err != nil {
		return fileErr(path, -1, fixRedownload, fmt.Errorf("reading: %w", err))
	}
	return want.check(path, h)
}

func missingErr(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fileErr(path, -1, "put the file there, or run `make data` to locate and download the datasets", err)
	}
	return fileErr(path, -1, "", err)
}

// maybeGunzip returns a reader of r's decompressed content when it starts
// with the gzip magic, else of r itself.
func maybeGunzip(name string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fileErr(name, -1, fixRedownload, fmt.Errorf("reading: %w", err))
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fileErr(name, -1, fixRedownload, fmt.Errorf("bad gzip header: %w", err))
		}
		return zr, nil
	}
	return br, nil
}

// walkTarGz reads the gzip-compressed tar archive at file and calls fn with
// every regular member (its cleaned slash path, without a leading "./").
// When h is not nil the whole file's bytes pass through it, to the end.
func walkTarGz(file string, h hash.Hash, fn func(name string, size int64, r io.Reader) error) error {
	f, err := os.Open(file)
	if err != nil {
		return missingErr(file, err)
	}
	defer f.Close()
	return walkTarGzReader(file, f, h, fn)
}

func walkTarGzReader(file string, src io.Reader, h hash.Hash, fn func(name string, size int64, r io.Reader) error) error {
	if h != nil {
		src = io.TeeReader(src, h)
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(src, 1<<16))
	if err != nil {
		return fileErr(file, -1, "expected a gzip-compressed tar archive (.tar.gz); "+fixRedownload, fmt.Errorf("%w: not gzip: %v", ErrFormat, err))
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fileErr(file, -1, fixRedownload, fmt.Errorf("%w: reading the archive: %v", ErrFormat, err))
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if err := fn(name, hdr.Size, tr); err != nil {
			return err
		}
	}
	// Drain to the end so that h sees every byte and a truncated gzip stream is caught.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fileErr(file, -1, fixRedownload, fmt.Errorf("%w: reading the archive: %v", ErrFormat, err))
	}
	if h != nil {
		if _, err := io.Copy(io.Discard, src); err != nil {
			return fileErr(file, -1, fixRedownload, fmt.Errorf("reading: %w", err))
		}
	}
	return nil
}

// readMember reads an archive member of the announced size, guarding
// against sizes that do not fit in memory.
func readMember(name string, size int64, r io.Reader, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return nil, formatErr(name, -1, fixReplace, "member of %d bytes is larger than the %d allowed", size, limit)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fileErr(name, -1, fixRedownload, fmt.Errorf("%w: reading: %v", ErrFormat, err))
	}
	return buf, nil
}

func (c Checksum) hashOrNil() hash.Hash {
	if c.IsZero() {
		return nil
	}
	return c.newHash()
}
