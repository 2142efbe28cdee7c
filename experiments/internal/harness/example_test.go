package harness_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/continuousnet/repro/experiments/internal/harness"
	"github.com/continuousnet/repro/experiments/internal/spec"
)

// squareParams are the parameters of the example kind.
type squareParams struct {
	N int `yaml:"n" json:"n"`
}

func (p *squareParams) Validate() error {
	if p.N < 0 {
		return spec.Invalid("n", nil, "want n >= 0, got %d", p.N)
	}
	return nil
}

// square is a minimal kind: it squares n.
type square struct{}

func (square) Name() string              { return "example-square" }
func (square) Version() int              { return 1 }
func (square) NewParams() harness.Params { return &squareParams{} }
func (square) Exclusive() bool           { return false }
func (square) Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	n := env.Params.(*squareParams).N
	return &harness.Result{Metrics: map[string]float64{"square": float64(n * n)}}, nil
}

func Example() {
	harness.Register(square{})
	s, _ := spec.Parse("squares.yaml", []byte(`name: squares
runs:
  - name: sq/{n}
    kind: example-square
    matrix: {n: [2, 3]}
    params: {n: 0}
`))
	plan, err := harness.Resolve([]*spec.Spec{s}, spec.Quick)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	opt := harness.Options{Cache: &harness.Cache{Dir: filepath.Join(dir, "cache")}, ResultsDir: filepath.Join(dir, "results"), Jobs: 2, Host: host}
	for range 2 {
		sum, _ := harness.Execute(context.Background(), plan, opt)
		fmt.Println(sum.Ran, "ran,", sum.Cached, "cached")
	}
	recs, _ := harness.Records(opt.ResultsDir)
	for _, r := range recs {
		fmt.Println(r.Run, r.Metrics["square"])
	}
	// Output:
	// 2 ran, 0 cached
	// 0 ran, 2 cached
	// sq/2 4
	// sq/3 9
}
