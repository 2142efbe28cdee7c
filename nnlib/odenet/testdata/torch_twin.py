#!/usr/bin/env python3
"""PyTorch twin of the ContinuousNet in nnlib/odenet: a standing test oracle.

What it is. An independent implementation, in plain PyTorch, of the network
that package odenet builds on nnlib's float32 tape, written the way the
authors of "Continuous-in-Depth Neural Networks" (Queiruga et al., arXiv
2008.02389) write it in PyTorch:

  * time-indexed 3x3 convolutions (a weight [K, C, C, 3, 3] and a bias [K, C]
    per conv, F.conv2d on the piece a stage reads),
  * one nn.BatchNorm2d module per piece (training mode: batch statistics, and
    running statistics updated on every call with momentum 0.1 and the
    unbiased batch variance, as PyTorch does),
  * the residual unit R(t, x) = eps * h(x; theta(t)) with h the ReLU-before-BN
    unit conv -> ReLU -> BN -> conv -> ReLU -> BN (the authors'
    ShallowConv2DODE),
  * an explicit Runge-Kutta loop over a Butcher tableau (euler, midpoint,
    rk4-classic, rk4-38) with Nt uniform steps on [0, 1]; stage i of step n
    sits at t = (n + c_i)/Nt and reads piece floor(t*K), clamped to K-1, so a
    stage exactly on a knot reads the piece that starts there (exact
    fractions, no float time),
  * the stitches out = Down(x) + h(x), Down a 1x1 stride-2 conv without bias,
    h = conv3x3/2 -> ReLU -> BN -> conv3x3 -> ReLU -> BN,
  * a stem conv3x3 (no bias) -> BN -> ReLU, global average pooling, a linear
    head, F.cross_entropy and torch.optim.SGD(lr, momentum, weight_decay),
  * refinement K -> 2K: every piece (conv weight and bias, the whole BN module
    with its running statistics) duplicated into two consecutive pieces, Nt
    doubled, and the optimiser re-created at the same learning rate.

Why. A second implementation in another framework catches what
self-consistency tests cannot: a layer order, BatchNorm semantics, a padding,
a tableau entry, the knot rule, the optimiser, refinement. It is derived from
the definition of the network, not translated from the Go code. The Go test
twin_test.go writes the initial states, the input batches and the
configuration, runs this script and compares what both compute.

Two properties of float32 training shape what is compared.

  * Gradients of a ReLU network jump at the kinks: a pre-activation within
    float32 rounding of 0 falls on either side depending on the order of a
    sum, and each such element moves some gradients (biases and BN
    parameters, which are sums that BatchNorm makes cancel) by up to a few
    percent. While it computes a gradient the twin therefore records every
    ReLU input within tau * max|x| of 0 (meta "kinks") and estimates, with a
    few backward passes of random-sign injections at those elements, how far
    flipping them can move each gradient tensor: the "kink" output, an RMS
    norm per tensor, of which the Go test allows a multiple on top of its
    tolerance.
  * Training with lr 0.1 and momentum 0.9 on 16-image batches is chaotic:
    float32 and float64 PyTorch runs of this very script part by 1e-2 in the
    loss within 5 steps and by O(1) in some tensors after 20. So multi-step
    training is compared by shadowing: for each step the twin starts from the
    Go model's state before that step (parameters, running statistics and
    SGD momentum), takes the step itself, and reports the loss and the state
    after it. The twin never takes optimiser state from Go where its own rule
    decides it: the first step starts without momentum, and at a refinement
    the twin refines Go's unrefined state and re-creates SGD itself.

Usage: torch_twin.py IN OUT. The input's meta says which cases to run for
which net ("eval", "step", "shadow", "short"); the Go test runs the script
twice, once for the cases that need only the initial states and once for
those that shadow its training.

Interchange format (both files): the 8 bytes b"CNTWIN01", a little-endian
uint64 header length, a UTF-8 JSON header {"meta": {...}, "tensors": [{"name",
"shape", "offset"}]}, then the tensors as little-endian float32, offsets in
elements. Tensors use the Go model's names and shapes: the per-piece
BatchNorm tensor "block0.bn1.weight" is [K, C], piece k being the module
block0.R.bn1[k] here. Integer labels travel as float32.
"""

import copy
import json
import math
import struct
import sys
import time
from fractions import Fraction

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"CNTWIN01"


# ---------------------------------------------------------------------------
# Interchange


def read_twin(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a twin file (magic {data[:8]!r})")
    (hlen,) = struct.unpack_from("<Q", data, 8)
    head = json.loads(data[16:16 + hlen].decode("utf-8"))
    flat = np.frombuffer(data, dtype="<f4", offset=16 + hlen)
    tensors = {}
    for e in head["tensors"]:
        n = math.prod(e["shape"])
        a = flat[e["offset"]:e["offset"] + n].astype(np.float32).reshape(e["shape"])
        tensors[e["name"]] = torch.from_numpy(a.copy())
    return head["meta"], tensors


def write_twin(path, meta, tensors):
    entries, chunks, off = [], [], 0
    for name, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").reshape(-1)
        entries.append({"name": name, "shape": list(t.shape), "offset": off})
        chunks.append(a.tobytes())
        off += a.size
    head = json.dumps({"meta": meta, "tensors": entries}).encode("utf-8")
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)


# ---------------------------------------------------------------------------
# Butcher tableaus (c, A, b), exact.

Fr = Fraction
TABLEAUS = {
    "euler": ([Fr(0)], [[]], [Fr(1)]),
    "midpoint": ([Fr(0), Fr(1, 2)], [[], [Fr(1, 2)]], [Fr(0), Fr(1)]),
    "rk4-classic": (
        [Fr(0), Fr(1, 2), Fr(1, 2), Fr(1)],
        [[], [Fr(1, 2)], [Fr(0), Fr(1, 2)], [Fr(0), Fr(0), Fr(1)]],
        [Fr(1, 6), Fr(1, 3), Fr(1, 3), Fr(1, 6)],
    ),
    # The 3/8 rule (torchdiffeq's "rk4").
    "rk4-38": (
        [Fr(0), Fr(1, 3), Fr(2, 3), Fr(1)],
        [[], [Fr(1, 3)], [Fr(-1, 3), Fr(1)], [Fr(1), Fr(-1), Fr(1)]],
        [Fr(1, 8), Fr(3, 8), Fr(3, 8), Fr(1, 8)],
    ),
}


def piece_at(t, k):
    """Piece of a K-piece piecewise-constant theta(t) read at time t (a
    Fraction): piece j covers [j/K, (j+1)/K), so a time on a knot reads the
    piece that starts there; t = 1 reads the last piece."""
    return min(math.floor(t * k), k - 1)


# ---------------------------------------------------------------------------
# ReLU with a watch on its kinks


class KinkWatch:
    """While recording, remembers every ReLU input element within
    tau * max|x| of 0 (per call), with the tensors needed to backpropagate a
    flip of its ReLU decision."""

    def __init__(self):
        self.records = None
        self.tau = 0.0

    def start(self, tau):
        self.records, self.tau = [], tau

    def stop(self):
        recs, self.records = self.records, None
        return recs


KINKS = KinkWatch()


def relu(x):
    y = F.relu(x)
    if KINKS.records is not None and x.requires_grad:
        a = x.detach().abs()
        near = a <= KINKS.tau * a.max()
        if bool(near.any()):
            y.retain_grad()
            KINKS.records.append((x, y, near))
    return y


def kink_spread(net, records, rounds, gen):
    """RMS norm, per Go tensor, of the gradient change that flipping the
    recorded ReLU decisions with random signs causes: sqrt(sum_e |D_e|^2)
    estimated from `rounds` random-sign backward passes, D_e being the
    gradient change from flipping element e (its upstream gradient injected
    at the ReLU input). Call after loss.backward(retain_graph=True)."""
    named = list(net.named_parameters())
    acc = {go_name(n)[0]: 0.0 for n, _ in named}
    recs = [(x, y, m) for x, y, m in records if y.grad is not None]
    if recs:
        for _ in range(rounds):
            injs = []
            for x, y, m in recs:
                sign = torch.randint(0, 2, x.shape, generator=gen).to(x.dtype) * 2 - 1
                injs.append(torch.where(m, sign * y.grad, torch.zeros_like(x)))
            gs = torch.autograd.grad([x for x, _, _ in recs], [p for _, p in named], grad_outputs=injs,
                                     retain_graph=True, allow_unused=True)
            for (n, _), g in zip(named, gs):
                if g is not None:
                    acc[go_name(n)[0]] += float(g.double().pow(2).sum()) / rounds
    return {n: torch.tensor([math.sqrt(v)]) for n, v in acc.items()}


# ---------------------------------------------------------------------------
# The network


class Conv2DODE(nn.Module):
    """3x3 conv, padding 1, with bias, whose weights are piecewise constant
    in depth: weight [K, C, C, 3, 3], bias [K, C]."""

    def __init__(self, c, k):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k, c, c, 3, 3))
        self.bias = nn.Parameter(torch.zeros(k, c))

    def forward(self, x, piece):
        return F.conv2d(x, self.weight[piece], self.bias[piece], stride=1, padding=1)


def bn(c, momentum, eps):
    return nn.BatchNorm2d(c, eps=eps, momentum=momentum)


class ShallowConv2DODE(nn.Module):
    """R(t, x) = eps * h(x; theta(t)), h = conv -> ReLU -> BN -> conv -> ReLU -> BN,
    with per-piece BatchNorm modules chosen by the stage time."""

    def __init__(self, c, k, eps, bn_momentum, bn_eps):
        super().__init__()
        self.k, self.eps = k, eps
        self.conv1 = Conv2DODE(c, k)
        self.bn1 = nn.ModuleList([bn(c, bn_momentum, bn_eps) for _ in range(k)])
        self.conv2 = Conv2DODE(c, k)
        self.bn2 = nn.ModuleList([bn(c, bn_momentum, bn_eps) for _ in range(k)])

    def forward(self, t, x):
        p = piece_at(t, self.k)
        h = self.bn1[p](relu(self.conv1(x, p)))
        h = self.bn2[p](relu(self.conv2(h, p)))
        return self.eps * h

    def refine(self):
        """K -> 2K: piece j becomes pieces 2j and 2j+1 (exact copies)."""
        for conv in (self.conv1, self.conv2):
            conv.weight = nn.Parameter(conv.weight.detach().repeat_interleave(2, dim=0).clone())
            conv.bias = nn.Parameter(conv.bias.detach().repeat_interleave(2, dim=0).clone())
        for name in ("bn1", "bn2"):
            old = getattr(self, name)
            setattr(self, name, nn.ModuleList([copy.deepcopy(m) for m in old for _ in range(2)]))
        self.k *= 2


class ODEBlock(nn.Module):
    """x(1) of dx/dt = R(t, x), x(0) = x, by Nt explicit Runge-Kutta steps."""

    def __init__(self, c, k, eps, scheme, nt, bn_momentum, bn_eps):
        super().__init__()
        self.R = ShallowConv2DODE(c, k, eps, bn_momentum, bn_eps)
        self.scheme, self.nt = scheme, nt

    def forward(self, x):
        c, a, b = TABLEAUS[self.scheme]
        dt = Fraction(1, self.nt)
        for n in range(self.nt):
            t0 = n * dt
            ks = []
            for i in range(len(c)):
                xi = x
                for j in range(i):
                    if a[i][j] != 0:
                        xi = xi + float(dt * a[i][j]) * ks[j]
                ks.append(self.R(t0 + c[i] * dt, xi))
            for i in range(len(c)):
                if b[i] != 0:
                    x = x + float(dt * b[i]) * ks[i]
        return x


class ODEStitch(nn.Module):
    """out = Down(x) + h(x): Down = 1x1 stride-2 conv without bias;
    h = conv3x3/2 -> ReLU -> BN -> conv3x3 -> ReLU -> BN."""

    def __init__(self, cin, cout, bn_momentum, bn_eps):
        super().__init__()
        self.down = nn.Conv2d(cin, cout, 1, stride=2, padding=0, bias=False)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=True)
        self.bn1 = bn(cout, bn_momentum, bn_eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=True)
        self.bn2 = bn(cout, bn_momentum, bn_eps)

    def forward(self, x):
        h = self.bn1(relu(self.conv1(x)))
        h = self.bn2(relu(self.conv2(h)))
        return self.down(x) + h


class Stem(nn.Module):
    def __init__(self, cin, cout, bn_momentum, bn_eps):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False)
        self.bn = bn(cout, bn_momentum, bn_eps)

    def forward(self, x):
        return relu(self.bn(self.conv(x)))


class ContinuousNet(nn.Module):
    """stem -> OdeBlock(a) -> stitch -> OdeBlock(2a) -> stitch -> OdeBlock(4a)
    -> global average pool -> linear."""

    def __init__(self, model, k, scheme, nt):
        super().__init__()
        a, mom, eps = model["width"], model["bn_momentum"], model["bn_eps"]
        self.stem = Stem(model["in_channels"], a, mom, eps)
        widths = [a, 2 * a, 4 * a]
        for i, c in enumerate(widths):
            setattr(self, f"block{i}", ODEBlock(c, k, model["epsilon"], scheme, nt, mom, eps))
            if i < 2:
                setattr(self, f"stitch{i}", ODEStitch(c, widths[i + 1], mom, eps))
        self.fc = nn.Linear(4 * a, model["classes"])

    def blocks(self):
        return [self.block0, self.block1, self.block2]

    def set_manifestation(self, scheme, nt):
        for b in self.blocks():
            b.scheme, b.nt = scheme, nt

    def refine(self):
        for b in self.blocks():
            b.R.refine()
            b.nt *= 2

    def forward(self, x):
        h = self.stem(x)
        h = self.stitch0(self.block0(h))
        h = self.stitch1(self.block1(h))
        h = self.block2(h)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.fc(h)


# ---------------------------------------------------------------------------
# Names: torch state <-> the Go model's tensors.


def go_name(torch_name):
    """(Go name, piece) of a torch name: "block0.R.bn1.3.weight" is piece 3
    of "block0.bn1.weight"; "block0.R.conv1.weight" is "block0.conv1.weight";
    other names are the same. piece is None for whole tensors."""
    parts = torch_name.split(".")
    if parts[0].startswith("block") and len(parts) > 1 and parts[1] == "R":
        parts = [parts[0]] + parts[2:]
        if parts[1].startswith("bn"):
            return ".".join(parts[:2] + parts[3:]), int(parts[2])
    return ".".join(parts), None


def go_tensors(named):
    """Map torch (name, tensor) pairs to Go names, stacking per-piece BN
    tensors along a leading piece axis."""
    out, pieces = {}, {}
    for name, t in named:
        g, p = go_name(name)
        if p is None:
            out[g] = t.detach().clone()
        else:
            pieces.setdefault(g, {})[p] = t.detach().clone()
    for g, d in pieces.items():
        out[g] = torch.stack([d[p] for p in range(len(d))])
    return out


def state_entries(net):
    """Parameters and BN running statistics (num_batches_tracked is unused
    with a fixed momentum)."""
    return [(n, t) for n, t in net.state_dict().items() if not n.endswith("num_batches_tracked")]


def go_slice(tensors, key, piece, like, what):
    if key not in tensors:
        raise KeyError(f"twin: no tensor {key} for torch {what}")
    src = tensors[key] if piece is None else tensors[key][piece]
    if tuple(src.shape) != tuple(like.shape):
        raise ValueError(f"twin: {key} has shape {tuple(src.shape)}, torch {what} {tuple(like.shape)}")
    return src


def load_state(net, tensors, prefix):
    """Load every parameter and running statistic from prefix + Go name;
    every tensor under prefix must be used."""
    used = set()
    with torch.no_grad():
        for name, t in state_entries(net):
            g, p = go_name(name)
            t.copy_(go_slice(tensors, prefix + g, p, t, name))
            used.add(prefix + g)
    extra = sorted(k for k in tensors if k.startswith(prefix) and k not in used)
    if extra:
        raise KeyError(f"twin: the Go model has tensors the twin does not know: {extra}")


def load_momentum(net, opt, tensors, prefix):
    for name, p in net.named_parameters():
        g, piece = go_name(name)
        opt.state[p]["momentum_buffer"] = go_slice(tensors, prefix + g, piece, p, name + " momentum").clone()


def out_params(out, net, prefix):
    out.update({prefix + n: t for n, t in go_tensors(net.named_parameters()).items()})


def out_buffers(out, net, prefix):
    out.update({prefix + n: t for n, t in go_tensors(net.named_buffers()).items()
                if not n.endswith("num_batches_tracked")})


def out_grads(out, net, prefix):
    named = ((n, p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in net.named_parameters())
    out.update({prefix + n: t for n, t in go_tensors(named).items()})


def out_momentum(out, net, opt, prefix):
    named = ((n, opt.state[p]["momentum_buffer"]) for n, p in net.named_parameters())
    out.update({prefix + n: t for n, t in go_tensors(named).items()})


# ---------------------------------------------------------------------------
# Driver


def check_model(model):
    want = {"unit": "conv-relu-bn", "stem": "3x3", "skip_init": False, "final_bn": False,
            "knot_rule": "next-piece", "basis": "piecewise-constant"}
    for k, v in want.items():
        if model.get(k) != v:
            raise NotImplementedError(f"twin: model {k} = {model.get(k)!r}; the twin implements {k} = {v!r} only")


class Twin:
    def __init__(self, meta, tensors):
        self.meta, self.T = meta, tensors
        self.model = meta["model"]
        check_model(self.model)
        self.sgd = meta["sgd"]
        self.tau, self.rounds = meta["kinks"]["tau"], meta["kinks"]["rounds"]
        self.gen = torch.Generator().manual_seed(meta["kinks"]["seed"])
        self.batches = []
        for i in range(meta["batches"]):
            x = tensors[f"batch/{i}/x"].permute(1, 0, 2, 3).contiguous()  # channel-major [C, N, H, W] -> NCHW
            y = tensors[f"batch/{i}/y"].round().long()
            self.batches.append((x, y))
        self.out = {}
        self.seconds = {}

    def timed(self, what, since):
        self.seconds[what] = self.seconds.get(what, 0.0) + time.perf_counter() - since

    def net(self, k, scheme, nt, state):
        net = ContinuousNet(self.model, k, scheme, nt)
        load_state(net, self.T, state)
        return net

    def opt(self, net):
        s = self.sgd
        return torch.optim.SGD(net.parameters(), lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])

    def step(self, net, opt, batch, prefix):
        """One training-mode step: writes loss, gradients, their kink spread
        and the running statistics under prefix; then the optimiser step."""
        x, y = self.batches[batch]
        net.train()
        net.zero_grad(set_to_none=True)
        KINKS.start(self.tau)
        try:
            loss = F.cross_entropy(net(x), y)
        finally:
            records = KINKS.stop()
        loss.backward(retain_graph=True)
        self.out[prefix + "loss"] = loss.detach().reshape(1)
        out_grads(self.out, net, prefix + "grad/")
        self.out.update({prefix + "kink/" + n: v for n, v in kink_spread(net, records, self.rounds, self.gen).items()})
        out_buffers(self.out, net, prefix + "buffer/")
        if opt is not None:
            opt.step()

    def eval_logits(self, net, batch):
        net.eval()
        with torch.no_grad():
            return net(self.batches[batch][0])

    def run(self, spec):
        pre = f"net/{spec['name']}/"
        init = pre + "init/"
        k, scheme, nt = spec["k"], spec["scheme"], spec["steps"]

        # 1. Evaluation-mode logits under every manifestation.
        if "eval" in spec:
            t0 = time.perf_counter()
            ev = spec["eval"]
            net = self.net(k, scheme, nt, init)
            for s in ev["schemes"]:
                for m in ev["nts"]:
                    net.set_manifestation(s, m)
                    self.out[f"{pre}eval/{s}/nt={m}/logits"] = self.eval_logits(net, ev["batch"])
            self.timed("1 eval", t0)

        # 2. One training-mode step.
        if "step" in spec:
            t0 = time.perf_counter()
            self.step(self.net(k, scheme, nt, init), None, spec["step"]["batch"], pre + "step/")
            self.timed("2 step", t0)

        # 3, 4. Shadowed SGD steps: from the Go model's state before the
        # step. A full shadow takes the step (gradients, kink spreads,
        # momentum, parameters); a light one only the training-mode forward
        # pass (loss, running statistics).
        for sh in spec.get("shadow", []):
            t0 = time.perf_counter()
            net = self.net(sh["k"], scheme, sh["nt"], sh["state"])
            if sh["refine"]:
                net.refine()
                out_params(self.out, net, sh["out"] + "refined/")
                out_buffers(self.out, net, sh["out"] + "refined/")
            if sh["full"]:
                opt = self.opt(net)
                if sh["momentum"]:
                    load_momentum(net, opt, self.T, sh["momentum"])
                self.step(net, opt, sh["batch"], sh["out"])
                out_momentum(self.out, net, opt, sh["out"] + "momentum/")
                out_params(self.out, net, sh["out"] + "param/")
            else:
                x, y = self.batches[sh["batch"]]
                net.train()
                with torch.no_grad():
                    self.out[sh["out"] + "loss"] = F.cross_entropy(net(x), y).reshape(1)
                out_buffers(self.out, net, sh["out"] + "buffer/")
            self.timed("3-4 shadow " + ("full" if sh["full"] else "light"), t0)

        # 5. One step on the short batch, then evaluation logits (of the Go
        # model's state after its step, so that they test the evaluation
        # after a short-batch update and not the kinks of the update).
        if "short" in spec:
            t0 = time.perf_counter()
            sh = spec["short"]
            net = self.net(k, scheme, nt, init)
            opt = self.opt(net)
            self.step(net, opt, sh["batch"], pre + "short/")
            out_params(self.out, net, pre + "short/param/")
            self.out[pre + "short/logits"] = self.eval_logits(self.net(k, scheme, nt, sh["after"]), sh["eval_batch"])
            self.timed("5 short", t0)


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: torch_twin.py IN OUT")
    if sys.byteorder != "little":
        sys.exit("twin: the interchange assumes a little-endian host")
    meta, tensors = read_twin(argv[1])
    twin = Twin(meta, tensors)
    for spec in meta["nets"]:
        twin.run(spec)
    write_twin(argv[2], {"torch": torch.__version__, "threads": torch.get_num_threads(),
                         "seconds": {k: round(v, 2) for k, v in twin.seconds.items()}}, twin.out)


if __name__ == "__main__":
    main(sys.argv)
