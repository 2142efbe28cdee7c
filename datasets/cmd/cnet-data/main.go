// Command cnet-data locates and verifies the datasets (`make data`).
//
// It chooses the data directory (-data, then $CNET_DATA, then the default
// folder in the user's cache), and for every dataset prints where it was
// found, its format, the checksum check, the number of images per split and
// per class, its fingerprint and its status. A missing dataset is reported
// with its official download address, file name and checksum, and is
// downloaded (verified, then renamed into place) unless -download=false.
// The exit status is 0 when every dataset present verifies, 1 otherwise,
// 2 on bad usage.
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
	ok := true
	for _, name := range datasets.DatasetNames() {
		if !c.check(name) {
			ok = false
		}
	}
	if !ok {
		fmt.Fprintln(stdout, "\nresult: FAILED — a dataset present in the data directory did not verify (see above)")
		return 1
	}
	fmt.Fprintln(stdout, "\nresult: every dataset present verifies")
	return 0
}

type checker struct {
	dir      string
	out      io.Writer
	download bool
	ctx      context.Context
	client   *http.Client
	mirror   string
}

// check reports on every form of dataset name; false when a present form
// fails to load or verify.
func (c *checker) check(name string) bool {
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
	if present > 0 {
		return ok
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
			return ok
		}
		for _, f := range s.Missing(c.dir) {
			if c.mirror != "" {
				f.URL = strings.TrimSuffix(c.mirror, "/") + "/" + path.Base(f.Path)
			}
			fmt.Fprintf(c.out, "  download: %s ... ", f.URL)
			if err := datasets.Download(c.ctx, c.client, c.dir, f); err != nil {
				fmt.Fprintf(c.out, "failed: %v\n", err)
				return ok
			}
			fmt.Fprintf(c.out, "done, verified\n")
		}
		return c.verify(s) && ok
	}
	return ok
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
