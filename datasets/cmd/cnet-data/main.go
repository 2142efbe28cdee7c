// Command cnet-data locates and verifies the datasets (`make data`).
//
// It chooses the data directory (-data, then $CNET_DATA, then the default
// folder in the user's cache), and for every dataset prints where it was
// found, its format, the checksum check, the number of images per split and
// per class, its fingerprint and its status. A missing dataset is reported
// with its official download address, file name and checksum, and is
// downloaded (verified, then renamed into place) unless -download=false.
// It ends with one line per dataset (verified, missing or failed) and, for
// each missing one, what the experiments will skip. The exit status is 0
// when every dataset present verifies and the default (quick) profile has
// all it needs, 1 otherwise, 2 on bad usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/continuousnet/repro/datasets"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cnet-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag := fs.String("data", "", "data directory (default: $"+datasets.EnvDataDir+", else the user cache folder)")
	download := fs.Bool("download", true, "download missing datasets from their official addresses")
	mirror := fs.String("mirror", "", "download from this base URL instead: the file name is appended to it")
	timeout := fs.Duration("timeout", 30*time.Minute, "time limit of all downloads together")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cnet-data: unexpected arguments %q\n", fs.Args())
		return 2
	}
	dir, from, err := datasets.DataDir(*dataFlag)
	if err != nil {
		fmt.Fprintln(stderr, "cnet-data:", err)
		return 1
	}
	fmt.Fprintf(stdout, "data directory: %s (from %s)\n", dir, from)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := checker{dir: dir, out: stdout, download: *download, ctx: ctx, client: http.DefaultClient, mirror: *mirror}
	status := map[string]string{}
	for _, name := range datasets.DatasetNames() {
		status[name] = c.check(name)
	}
	fmt.Fprintln(stdout, "\nsummary:")
	failed, quickMissing := false, false
	for _, name := range datasets.DatasetNames() {
		st := status[name]
		line := fmt.Sprintf("  %-14s %s", name, st)
		if st == statusMissing {
			line += ": " + orNone(usedBy[name])
			quickMissing = quickMissing || quickNeeds[name]
		}
		failed = failed || st == statusFailed
		fmt.Fprintln(stdout, line)
	}
	switch {
	case failed:
		fmt.Fprintln(stdout, "\nresult: FAILED — a dataset present in the data directory did not verify (see above)")
		return 1
	case quickMissing:
		fmt.Fprintln(stdout, "\nresult: INCOMPLETE — `make reproduce` needs a missing dataset: the claims that use it will SKIP (see the summary)")
		return 1
	}
	fmt.Fprintln(stdout, "\nresult: every dataset present verifies, and the quick profile has all it needs")
	return 0
}

// Statuses of a dataset in the summary.
const (
	statusOK      = "present and verified"
	statusMissing = "MISSING"
	statusFailed  = "FAILED (see above)"
)

// usedBy says what the experiments do without each dataset; quickNeeds
// marks those `make reproduce` (the quick profile) uses. Kept beside the
// experiment specs' dataset parameters by hand: a spec naming a new dataset
// adds it here.
var (
	usedBy = map[string]string{
		"cifar10":       "claims (b), (c), (d) and the CIFAR row of (a) SKIP (rk-consistency, incremental-training, coarsening)",
		"cifar100":      "the CIFAR-100 rows of Table 1 (paper profile) SKIP",
		"fashion-mnist": "",
	}
	quickNeeds = map[string]bool{"cifar10": true}
)

func orNone(s string) string {
	if s == "" {
		return "no experiment uses it"
	}
	return s
}

type checker struct {
	dir      string
	out      io.Writer
	download bool
	ctx      context.Context
	client   *http.Client
	mirror   string
}

// check reports on every form of dataset name and returns its status:
// statusFailed when a present form fails to load or verify, statusMissing
// when no form is present (and none could be downloaded), else statusOK.
func (c *checker) check(name string) string {
	var forms []datasets.Source
	for _, s := range datasets.Sources() {
		if s.Dataset == name {
			forms = append(forms, s)
		}
	}
	fmt.Fprintf(c.out, "\n== %s\n", name)
	present, ok := 0, true
	for _, s := range forms {
		if s.Present(c.dir) {
			present++
			if !c.verify(s) {
				ok = false
			}
		} else if missing := s.Missing(c.dir); len(missing) < len(s.Files) {
			fmt.Fprintf(c.out, "  source:   %s\n  format:   %s\n  status:   INCOMPLETE: %s is missing\n", s.Path(c.dir), s.Format, missing[0].Path)
			ok = false
		}
	}
	switch {
	case !ok:
		return statusFailed
	case present > 0:
		return statusOK
	}
	fmt.Fprintf(c.out, "  status:   MISSING\n")
	for _, s := range forms {
		if s.Files[0].URL == "" {
			continue
		}
		fmt.Fprintf(c.out, "  expected: %s (%s)\n", s.Path(c.dir), s.Format)
		for _, f := range s.Files {
			fmt.Fprintf(c.out, "    %s  %s  from %s\n", f.Path, f.Sum, f.URL)
		}
		if !c.download {
			fmt.Fprintf(c.out, "  download: skipped (-download=false)\n")
			return statusMissing
		}
		for _, f := range s.Missing(c.dir) {
			if c.mirror != "" {
				f.URL = strings.TrimSuffix(c.mirror, "/") + "/" + path.Base(f.Path)
			}
			fmt.Fprintf(c.out, "  download: %s ... ", f.URL)
			if err := datasets.Download(c.ctx, c.client, c.dir, f); err != nil {
				fmt.Fprintf(c.out, "failed: %v\n", err)
				return statusMissing
			}
			fmt.Fprintf(c.out, "done, verified\n")
		}
		if !c.verify(s) {
			return statusFailed
		}
		return statusOK
	}
	return statusMissing
}

// verify loads one present form and prints what it holds.
func (c *checker) verify(s datasets.Source) bool {
	fmt.Fprintf(c.out, "  source:   %s\n  format:   %s\n", s.Path(c.dir), s.Format)
	start := time.Now()
	sp, err := s.Load(c.dir)
	if err != nil {
		fmt.Fprintf(c.out, "  status:   FAILED: %v\n", err)
		return false
	}
	for _, f := range s.Files {
		if f.Sum.IsZero() {
			fmt.Fprintf(c.out, "  checksum: %s: none published (read and structure-checked only)\n", f.Path)
		} else {
			fmt.Fprintf(c.out, "  checksum: %s: %s OK\n", f.Path, f.Sum)
		}
	}
	if s.Note != "" {
		fmt.Fprintf(c.out, "  note:     %s\n", s.Note)
	}
	for _, d := range []*datasets.Dataset{sp.Train, sp.Test} {
		counts := d.ClassCounts()
		parts := make([]string, len(counts))
		for i, n := range counts {
			parts[i] = fmt.Sprintf("%s %d", d.Classes[i], n)
		}
		fmt.Fprintf(c.out, "  %-8s  %d images of %dx%dx%d; per class: %s\n", d.Name[strings.LastIndex(d.Name, "/")+1:]+":", d.Len(), d.C, d.H, d.W, strings.Join(parts, ", "))
		fmt.Fprintf(c.out, "            fingerprint %s\n", d.Fingerprint())
	}
	fmt.Fprintf(c.out, "  status:   OK (verified, read in %.1fs)\n", time.Since(start).Seconds())
	return true
}
