#!/usr/bin/env python3
"""Reference side of datasets/torchref_test.go: the PyTorch/PIL data pipeline.

The Go tests run this script and compare its output with the datasets
package. Nothing here is derived from the Go code: the constants, the class
order and the transforms are those of the authors' PyTorch training script
(torchvision transforms on PIL images).

    torch_pipeline.py decode REQUEST.json OUTDIR    (needs PIL)
    torch_pipeline.py augment REQUEST.json OUTDIR   (needs torch, torchvision, numpy, PIL)
    torch_pipeline.py check decode|augment          (only imports what the mode needs)

Exit status: 0 done; 3 a module is missing (the reason on stdout); anything
else an error.

decode: REQUEST {"archive": path of an image-folder .tar.gz,
                 "train": [indices], "test": [indices]}
  Orders each split as torchvision.datasets.ImageFolder does (see
  imagefolder_order) and decodes the requested images as its default loader
  does (torchvision.datasets.folder.pil_loader: Image.open(f).convert("RGB"),
  i.e. libjpeg through PIL). Writes OUTDIR/pixels.u8 (the images in request
  order, train then test, each as R, G, B planes of 32x32 bytes),
  OUTDIR/members.bin (their JPEG files, concatenated) and OUTDIR/decode.json
  (classes, per-class counts, the PIL and libjpeg versions, and per image its
  member name, label, and offset and size in members.bin).

augment: REQUEST {"n": N, "h": 32, "w": 32, "pad": 4,
                  "draws": [[i, j, flip], ...] (one per image)}
  with IN: OUTDIR/images.u8, N images of R, G, B planes (uint8). Applies
    train: Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
                    ToTensor(), Normalize(MEAN, STD)])
      (the real torchvision classes; only their random draws are fixed:
      RandomCrop.get_params returns (i, j, 32, 32), and the flip's p is 1 or 0)
    functional: the same through torchvision.transforms.functional
      (pad, crop, hflip, to_tensor, normalize)
    pad_after_norm: a wrong variant for the test's power: normalise first,
      then pad the float tensor with 0
    test: Compose([ToTensor(), Normalize(MEAN, STD)])
  and writes OUTDIR/<name>.f32 (N x 3 x h x w little-endian float32 each)
  and OUTDIR/augment.json (versions, constants, transform parameters).
"""

import gzip
import io
import json
import os
import sys
import tarfile

# The authors' normalisation (their training script; also the values of the
# widely used kuangliu/pytorch-cifar recipe).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)

# torchvision.datasets.folder.IMG_EXTENSIONS
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def missing(exc):
    print("missing Python module: %s (interpreter %s)" % (exc, sys.executable))
    sys.exit(3)


def imagefolder_order(members):
    """members: {split: {class: [file names]}}. Returns per split the class
    list and the ordered samples [(class, file name, label)], as
    torchvision.datasets.ImageFolder(root/split) orders them:
    find_classes: classes = sorted(d.name for d in os.scandir(dir) if d.is_dir()),
    class_to_idx = {c: i}; make_dataset: for each class in sorted order, for
    root, _, fnames in sorted(os.walk(class dir)): for fname in sorted(fnames),
    keep files with an IMG_EXTENSIONS suffix (case-insensitive)."""
    out = {}
    for split, by_class in members.items():
        classes = sorted(by_class)
        samples = []
        for label, c in enumerate(classes):
            for name in sorted(by_class[c]):
                if name.lower().endswith(IMG_EXTENSIONS):
                    samples.append((c, name, label))
        out[split] = (classes, samples)
    return out


def import_decode():
    try:
        from PIL import Image, features
    except ImportError as e:
        missing(e)
    return Image, features


def import_augment():
    try:
        import numpy as np
        import torch
        import torchvision
        import torchvision.transforms as T
        import torchvision.transforms.functional as F
        from PIL import Image
    except ImportError as e:
        missing(e)
    return np, torch, torchvision, T, F, Image


def decode(req, outdir):
    Image, features = import_decode()
    members = {}
    data = {}
    # Whole archive in memory, members sliced out of it: twice as fast as
    # streaming through tarfile's extractfile.
    with open(req["archive"], "rb") as f:
        raw = gzip.decompress(f.read())
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        for m in tf:
            if not m.isfile():
                continue
            parts = m.name.split("/")
            if len(parts) < 3 or parts[-3] not in ("train", "test"):
                continue
            split, c, name = parts[-3:]
            members.setdefault(split, {}).setdefault(c, []).append(name)
            data[(split, c, name)] = raw[m.offset_data:m.offset_data + m.size]
    order = imagefolder_order(members)
    classes = order["train"][0]
    if order["test"][0] != classes:
        raise SystemExit("train classes %s, test classes %s" % (classes, order["test"][0]))
    result = {"classes": classes, "counts": {}, "images": [],
              "pil": Image.__version__, "libjpeg": features.version("jpg"),
              "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo"))}
    offset = 0
    with open(os.path.join(outdir, "pixels.u8"), "wb") as f, open(os.path.join(outdir, "members.bin"), "wb") as fm:
        for split in ("train", "test"):
            samples = order[split][1]
            result["counts"][split] = [sum(1 for s in samples if s[2] == k) for k in range(len(classes))]
            for i in req[split]:
                c, name, label = samples[i]
                encoded = data[(split, c, name)]
                # torchvision.datasets.folder.pil_loader
                img = Image.open(io.BytesIO(encoded)).convert("RGB")
                if img.size != (32, 32):
                    raise SystemExit("%s/%s/%s: size %s" % (split, c, name, img.size))
                b = img.tobytes()  # rows of R, G, B triples
                f.write(b[0::3] + b[1::3] + b[2::3])
                fm.write(encoded)
                result["images"].append({"split": split, "index": i, "member": "%s/%s/%s" % (split, c, name),
                                         "label": label, "offset": offset, "size": len(encoded)})
                offset += len(encoded)
    with open(os.path.join(outdir, "decode.json"), "w") as f:
        json.dump(result, f)


def augment(req, outdir):
    np, torch, torchvision, T, F, Image = import_augment()
    torch.set_num_threads(1)
    n, h, w, pad = req["n"], req["h"], req["w"], req["pad"]
    raw = np.fromfile(os.path.join(outdir, "images.u8"), dtype=np.uint8)
    imgs = raw.reshape(n, 3, h, w)
    draws = req["draws"]

    class FixedCrop(T.RandomCrop):
        """RandomCrop(size, padding) whose offsets are given, not drawn:
        forward() pads with self.fill/self.padding_mode, then crops at
        self.get_params(img, self.size)."""

        def __init__(self, size, padding, i, j):
            super().__init__(size, padding=padding)
            self.ij = (i, j)

        def get_params(self, img, output_size):
            return self.ij[0], self.ij[1], output_size[0], output_size[1]

    ref = T.RandomCrop(h, padding=pad)
    out = {k: np.empty((n, 3, h, w), dtype="<f4") for k in ("train", "functional", "pad_after_norm", "test")}
    test_tf = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    for k in range(n):
        pil = Image.fromarray(np.ascontiguousarray(imgs[k].transpose(1, 2, 0)), mode="RGB")
        i, j, flip = draws[k]
        train_tf = T.Compose([
            FixedCrop(h, pad, i, j),
            # forward(): "if torch.rand(1) < self.p: return F.hflip(img)", rand in [0, 1)
            T.RandomHorizontalFlip(p=1.0 if flip else 0.0),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ])
        out["train"][k] = train_tf(pil).numpy()
        x = F.crop(F.pad(pil, pad, fill=0, padding_mode="constant"), i, j, h, w)
        if flip:
            x = F.hflip(x)
        out["functional"][k] = F.normalize(F.to_tensor(x), MEAN, STD).numpy()
        y = F.crop(F.pad(F.normalize(F.to_tensor(pil), MEAN, STD), pad, fill=0), i, j, h, w)
        if flip:
            y = F.hflip(y)
        out["pad_after_norm"][k] = y.numpy()
        out["test"][k] = test_tf(pil).numpy()
    for name, a in out.items():
        a.tofile(os.path.join(outdir, name + ".f32"))
    info = {"torch": torch.__version__, "torchvision": torchvision.__version__,
            "mean": list(MEAN), "std": list(STD),
            # the float32 values Normalize actually uses
            "mean_f32": [float(v) for v in torch.as_tensor(MEAN, dtype=torch.float32)],
            "std_f32": [float(v) for v in torch.as_tensor(STD, dtype=torch.float32)],
            "random_crop": {"padding": ref.padding, "fill": ref.fill, "padding_mode": ref.padding_mode,
                            "pad_if_needed": ref.pad_if_needed},
            "flip_p": T.RandomHorizontalFlip().p}
    with open(os.path.join(outdir, "augment.json"), "w") as f:
        json.dump(info, f)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check" and sys.argv[2] in ("decode", "augment"):
        {"decode": import_decode, "augment": import_augment}[sys.argv[2]]()
        return
    if len(sys.argv) != 4 or sys.argv[1] not in ("decode", "augment"):
        raise SystemExit(__doc__)
    with open(sys.argv[2]) as f:
        req = json.load(f)
    {"decode": decode, "augment": augment}[sys.argv[1]](req, sys.argv[3])


if __name__ == "__main__":
    main()
