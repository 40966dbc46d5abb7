#!/usr/bin/env python3
"""Per-layer plots of a `crate-lens eval --format json` report: sparsity, reconstructionError,
istaResidual and codingRate over the evaluated set (mean with a ±1 sd band, min–max dotted).

usage: plot_eval.py EVAL.json OUT.png [TITLE]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MEASURES = [
    ("sparsity", "sparsity (fraction of zeros in the ISTA output)"),
    ("reconstructionError", "reconstruction error ‖x − z Dᵀ‖ / ‖x‖"),
    ("istaResidual", "ISTA residual ‖xD − xDᵀD‖ / ‖xD‖"),
    ("codingRate", "coding rate of the layer's input (qkv features)"),
]


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    report = json.load(open(argv[0]))
    title = argv[2] if len(argv) > 2 else "CRATE Lens eval"
    layers = report["layers"]
    xs = [l["index"] for l in layers]
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4.2 * len(MEASURES), 3.4), constrained_layout=True)
    for ax, (key, label) in zip(axes, MEASURES):
        mean = [l[key]["mean"] for l in layers]
        sd = [l[key]["std"] for l in layers]
        ax.plot(xs, mean, marker="o", color="#bc4c00")
        ax.fill_between(xs, [m - s for m, s in zip(mean, sd)], [m + s for m, s in zip(mean, sd)], color="#bc4c00", alpha=0.2)
        ax.plot(xs, [l[key]["min"] for l in layers], ":", color="#59636e", linewidth=1)
        ax.plot(xs, [l[key]["max"] for l in layers], ":", color="#59636e", linewidth=1)
        ax.set_xlabel("layer")
        ax.set_title(label, fontsize=9)
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}: {report['images']} images, accuracy {report['accuracy']:.2f}%", fontsize=10)
    fig.savefig(argv[1], dpi=110)
    print(f"wrote {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
