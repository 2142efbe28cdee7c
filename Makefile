# ContinuousNet reproduction harness. `make help` lists the targets.
GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# nnlib threads per run. 0 is the harness's rule: shared runs get GOMAXPROCS/jobs threads, timing (exclusive) runs
# run alone with all cores (ResNet-20 step at batch 128 on 2 cores: ≈ 390 ms on 1 thread, ≈ 220 ms on 2).
# `make reproduce THREADS=1` pins every run to one thread.
THREADS ?= 0
EXP = $(GO) run ./experiments -threads $(THREADS)

.PHONY: help test slurm-test fmt vet lint unit purego race generated reproduce costmodel figure3 figure4 table1 coarsening extensions smoke tables figures data bench fuzz generate compare

help:
	@echo "make reproduce   run every experiment at the quick profile (results/, figures/, results/reproduction.md)"
	@echo "make test        vet, staticcheck, unit tests, pure-Go kernel leg (CI runs: make test slurm-test)"
	@echo "make slurm-test  -submit slurm against a one-node Slurm brought up here (installs Debian's Slurm: root)"
	@echo "make figure3     the pendulum convergence test (claim a)"
	@echo "make figure4     the CIFAR-10 manifestation sweep (claims a, b)"
	@echo "make table1      incremental-in-depth training (claim c)"
	@echo "make coarsening  post-training Nt-coarsening (claim d)"
	@echo "make extensions  opt-in, beyond the paper: θ-coarsening vs Nt-coarsening, the piecewise-linear basis"
	@echo "make smoke       every experiment at the smoke profile (results/smoke/)"
	@echo "make tables figures  regenerate outputs from result records alone"
	@echo "make data        locate and verify the datasets (CNET_DATA)"
	@echo "make costmodel   refit -plan's cost model (experiments/costmodel.json) from the runs of record"
	@echo "make bench       kernel and training-step benchmarks"
	@echo "make compare     nnlib against PyTorch and OpenBLAS, interleaved rounds (nothing else running)"
	@echo "make fuzz        long fuzzing of parsers and readers"

test: fmt vet lint unit purego race generated

# -submit slurm against a real one-node Slurm started for the test and stopped after it (installs Debian's
# slurmctld slurmd slurm-client munge when missing, which needs root).
slurm-test:
	.ci/slurm-test

# gofmt: fails listing the files it would change.
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test ./...

purego:
	$(GO) test -tags purego -short ./nnlib/...

# The race detector over nnlib and the whole harness (its runs, kinds, report and trainers use goroutines).
race:
	$(GO) test -race -short ./nnlib/... ./experiments/...

# The committed assembly is what its generator writes.
generated:
	$(GO) generate ./...
	@git diff --quiet -- nnlib/internal/kernels || { echo "go generate changed nnlib/internal/kernels: commit the generator's output"; git diff --stat -- nnlib/internal/kernels; exit 1; }

reproduce:
	$(EXP) -profile quick

figure3:
	$(EXP) -profile quick -only '^resnets-as-integrators$$'

figure4:
	$(EXP) -profile quick -only '^rk-consistency$$'

table1:
	$(EXP) -profile quick -only '^incremental-training$$'

coarsening:
	$(EXP) -profile quick -only '^coarsening$$'

# Opt-in (not part of reproduce or smoke): experiments beyond the paper's claims, no verdicts.
extensions:
	$(EXP) -profile quick -only '^extensions$$'

smoke:
	$(EXP) -profile smoke

# The cost model of -plan, refitted from the committed runs of record (results/runs); commit it with them.
costmodel:
	$(GO) run ./experiments -fit-costs

tables:
	$(EXP) -tables

figures:
	$(EXP) -figures

data:
	$(GO) run ./datasets/cmd/cnet-data

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./nnlib/...

# Side by side with PyTorch (python3-torch) and OpenBLAS (libopenblas-dev): the table of nnlib/README.md.
compare:
	/usr/bin/python3 nnlib/testdata/bench/compare.py --rounds 3

FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCIFARBinary$$' -fuzztime $(FUZZTIME) ./datasets/
	$(GO) test -run '^$$' -fuzz '^FuzzIDX$$' -fuzztime $(FUZZTIME) ./datasets/
	$(GO) test -run '^$$' -fuzz '^FuzzImageFolder$$' -fuzztime $(FUZZTIME) ./datasets/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./experiments/internal/spec/
	$(GO) test -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZTIME) ./experiments/internal/harness/
	$(GO) test -run '^$$' -fuzz '^FuzzReadCheckpoint$$' -fuzztime $(FUZZTIME) ./nnlib/

generate:
	$(GO) generate ./...
