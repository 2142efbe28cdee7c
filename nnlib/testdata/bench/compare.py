#!/usr/bin/python3
"""nnlib against PyTorch and OpenBLAS, side by side in one interleaved run (`make compare`).

Per round, for 1 and 2 threads: nnlib's training-step benchmarks (ResNet-20, euler-3, rk4-classic-1,
rk4-classic-4; batch 128), torch_reference.py on the same models, nnlib's Sgemm and OpenBLAS's cblas_sgemm at
n = 512 and 1024. Both sides are timed the same way: a training step as the best of 3 windows of at least 1 s
(torch_reference.py: 3 windows of 1 s; nnlib: -test.count 3 with -test.benchtime 1s, each count's mean), an
sgemm as the best of 3 repetitions of the product count openblas_sgemm.c prints (max(3, 3e10 / (2n³)); nnlib:
-test.count 3 with that -test.benchtime). The machines are shared and noisy, so the table compares medians over rounds of
ratios taken within a round. Nothing else may run meanwhile (no training, no tests).

Needs: python3-torch and libopenblas-dev (Debian), gcc, go. Run from the repository root:
  /usr/bin/python3 nnlib/testdata/bench/compare.py [--rounds 3] [--out FILE.md]
It names the CPU (model, `lscpu` family: 25 = Zen 4, 26 = Zen 5) and the kernel level nnlib ran in its header;
CNET_KERNELS=avx2 or avx512 in the environment measures that level (where the CPU supports it).
"""
import argparse, os, re, statistics, subprocess, sys, tempfile

MODELS = ["resnet20", "euler-3", "rk4-classic-1", "rk4-classic-4"]
SIZES = [512, 1024]
HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"compare.py: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def cpu():
    out = sh(["lscpu"])
    get = lambda k: (re.search(rf"^{k}:\s*(.+)$", out, re.M) or [None, "?"])[1].strip()
    return get("Model name"), get("CPU family")


def build(tmp):
    bins = {}
    for pkg, name in [("./nnlib", "nnlib"), ("./nnlib/odenet", "odenet"), ("./nnlib/internal/kernels", "kernels")]:
        bins[name] = os.path.join(tmp, name + ".test")
        sh(["go", "test", "-c", "-o", bins[name], pkg])
    bins["openblas"] = os.path.join(tmp, "openblas_sgemm")
    sh(["gcc", "-O2", os.path.join(HERE, "openblas_sgemm.c"), "-lopenblas", "-o", bins["openblas"]])
    return bins


def gobench(binary, pattern, metric, benchtime, best, *extra):
    """Runs one test binary's benchmarks matching pattern three times (-test.count 3) for benchtime each;
    returns {sub-benchmark name: best metric value (best = min or max)} and the output."""
    out = sh([binary, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime, "-test.count", "3", *extra])
    res = {}
    for line in out.splitlines():
        m = re.match(r"^Benchmark(\S+?)(-\d+)?\s+\d+\s+(.*)$", line)
        if m:
            v = re.search(rf"([\d.]+) {re.escape(metric)}", m.group(3))
            if v:
                name, x = m.group(1), float(v.group(1))
                res[name] = best(res[name], x) if name in res else x
    return res, out


def round_(bins, threads):
    """One round at one thread count: {item: (nnlib, reference)} in ms/step or GFLOP/s."""
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    clean.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    ours = {}
    res, _ = gobench(bins["nnlib"], f"^BenchmarkResNet20Step$/^threads={threads}$", "ns/op", "1s", min)
    ours["resnet20"] = res[f"ResNet20Step/threads={threads}"] / 1e6
    res, _ = gobench(bins["odenet"], f"^BenchmarkContinuousNetStep$/^({'|'.join(MODELS[1:])})$/^threads={threads}$", "ms/step", "1s", min)
    for m in MODELS[1:]:
        ours[m] = res[f"ContinuousNetStep/{m}/threads={threads}"]
    theirs = {}
    out = sh(["/usr/bin/python3", os.path.join(HERE, "torch_reference.py"), "--threads", str(threads),
              "--models", ",".join(MODELS)], env=clean)
    for line in out.splitlines():
        m = re.match(r"^(\S+): ([\d.]+) ms/step", line)
        if m:
            theirs[m.group(1)] = float(m.group(2))
    out = sh([bins["openblas"], str(threads)] + [str(n) for n in SIZES], env=clean)
    blas, iters = {}, {}
    for m in re.finditer(r"n=(\d+) ([\d.]+) GFLOP/s \(best of 3 repetitions of (\d+) products\)", out):
        blas[int(m.group(1))], iters[int(m.group(1))] = float(m.group(2)), int(m.group(3))
    res, log = {}, ""
    for n in SIZES:  # nnlib's repetitions as long as the OpenBLAS program's
        r, out = gobench(bins["kernels"], f"^BenchmarkSgemm$/^n={n}$/^threads={threads}$", "GFLOP/s", f"{iters[n]}x", max, "-test.v")
        res.update(r)
        log += out
    level = re.search(r"kernel level (\w+)", log)  # BenchmarkSgemm logs the level nnlib chose (printed with -test.v)
    rows = {m: (ours[m], theirs[m]) for m in MODELS}
    for n in SIZES:
        rows[f"sgemm n={n}"] = (res[f"Sgemm/n={n}/threads={threads}"], blas[n])
    return rows, level.group(1) if level else "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", help="also write the table to this Markdown file")
    a = p.parse_args()
    model, family = cpu()
    levels = set()
    with tempfile.TemporaryDirectory() as tmp:
        bins = build(tmp)
        runs = {1: [], 2: []}
        for r in range(a.rounds):
            for th in (1, 2):
                rows, level = round_(bins, th)
                runs[th].append(rows)
                levels.add(level)
                print(f"round {r + 1}/{a.rounds}, {th} thread(s) done", file=sys.stderr, flush=True)
    lines = [f"CPU: {model}, family {family}; nnlib kernels: {', '.join(sorted(levels))}; {a.rounds} interleaved rounds; "
             "training steps in ms/step at batch 128 (lower is better; best of 3 windows of ≥ 1 s), sgemm in GFLOP/s "
             "(higher is better; best of 3 repetitions), both sides alike.", "",
             "| item | threads | nnlib, median [rounds] | reference, median [rounds] | nnlib / reference (median of per-round ratios) |",
             "|---|---|---|---|---|"]
    for item in MODELS + [f"sgemm n={n}" for n in SIZES]:
        for th in (1, 2):
            ours = [rd[item][0] for rd in runs[th]]
            ref = [rd[item][1] for rd in runs[th]]
            ratio = statistics.median(o / t for o, t in zip(ours, ref))
            fmt = lambda xs: f"{statistics.median(xs):.0f} [{' '.join(f'{x:.0f}' for x in xs)}]"
            lines.append(f"| {item} | {th} | {fmt(ours)} | {fmt(ref)} | {ratio:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
