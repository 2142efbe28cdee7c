package main

import (
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
)

// costModelFile is the committed cost model of -plan, relative to the
// repository root; `make costmodel` (-fit-costs) rewrites it from the
// records of the runs of record.
const costModelFile = "experiments/costmodel.json"

// costModelRecords is the folder of the runs of record the model is fitted
// from: the quick profile's committed records. (The smoke profile's tiny
// nets measure overheads, not the costs of the profiles that matter.)
const costModelRecords = "results/runs"

//go:embed costmodel.json
var costModelJSON []byte

// costModel returns the embedded cost model; a damaged one is reported on
// w and -plan goes on with the cache's measured costs alone.
func costModel(w io.Writer) *harness.CostModel {
	m, err := harness.ParseCostModel(costModelFile, costModelJSON)
	if err != nil {
		fmt.Fprintf(w, "experiments: %v; estimates from the cache's measured costs only\n", err)
		return nil
	}
	return m
}

// estimateOptions are the options of harness.Estimate for this invocation.
func estimateOptions(w io.Writer, root string, jobs, threads int, force bool) harness.EstimateOptions {
	return harness.EstimateOptions{Root: root, Jobs: jobs, Threads: threads, Force: force,
		Model: costModel(w), ModelPath: costModelFile, Level: kernelLevel()}
}

// fitCosts refits the cost model from the records under root's
// costModelRecords and writes costModelFile, keeping the committed model's
// level factors and CPU notes.
func fitCosts(stdout, stderr io.Writer, root string) int {
	recs, err := harness.Records(filepath.Join(root, filepath.Dir(costModelRecords))) // reads <results>/runs
	if err != nil {
		fmt.Fprintf(stderr, "experiments: -fit-costs: %v\n", err)
		return 1
	}
	path := filepath.Join(root, costModelFile)
	var prev *harness.CostModel
	if data, err := os.ReadFile(path); err == nil {
		if prev, err = harness.ParseCostModel(costModelFile, data); err != nil {
			fmt.Fprintf(stderr, "experiments: -fit-costs: %v\n", err)
			return 1
		}
	}
	m, err := harness.FitCostModel(recs, costModelRecords, prev)
	if err != nil {
		fmt.Fprintf(stderr, "experiments: -fit-costs: %s: %v\n", costModelRecords, err)
		return 1
	}
	if len(m.Machines) == 0 {
		fmt.Fprintf(stderr, "experiments: -fit-costs: no record under %s measures work -plan can estimate; nothing written\n", costModelRecords)
		return 1
	}
	data, err := m.Marshal()
	if err == nil {
		err = record.WriteFileAtomic(path, data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "experiments: -fit-costs: %v\n", err)
		return 1
	}
	for _, mc := range m.Machines {
		fmt.Fprintf(stdout, "%s\n", m.Describe(mc))
		for _, class := range sortedClasses(mc) {
			c := mc.Classes[class]
			fmt.Fprintf(stdout, "  %-12s %.3g s/item + %.3g s/unit (%d parts, largest error %.0f %%)\n", class, c.PerItem, c.PerUnit, c.Samples, 100*c.MaxErr)
		}
	}
	fmt.Fprintf(stdout, "wrote %s from %d records in %s\n", costModelFile, len(recs), costModelRecords)
	return 0
}

func sortedClasses(mc *harness.CostMachine) []string {
	return slices.Sorted(maps.Keys(mc.Classes))
}
