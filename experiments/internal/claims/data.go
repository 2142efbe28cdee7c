package claims

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/continuousnet/repro/datasets"
	"github.com/continuousnet/repro/experiments/internal/harness"
)

// imageDatasets are the datasets the CIFAR kinds accept, with their number
// of classes and training images per class.
var imageDatasets = map[string]struct{ classes, trainPerClass, testPerClass int }{
	"cifar10":  {10, 5000, 1000},
	"cifar100": {100, 500, 100},
}

func datasetNames() []string { return []string{"cifar10", "cifar100"} }

// dataDir is the data directory: $CNET_DATA, else the default under the
// user's cache folder (datasets.DataDir).
func dataDir() (string, error) {
	dir, _, err := datasets.DataDir("")
	return dir, err
}

type dataID struct{ fingerprint, missing string }

var (
	fpMu    sync.Mutex
	fpCache = map[string]dataID{}
)

// fingerprint identifies the dataset the kinds would read, cheaply enough
// for -list and -plan: the form present in the data directory and its
// published checksum, which Load verifies before any image is used (for
// the extracted official batches, which have no published checksum, a
// SHA-256 of the files, computed once per process). "missing" when no form
// is present: such a run skips, and its key changes once the data appears;
// missing then says why and how to get the data, as loadDataset's skip does.
func fingerprint(name string) (fp, missing string) {
	dir, err := dataDir()
	if err != nil {
		return name + ": missing", noDataDir(name, err)
	}
	fpMu.Lock()
	defer fpMu.Unlock()
	if id, ok := fpCache[dir+"\x00"+name]; ok {
		return id.fingerprint, id.missing
	}
	fp = name + ": missing"
	missing = fmt.Sprintf("%s not found in %s (set %s to the data directory; `make data` downloads and verifies it)", name, dir, datasets.EnvDataDir)
	for _, s := range datasets.Sources() {
		if s.Dataset != name || !s.Present(dir) {
			continue
		}
		var sum string
		for _, f := range s.Files {
			if f.Sum.IsZero() {
				h, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					sum = "unreadable"
					break
				}
				sum += " " + f.Path + " sha256:" + h
			} else {
				sum += " " + f.Path + " " + f.Sum.String()
			}
		}
		fp, missing = fmt.Sprintf("%s: %s;%s", name, s.Format, sum), ""
		break
	}
	fpCache[dir+"\x00"+name] = dataID{fp, missing}
	return fp, missing
}

// noDataDir says that there is no data directory to look for name in.
func noDataDir(name string, err error) string {
	return fmt.Sprintf("%s: no data directory (%v); set %s to a folder holding the dataset (see `make data`)", name, err, datasets.EnvDataDir)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// loadDataset returns the dataset, read and verified once per process and
// shared by every run (read only; datasets.LoadOnce). A missing dataset is a harness skip
// whose reason says where to put it.
func loadDataset(name string) (*datasets.Split, error) {
	dir, err := dataDir()
	if err != nil {
		return nil, harness.Skip("%s", noDataDir(name, err))
	}
	split, err := datasets.LoadOnce(dir, name)
	if err != nil {
		if errors.Is(err, datasets.ErrNotFound) {
			return nil, harness.Skip("%v; or point %s at a folder that holds it", err, datasets.EnvDataDir)
		}
		return nil, err
	}
	return split, nil
}

// subset returns perClass images of every class of d chosen by seed, or d
// itself when perClass is 0.
func subset(d *datasets.Dataset, perClass int, seed uint64) (*datasets.Dataset, error) {
	if perClass == 0 {
		return d, nil
	}
	return d.StratifiedSubset(perClass, seed)
}
