#!/usr/bin/python3
"""Look at a few demo images and, where PyTorch is installed, classify them with the default model.

Hover any of the image paths below in VS Code with CRATE Lens installed to see the model's
prediction, its attention maps and the per-layer sparsity of the image.

    /usr/bin/python3 demo/inspect_samples.py
"""

import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

SAMPLES = [
    ("images/0000-ankle-boot.png", "Ankle boot"),
    ("images/0001-pullover.png", "Pullover"),
    ("images/0002-trouser.png", "Trouser"),
    ("images/0004-shirt.png", "Shirt"),
    ("images/0010-coat.png", "Coat"),
    ("images/0008-sandal.png", "Sandal"),
    ("images/0009-sneaker.png", "Sneaker"),
    ("images/0013-dress.png", "Dress"),
    ("images/0018-bag.png", "Bag"),
    ("images/0019-t-shirt-top.png", "T-shirt/top"),
]

# Harder ones: shirts are the class most often mistaken for another (T-shirt/top, pullover, coat);
# this ankle boot is read as a sandal, and this coat gets a low top probability.
HARD_CASES = [
    ("images/0007-shirt.png", "Shirt"),
    ("images/0026-shirt.png", "Shirt"),
    ("images/0023-ankle-boot.png", "Ankle boot"),
    ("images/0006-coat.png", "Coat"),
]


def load(path):
    """28x28 grayscale image as a uint8 array."""
    with Image.open(os.path.join(HERE, path)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


def describe(path):
    a = load(path)
    ink = (a > 32).mean()
    return "%s: %dx%d, mean %.1f, %.0f%% ink" % (path, a.shape[1], a.shape[0], a.mean(), 100 * ink)


def classify(paths):
    """Top-1 class of each image with the shipped model (media/default-model/fashion-crate.*)."""
    sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
    try:
        import json
        import torch
        import crate_reference as ref
    except ImportError:
        return None
    base = os.path.join(HERE, "..", "media", "default-model", "fashion-crate")
    with open(base + ".crate.json") as f:
        cfg = json.load(f)
    model = ref.model_from_state_dict(cfg, ref.load_checkpoint(base + ".safetensors"))
    x = torch.stack([ref.preprocess(os.path.join(HERE, p), cfg) for p in paths])
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=-1)
    return [(cfg["labels"][int(i)], float(p)) for p, i in zip(*probs.max(dim=-1))]


def main():
    for path, _ in SAMPLES:
        print(describe(path))
    paths = [p for p, _ in SAMPLES + HARD_CASES]
    truth = [t for _, t in SAMPLES + HARD_CASES]
    preds = classify(paths)
    if preds is None:
        print("(PyTorch not found: skipping classification)")
        return
    for path, want, (got, p) in zip(paths, truth, preds):
        mark = "ok " if got == want else "MISS"
        print("%s %-30s true %-12s predicted %-12s %.3f" % (mark, path, want, got, p))


if __name__ == "__main__":
    main()
