package claims

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/record"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// A tiny Euler net refined 1 → 2 → 4 at epochs 1 and 3: cheap, and an
// interruption after epoch 1 exercises the optimizer state (epoch 2 has no
// refinement to reset it) and the refinement noise stream (used again at 3).
const resumeSpec = `name: resume
runs:
  - name: train/euler-refined
    kind: cifar-train
    seed: 3
    params:
      {dataset: cifar10, train_per_class: 12, eval_per_class: 5, final_per_class: 5, subset_seed: 0, crop_pad: 4, flip: true,
       width: 4, stem: 3x3, unit: conv-relu-bn, bn: per-piece, final_bn: false, skip_init: false, skip_init_value: 0,
       epsilon: 1, scheme: euler, k0: 1, knot_rule: next-piece, refine_epochs: [1, 3], refine_noise: 0.1,
       refine_reset_opt: true, epochs: 5, batch: 64, drop_last: false, lr: 0.1, momentum: 0.9, weight_decay: 5.0e-4, lr_steps: [2],
       lr_gamma: 0.1, eval_every: 1, eval_batch: 64}
`

// execute runs plan into dir; with interrupt, the execution is cancelled
// once the checkpoint has grown (the first one written after the
// refinement at epoch 1).
func execute(t *testing.T, plan *harness.Plan, dir string, interrupt bool) (*harness.Summary, *record.Record) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cache := filepath.Join(dir, "cache")
	if interrupt {
		go func() {
			first := int64(-1)
			for ctx.Err() == nil {
				if m, _ := filepath.Glob(filepath.Join(cache, "runs", "*", "checkpoint")); len(m) > 0 {
					if fi, err := os.Stat(m[0]); err == nil {
						if first < 0 {
							first = fi.Size()
						} else if fi.Size() != first {
							cancel()
							return
						}
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var out bytes.Buffer
	opt := harness.Options{Cache: &harness.Cache{Dir: cache}, ResultsDir: filepath.Join(dir, "results"), Jobs: 1, Out: &out, Host: testHost}
	sum, err := harness.Execute(ctx, plan, opt)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, out.String())
	}
	r, _ := record.Read(harness.RecordPath(opt.ResultsDir, "resume", "train/euler-refined"))
	return sum, r
}

// computed is what must not depend on an interruption: everything but the
// training time.
func computed(t *testing.T, r *record.Record) string {
	t.Helper()
	m := map[string]float64{}
	for k, v := range r.Metrics {
		if k != "train_seconds" {
			m[k] = v
		}
	}
	b, err := json.Marshal(struct {
		M map[string]float64
		S []record.Series
	}{m, r.Series})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A training run interrupted after its second epoch resumes from its
// checkpoint and ends with the numbers of an uninterrupted run.
func TestTrainResumesIdentically(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains three small nets")
	}
	requireCIFAR10(t)
	s, err := spec.Parse("resume.yaml", []byte(resumeSpec))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := harness.Resolve([]*spec.Spec{s}, spec.Quick)
	if err != nil {
		t.Fatal(err)
	}
	_, straight := execute(t, plan, t.TempDir(), false)
	if straight == nil || straight.Status != record.StatusOK {
		t.Fatalf("uninterrupted run: %+v", straight)
	}
	dir := t.TempDir()
	sum, _ := execute(t, plan, dir, true)
	if sum.Interrupted != 1 {
		t.Fatalf("the run was not interrupted (%s): the test proves nothing", sum)
	}
	sum, resumed := execute(t, plan, dir, false)
	if sum.Ran != 1 || resumed == nil || resumed.Status != record.StatusOK {
		t.Fatalf("resumed run: %s, %+v", sum, resumed)
	}
	if a, b := computed(t, straight), computed(t, resumed); a != b {
		t.Errorf("resumed run differs:\n straight %s\n resumed  %s", a, b)
	}
}
