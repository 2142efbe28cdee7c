package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// ErrNotFound is wrapped by the error of [Load] when no form of the dataset
// is in the data directory.
var ErrNotFound = errors.New("dataset not found")

// Environment variables read by [DataDir] and by the package datatest.
const (
	EnvDataDir     = "CNET_DATA"         // the data directory
	EnvRequireData = "CNET_REQUIRE_DATA" // "1": tests that need data fail instead of skipping
)

// DefaultDataDir returns the data directory used when neither a flag nor
// CNET_DATA names one: continuousnet/data in the user's cache directory
// (e.g. ~/.cache/continuousnet/data), outside any git checkout.
func DefaultDataDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("datasets: no default data directory (%v): set %s or pass a data directory", err, EnvDataDir)
	}
	return filepath.Join(cache, "continuousnet", "data"), nil
}

// DataDir chooses the data directory: flagValue if not empty, else the
// environment variable CNET_DATA if set, else [DefaultDataDir]. from says
// which ("flag", "$CNET_DATA" or "default").
func DataDir(flagValue string) (dir, from string, err error) {
	if flagValue != "" {
		return flagValue, "flag", nil
	}
	if env := os.Getenv(EnvDataDir); env != "" {
		return env, "$" + EnvDataDir, nil
	}
	dir, err = DefaultDataDir()
	return dir, "default", err
}

// File is one file a dataset source needs, relative to the data directory.
type File struct {
	Path string   // slash-separated path under the data directory
	URL  string   // official download address, or "" when there is none
	Sum  Checksum // expected checksum; zero when none is published
}

// Source is one form in which a dataset can be present in the data
// directory (e.g. CIFAR-10 as the official binary archive, or as an image
// folder archive).
type Source struct {
	Dataset string // "cifar10", "cifar100" or "fashion-mnist"
	Format  string // a description of the form, for people
	Files   []File // every file it needs
	Note    string // a caveat to show next to results, or ""
	read    func(dir string, files []File) (*Split, error)
}

const (
	cifar10MD5     = "c32a1d4ab5d03f1284b67883e8d87530"
	cifar100MD5    = "03b5dce01913d631647c71ecec9e9cb8"
	cifar10JPEGSHA = "45b041e867f5a40f79bfde38d3dd1fd511103d50068c1afecf6445e25234d4db"
	fashionURL     = "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"
)

// fashionSHA are the SHA-256 digests of Fashion-MNIST's decompressed IDX
// files, computed from the Debian copy (whose gzip bytes differ from
// upstream's, but not the content).
var fashionSHA = map[string]string{
	"train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
	"train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
	"t10k-images-idx3-ubyte":  "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
	"t10k-labels-idx1-ubyte":  "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

// Sources lists every known form of every dataset, each dataset's forms in
// order of preference (the official binary before the JPEG re-encode).
func Sources() []Source {
	var batches []File
	for _, b := range append(append([]string(nil), cifar10Format.train...), cifar10Format.test...) {
		batches = append(batches, File{Path: "cifar10/cifar-10-batches-bin/" + b})
	}
	var fashion []File
	for _, b := range idxFiles {
		fashion = append(fashion, File{Path: "fashion-mnist/" + b + ".gz", URL: fashionURL + b + ".gz",
			Sum: Checksum{Algorithm: "sha256", Hex: fashionSHA[b], OfDecompressed: true}})
	}
	return []Source{
		{Dataset: "cifar10", Format: "official binary release (archive)",
			Files: []File{{Path: "cifar10/cifar-10-binary.tar.gz", URL: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
				Sum: Checksum{Algorithm: "md5", Hex: cifar10MD5}}},
			read: func(dir string, f []File) (*Split, error) {
				return readCIFARBinary(local(dir, f[0]), cifar10Format, f[0].Sum)
			}},
		{Dataset: "cifar10", Format: "official binary release (extracted; no published checksum for the batch files)",
			Files: batches,
			read: func(dir string, f []File) (*Split, error) {
				return readCIFARBinary(filepath.Dir(local(dir, f[0])), cifar10Format, Checksum{})
			}},
		{Dataset: "cifar10", Format: "image folder archive (JPEG re-encode of the official images)",
			Files: []File{{Path: "cifar10/cifar10-jpeg.tar.gz", Sum: Checksum{Algorithm: "sha256", Hex: cifar10JPEGSHA}}},
			Note:  "JPEG re-encode (quality 75, 4:2:0): pixels close to, not identical with, the official release; accuracy may sit slightly below",
			read: func(dir string, f []File) (*Split, error) {
				return readImageFolder(local(dir, f[0]), "cifar10", CIFAR10Classes, 32, 32, f[0].Sum)
			}},
		{Dataset: "cifar10", Format: "image folder directory (train|test/<class>/*.{png,jpg}; no checksum)",
			Files: []File{{Path: "cifar10/images"}},
			read: func(dir string, f []File) (*Split, error) {
				return readImageFolder(local(dir, f[0]), "cifar10", CIFAR10Classes, 32, 32, Checksum{})
			}},
		{Dataset: "cifar100", Format: "official binary release (archive)",
			Files: []File{{Path: "cifar100/cifar-100-binary.tar.gz", URL: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
				Sum: Checksum{Algorithm: "md5", Hex: cifar100MD5}}},
			read: func(dir string, f []File) (*Split, error) {
				return readCIFARBinary(local(dir, f[0]), cifar100Format, f[0].Sum)
			}},
		{Dataset: "fashion-mnist", Format: "IDX files (gzip)", Files: fashion,
			read: func(dir string, f []File) (*Split, error) {
				sums := map[string]Checksum{}
				for _, b := range idxFiles {
					sums[b] = Checksum{Algorithm: "sha256", Hex: fashionSHA[b], OfDecompressed: true}
				}
				return readIDXSplit(filepath.Join(dir, "fashion-mnist"), "fashion-mnist", FashionMNISTClasses, sums)
			}},
	}
}

// DatasetNames lists the datasets [Sources] knows, in order.
func DatasetNames() []string { return []string{"cifar10", "cifar100", "fashion-mnist"} }

func local(dir string, f File) string { return filepath.Join(dir, filepath.FromSlash(f.Path)) }

// Missing returns the source's files absent from dir.
func (s Source) Missing(dir string) []File {
	var out []File
	for _, f := range s.Files {
		if _, err := os.Stat(local(dir, f)); err != nil {
			out = append(out, f)
		}
	}
	return out
}

// Present reports whether every file of the source is in dir.
func (s Source) Present(dir string) bool { return len(s.Missing(dir)) == 0 }

// Path returns where the source lives under dir: its file, or the folder
// of its files.
func (s Source) Path(dir string) string {
	if len(s.Files) == 1 {
		return local(dir, s.Files[0])
	}
	return filepath.Join(dir, filepath.FromSlash(path.Dir(s.Files[0].Path)))
}

// Load reads the source from dir, verifying every checksum it has.
func (s Source) Load(dir string) (*Split, error) {
	sp, err := s.read(dir, s.Files)
	if err != nil {
		return nil, err
	}
	for _, d := range []*Dataset{sp.Train, sp.Test} {
		if err := d.Validate(); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// Load reads the dataset called name ("cifar10", "cifar100",
// "fashion-mnist") from dir: the first of its [Sources] present there,
// verified. When none is present the error wraps [ErrNotFound] and says
// what to put where.
func Load(dir, name string) (*Split, Source, error) {
	var forms []Source
	for _, s := range Sources() {
		if s.Dataset != name {
			continue
		}
		if s.Present(dir) {
			sp, err := s.Load(dir)
			return sp, s, err
		}
		forms = append(forms, s)
	}
	if forms == nil {
		panic(fmt.Sprintf("datasets: Load: unknown dataset %q", name))
	}
	msg := ""
	for _, s := range forms {
		if missing := s.Missing(dir); len(missing) < len(s.Files) {
			msg += fmt.Sprintf("; %s is incomplete: %s is missing", s.Format, local(dir, missing[0]))
		}
	}
	for _, s := range forms {
		if f := s.Files[0]; f.URL != "" {
			msg += fmt.Sprintf("; download %s (%s) to %s, or run `make data`", f.URL, f.Sum, local(dir, f))
			break
		}
	}
	return nil, Source{}, fmt.Errorf("datasets: %s not found in %s: %w%s", name, dir, ErrNotFound, msg)
}

// LoadCIFAR10 reads CIFAR-10 from the data directory dir (see [Load]).
func LoadCIFAR10(dir string) (*Split, error) { sp, _, err := Load(dir, "cifar10"); return sp, err }

// LoadCIFAR100 reads CIFAR-100 from the data directory dir (see [Load]).
func LoadCIFAR100(dir string) (*Split, error) { sp, _, err := Load(dir, "cifar100"); return sp, err }

// LoadFashionMNIST reads Fashion-MNIST from the data directory dir (see [Load]).
func LoadFashionMNIST(dir string) (*Split, error) {
	sp, _, err := Load(dir, "fashion-mnist")
	return sp, err
}

// Download fetches f.URL into dir/f.Path: it writes a temporary file beside
// the destination, verifies it against f.Sum, and only then renames it into
// place, so an interrupted or corrupt download never leaves a file that
// looks complete. client nil means http.DefaultClient.
func Download(ctx context.Context, client *http.Client, dir string, f File) error {
	if f.URL == "" {
		return fmt.Errorf("datasets: %s has no download address", f.Path)
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("datasets: downloading %s: %s", f.URL, resp.Status)
	}
	dst := local(dir, f)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.Path, err)
	}
	// The download lands beside dst and replaces it only once verified.
	tmp, err := renameio.NewPendingFile(dst, renameio.WithTempDir(filepath.Dir(dst)))
	if err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.Path, err)
	}
	defer tmp.Cleanup()
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.URL, err)
	}
	if err := VerifyFile(tmp.Name(), f.Sum); err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.File = f.URL
		}
		return err
	}
	if err := tmp.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.URL, err)
	}
	return nil
}
