package paper_test

import (
	"fmt"

	"github.com/continuousnet/repro/paper"
)

// Judge the quick-profile criteria of claim (d) against measured values.
func ExampleJudge() {
	var es []paper.Entry
	for _, e := range paper.ForProfile("quick") {
		if e.Claim == "d" {
			es = append(es, e)
		}
	}
	measured := map[string]float64{
		"coarsening/summary rk438_nt2_vs_nt4_drop_pts":       1.2,
		"coarsening/summary rk438_nt4_over_nt2_time":         1.5,
		"coarsening/train/rk4-classic-refined acc_full_test": 0.71,
	}
	lookup := func(exp, run, metric string) (float64, string, string, bool) {
		v, ok := measured[exp+"/"+run+" "+metric]
		if !ok {
			return 0, "", "", false
		}
		return v, paper.StatusOK, "", true
	}
	for _, v := range paper.Judge(es, lookup) {
		fmt.Printf("%s measured %s, criterion %s: %s %q\n", v.Metric, v.Measured, v.Tolerance, v.Verdict, v.Reason)
	}
	// Output:
	// rk438_nt2_vs_nt4_drop_pts measured 1.2, criterion <= 3: PASS ""
	// rk438_nt4_over_nt2_time measured 1.5, criterion >= 1.7: FAIL "below 1.7"
}

// Count the entries per claim and profile.
func ExampleCounts() {
	n := 0
	for _, c := range paper.Counts() {
		if c.Profile == "quick" {
			n += c.N
		}
	}
	fmt.Println("quick-profile criteria:", n)
	// Output: quick-profile criteria: 14
}
