package datasets

import (
	"errors"
	"fmt"
	"strings"
)

// ErrChecksum is wrapped by the error of a file whose digest differs from
// the expected one.
var ErrChecksum = errors.New("checksum mismatch")

// ErrFormat is wrapped by the error of a file whose content does not follow
// its format (bad magic number, short record, wrong image size, unknown class).
var ErrFormat = errors.New("malformed data")

// FileError reports bad or missing input: which file (and, inside an archive,
// which member; and which record) and what to do about it.
type FileError struct {
	File   string // the file at fault; "archive.tar.gz:member" inside an archive
	Record int    // index of the bad record in the file, or -1
	Err    error  // what is wrong
	Fix    string // what to do, or ""
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("datasets: ")
	b.WriteString(e.File)
	if e.Record >= 0 {
		fmt.Fprintf(&b, ": record %d", e.Record)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(file string, record int, fix string, err error) *FileError {
	return &FileError{File: file, Record: record, Err: err, Fix: fix}
}

func formatErr(file string, record int, fix, format string, args ...any) *FileError {
	return fileErr(file, record, fix, fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...))
}

const (
	fixRedownload = "the file is truncated or corrupt: download it again (see `make data`)"
	fixReplace    = "replace or remove the file, or re-create the archive"
)
