package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/continuousnet/repro/paper"
)

// table is a header and rows of cells, rendered as Markdown (tablewriter)
// or CSV (encoding/csv). title and notes frame the Markdown form only.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
}

func (t *table) add(cells ...string) {
	if len(cells) != len(t.header) {
		panic(fmt.Sprintf("report: table %q: row of %d cells, header of %d", t.title, len(cells), len(t.header)))
	}
	t.rows = append(t.rows, cells)
}

// markdown renders the table with tablewriter's Markdown renderer, under a
// heading and above its notes. Pipes in cells are escaped.
func (t *table) markdown() ([]byte, error) {
	var b bytes.Buffer
	if t.title != "" {
		fmt.Fprintf(&b, "# %s\n\n", t.title)
	}
	tab := tablewriter.NewTable(&b,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	)
	tab.Header(escapeCells(t.header))
	for _, r := range t.rows {
		if err := tab.Append(escapeCells(r)); err != nil {
			return nil, err
		}
	}
	if err := tab.Render(); err != nil {
		return nil, err
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.notes {
			fmt.Fprintf(&b, "%s\n", n)
		}
	}
	return b.Bytes(), nil
}

func escapeCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}

// csv renders the header and rows as CSV.
func (t *table) csv() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(t.header) // a bytes.Buffer does not fail
	_ = w.WriteAll(t.rows)
	return b.Bytes()
}

// verdictTables renders the verdicts as Markdown (with a per-claim count) and
// CSV (every field).
func verdictTables(profile string, vs []paper.Verdict) (md, csvb []byte, err error) {
	t := &table{
		title:  "Verdicts (profile " + profile + ")",
		header: []string{"claim", "experiment", "run", "metric", "reported", "measured", "per seed", "seeds pass", "tolerance", "profile", "verdict", "reason", "source"},
	}
	for _, v := range vs {
		t.add(v.Claim, v.Experiment, v.Run, v.Metric, v.Reported, orDash(v.Measured), orDash(perSeed(v, ", ")), orDash(seedsPass(v)),
			v.Tolerance, v.Profile, v.Verdict, v.Reason, v.Source)
	}
	t.notes = append(t.notes, verdictCounts(vs)...)
	t.notes = append(t.notes, "",
		"Sources as labelled in paper/README.md: [CODE] the authors' code, [NB] an authors' notebook output,",
		"[README] an authors' README, [INFERRED] a deduction (the pre-registered quick criteria are labelled so),",
		"[UNCONFIRMED] plausible but not verifiable. Accuracies are in percent, points (pts) are percentage points.",
		"Runs repeated over seeds: measured is mean ± sample sd (seeds with a value); the row is judged on the mean against",
		"the threshold and on each seed alone: PASS = the mean passes and a majority of seeds pass, FAIL = the mean fails",
		"and a majority of seeds fail, MIXED otherwise; a seed without a value (diverged, or its run did not finish) fails.",
		"Regenerated from the result records by `go run ./experiments -tables`; do not edit.")
	if md, err = t.markdown(); err != nil {
		return nil, nil, err
	}
	c := &table{header: []string{"id", "claim", "experiment", "run", "metric", "reported", "measured", "mean", "sd", "min", "max",
		"per_seed", "seeds", "seeds_pass", "tolerance", "profile", "verdict", "reason", "source", "location"}}
	for _, v := range vs {
		c.add(v.ID, v.Claim, v.Experiment, v.Run, v.Metric, v.Reported, v.Measured, csvNum(v.Value), csvNum(v.SD), csvNum(v.Min), csvNum(v.Max),
			perSeed(v, ";"), strconv.Itoa(v.Seeds), strconv.Itoa(v.SeedsPass), v.Tolerance, v.Profile, v.Verdict, v.Reason, v.Source, v.Location)
	}
	return md, c.csv(), nil
}

// verdictCounts returns one line per claim: "claim a: 5 PASS, 1 FAIL, …".
func verdictCounts(vs []paper.Verdict) []string {
	kinds := []string{paper.Pass, paper.Fail, paper.Mixed, paper.Skip, paper.Error}
	counts := map[string]map[string]int{}
	var claims []string
	for _, v := range vs {
		if counts[v.Claim] == nil {
			counts[v.Claim] = map[string]int{}
			claims = append(claims, v.Claim)
		}
		counts[v.Claim][v.Verdict]++
	}
	var out []string
	for _, c := range claims {
		var parts []string
		for _, k := range kinds {
			if n := counts[c][k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k))
			}
		}
		out = append(out, fmt.Sprintf("- claim %s: %s", c, strings.Join(parts, ", ")))
	}
	return out
}

// SummaryWidth is the widest line PrintSummary writes: the wide verdict
// table stays in results/verdicts.md and .csv.
const SummaryWidth = 100

// PrintSummary prints, for a terminal or a log, one line per claim — its
// verdict counts and its key row (the first that does not pass, else the
// first) — for the verdicts of the given experiments (all when nil), then
// the paths of the full tables. No line is wider than SummaryWidth runes.
func PrintSummary(w io.Writer, vs []paper.Verdict, experiments []string, tables ...string) error {
	var keep []paper.Verdict
	for _, v := range vs {
		if experiments == nil || slices.Contains(experiments, v.Experiment) {
			keep = append(keep, v)
		}
	}
	counts := verdictCounts(keep)
	var claims []string
	key := map[string]paper.Verdict{}
	for _, v := range keep {
		k, seen := key[v.Claim]
		if !seen {
			claims = append(claims, v.Claim)
		}
		if !seen || (k.Verdict == paper.Pass || k.Verdict == paper.Skip) && v.Verdict != paper.Pass && v.Verdict != paper.Skip {
			key[v.Claim] = v
		}
	}
	for i, c := range claims {
		k := key[c]
		line := strings.TrimPrefix(counts[i], "- ") + " · " + k.Metric + " " + orDash(k.Measured) + " (" + k.Tolerance + ") " + k.Verdict
		if _, err := fmt.Fprintln(w, clip(line, SummaryWidth)); err != nil {
			return err
		}
	}
	for _, t := range tables {
		if _, err := fmt.Fprintln(w, clip("full table: "+t, SummaryWidth)); err != nil {
			return err
		}
	}
	return nil
}

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// perSeed lists a multi-seed row's per-seed values ("" for one seed).
func perSeed(v paper.Verdict, sep string) string {
	if v.Seeds < 2 {
		return ""
	}
	parts := make([]string, len(v.PerSeed))
	for i, x := range v.PerSeed {
		parts[i] = num(x)
	}
	return strings.Join(parts, sep)
}

// seedsPass is "k/n" for a multi-seed row.
func seedsPass(v paper.Verdict) string {
	if v.Seeds < 2 {
		return ""
	}
	return fmt.Sprintf("%d/%d", v.SeedsPass, v.Seeds)
}

// csvNum writes a number in full precision for CSV, "" for NaN.
func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Number formats for tables.

// pct formats a fraction in [0,1] as a percentage with two decimals.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 2, 64)
}

// num formats with up to 4 significant digits.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// fixed formats with d decimals.
func fixed(v float64, d int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// metricOr returns the record metric or NaN.
func metricOr(m map[string]float64, name string) float64 {
	if v, ok := m[name]; ok {
		return v
	}
	return math.NaN()
}
