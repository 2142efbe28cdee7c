#!/usr/bin/env python3
"""PyTorch twin of the ContinuousNet in nnlib/odenet: a standing test oracle.

What it is. An independent implementation, in plain PyTorch, of the network
that package odenet builds on nnlib's float32 tape, written the way the
authors of "Continuous-in-Depth Neural Networks" (Queiruga et al., arXiv
2008.02389) write it in PyTorch:

  * time-indexed 3x3 convolutions (a weight [K, C, C, 3, 3] and a bias
    [K, C] per conv, F.conv2d on the piece a stage reads),
  * one nn.BatchNorm2d module per piece (training mode: batch statistics,
    running statistics updated on every call with momentum 0.1 and the
    unbiased batch variance, as PyTorch does),
  * the residual unit R(t, x) = eps * h(x; theta(t)) with h the ReLU-before-BN
    unit conv -> ReLU -> BN -> conv -> ReLU -> BN (the authors'
    ShallowConv2DODE),
  * an explicit Runge-Kutta loop over a Butcher tableau (euler, midpoint,
    rk4-classic, rk4-38), Nt uniform steps on [0, 1], stage i of step n at
    t = (n + c_i)/Nt, reading piece floor(t*K) clamped to K-1 (a stage exactly
    on a knot reads the piece that starts there; computed with exact
    fractions),
  * the stitches out = Down(x) + h(x), Down a 1x1 stride-2 conv without bias,
    h = conv3x3/2 -> ReLU -> BN -> conv3x3 -> ReLU -> BN,
  * stem conv3x3 (no bias) -> BN -> ReLU, global average pooling, a linear
    head, F.cross_entropy and torch.optim.SGD(lr, momentum, weight_decay),
  * refinement K -> 2K: every piece (conv weight and bias, the whole BN module
    with its running statistics) duplicated into two consecutive pieces, Nt
    doubled, and the optimiser re-created at the same learning rate.

Why. A second implementation in a different framework catches what
self-consistency tests cannot: a wrong layer order, BatchNorm semantics, a
padding, a tableau entry, the knot rule, the optimiser, refinement. It is
derived from the definition of the network, not translated from the Go code.
The Go test twin_test.go writes the initial state, the input batches and the
configuration, runs this script and compares what both compute.

Usage: torch_twin.py IN OUT

Interchange format (both files): the 8 bytes b"CNTWIN01", a little-endian
uint64 header length, a UTF-8 JSON header {"meta": {...}, "tensors": [{"name",
"shape", "offset"}]}, then the tensors as little-endian float32, offsets in
elements. Tensors use the Go model's names and shapes: a per-piece BatchNorm
tensor "block0.bn1.weight" is [K, C], piece k being the module bn1[k] here.
Integer labels travel as float32.
"""

import copy
import json
import math
import struct
import sys
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
        h = self.bn1[p](F.relu(self.conv1(x, p)))
        h = self.bn2[p](F.relu(self.conv2(h, p)))
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
        h = self.bn1(F.relu(self.conv1(x)))
        h = self.bn2(F.relu(self.conv2(h)))
        return self.down(x) + h


class Stem(nn.Module):
    def __init__(self, cin, cout, bn_momentum, bn_eps):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False)
        self.bn = bn(cout, bn_momentum, bn_eps)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


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
    """(Go name, piece) of a torch state name: "block0.R.bn1.3.weight" is
    piece 3 of "block0.bn1.weight"; "block0.R.conv1.weight" is
    "block0.conv1.weight"; other names are the same."""
    parts = torch_name.split(".")
    if parts[0].startswith("block") and parts[1] == "R":
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


def load_state(net, tensors, prefix):
    used = set()
    with torch.no_grad():
        for name, t in state_entries(net):
            g, p = go_name(name)
            key = prefix + g
            if key not in tensors:
                raise KeyError(f"twin: no tensor {key} for torch state {name}")
            src = tensors[key] if p is None else tensors[key][p]
            if tuple(src.shape) != tuple(t.shape):
                raise ValueError(f"twin: {key} has shape {tuple(src.shape)}, torch {name} {tuple(t.shape)}")
            t.copy_(src)
            used.add(key)
    extra = sorted(k for k in tensors if k.startswith(prefix) and k not in used)
    if extra:
        raise KeyError(f"twin: the Go model has tensors the twin does not know: {extra}")


def params_out(net, key):
    return {f"{key}/{n}": t for n, t in go_tensors(net.named_parameters()).items()}


def buffers_out(net, key):
    return {f"{key}/{n}": t for n, t in go_tensors(net.named_buffers()).items() if not n.endswith("num_batches_tracked")}


def grads_out(net, key):
    named = ((n, p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in net.named_parameters())
    return {f"{key}/{n}": t for n, t in go_tensors(named).items()}


# ---------------------------------------------------------------------------
# Driver


def check_model(model):
    want = {"unit": "conv-relu-bn", "stem": "3x3", "skip_init": False, "final_bn": False,
            "knot_rule": "next-piece", "basis": "piecewise-constant"}
    for k, v in want.items():
        if model.get(k) != v:
            raise NotImplementedError(f"twin: model {k} = {model.get(k)!r}; the twin implements {k} = {v!r} only")


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: torch_twin.py IN OUT")
    assert sys.byteorder == "little"
    torch.manual_seed(0)
    meta, T = read_twin(argv[1])
    model = meta["model"]
    check_model(model)
    sgd = meta["sgd"]
    batches = []
    for i in range(meta["batches"]):
        x = T[f"batch/{i}/x"].permute(1, 0, 2, 3).contiguous()  # channel-major [C, N, H, W] -> NCHW
        y = T[f"batch/{i}/y"].round().long()
        batches.append((x, y))
    out = {}

    def new_opt(net, lr):
        return torch.optim.SGD(net.parameters(), lr=lr, momentum=sgd["momentum"], weight_decay=sgd["weight_decay"])

    def step(net, opt, b):
        x, y = batches[b]
        net.train()
        net.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        if opt is not None:
            opt.step()
        return loss.detach()

    for spec in meta["nets"]:
        name, k, scheme, nt = spec["name"], spec["k"], spec["scheme"], spec["steps"]
        pre = f"net/{name}"

        def fresh():
            net = ContinuousNet(model, k, scheme, nt)
            load_state(net, T, f"{pre}/init/")
            return net

        # 1. evaluation-mode logits under every manifestation.
        net = fresh()
        net.eval()
        xe = batches[meta["eval"]["batch"]][0]
        with torch.no_grad():
            for s in meta["eval"]["schemes"]:
                for m in meta["eval"]["nts"]:
                    net.set_manifestation(s, m)
                    out[f"{pre}/eval/{s}/nt={m}/logits"] = net(xe)

        # 2. one training-mode step: loss, gradients, running statistics.
        net = fresh()
        out[f"{pre}/step/loss"] = step(net, None, meta["step"]["batch"]).reshape(1)
        out.update(grads_out(net, f"{pre}/step/grad"))
        out.update(buffers_out(net, f"{pre}/step/buffer"))

        # 3. SGD steps.
        tr = meta["train"]
        net = fresh()
        opt = new_opt(net, sgd["lr"])
        out[f"{pre}/train/loss"] = torch.stack([step(net, opt, b) for b in tr["batches"]])
        out.update(params_out(net, f"{pre}/train/param"))
        out.update(buffers_out(net, f"{pre}/train/buffer"))

        # 4. refinement K -> 2K in the middle of the steps, optimiser re-created.
        if spec["refine"]:
            rf = meta["refine"]
            net = fresh()
            opt = new_opt(net, sgd["lr"])
            losses = []
            for i, b in enumerate(rf["batches"]):
                if i == rf["at"]:
                    net.refine()
                    opt = new_opt(net, opt.param_groups[0]["lr"])
                    out.update(params_out(net, f"{pre}/refine/after/param"))
                    out.update(buffers_out(net, f"{pre}/refine/after/buffer"))
                losses.append(step(net, opt, b))
            out[f"{pre}/refine/loss"] = torch.stack(losses)
            out.update(params_out(net, f"{pre}/refine/param"))
            out.update(buffers_out(net, f"{pre}/refine/buffer"))

        # 5. one step on a short batch, then evaluation-mode logits.
        sh = meta["short"]
        net = fresh()
        opt = new_opt(net, sgd["lr"])
        out[f"{pre}/short/loss"] = step(net, opt, sh["batch"]).reshape(1)
        out.update(grads_out(net, f"{pre}/short/grad"))
        out.update(params_out(net, f"{pre}/short/param"))
        out.update(buffers_out(net, f"{pre}/short/buffer"))
        net.eval()
        with torch.no_grad():
            out[f"{pre}/short/logits"] = net(xe)

    write_twin(argv[2], {"torch": torch.__version__}, out)


if __name__ == "__main__":
    main(sys.argv)
