#!/usr/bin/python3
"""Write Fashion-MNIST test images as 28x28 grayscale PNG files.

    /usr/bin/python3 scripts/export_fashion_test.py OUT_DIR            # all 10,000 + labels.csv
    /usr/bin/python3 scripts/export_fashion_test.py OUT_DIR --limit 500
    /usr/bin/python3 scripts/export_fashion_test.py --demo demo/images --per-class 3

The full export writes OUT_DIR/NNNNN.png (NNNNN = test-set index) and OUT_DIR/labels.csv with
the header `path,label` and one row per image (path relative to OUT_DIR, label = class index
0-9), for evaluating a model end to end through the CLI. It is not committed.

--demo writes the first --per-class test images of every class as DIR/NNNN-<class>.png
(the demo workspace's images).
"""

import argparse
import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train_fashion import DATA_DIR, LABELS, load_fashion  # noqa: E402

SLUGS = ["t-shirt-top", "trouser", "pullover", "dress", "coat",
         "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def save_png(u8, path):
    Image.fromarray(u8, mode="L").save(path, format="PNG")


def export_all(xte, yte, out, limit):
    os.makedirs(out, exist_ok=True)
    n = min(limit, len(yte)) if limit else len(yte)
    rows = ["path,label"]
    for i in range(n):
        name = "%05d.png" % i
        save_png(xte[i], os.path.join(out, name))
        rows.append("%s,%d" % (name, int(yte[i])))
    with open(os.path.join(out, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote %d images and labels.csv to %s" % (n, out))


def demo_picks(yte, per_class):
    """(index, class) of the first per_class test images of each class, by index."""
    picks, counts = [], [0] * len(LABELS)
    for i, y in enumerate(yte):
        y = int(y)
        if counts[y] < per_class:
            counts[y] += 1
            picks.append((i, y))
        if min(counts) >= per_class:
            break
    return picks


def export_demo(xte, yte, out, per_class):
    os.makedirs(out, exist_ok=True)
    picks = demo_picks(yte, per_class)
    for i, y in picks:
        save_png(xte[i], os.path.join(out, "%04d-%s.png" % (i, SLUGS[y])))
    for i, y in sorted(picks, key=lambda p: (p[1], p[0])):
        print("%04d-%s.png  %s" % (i, SLUGS[y], LABELS[y]))
    print("wrote %d demo images to %s" % (len(picks), out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", help="folder for the full export")
    ap.add_argument("--data", default=DATA_DIR, help="folder with the IDX files (default %(default)s)")
    ap.add_argument("--limit", type=int, default=0, help="export only the first N test images")
    ap.add_argument("--demo", default="", help="write the demo images to this folder instead")
    ap.add_argument("--per-class", type=int, default=3)
    args = ap.parse_args()
    if not args.out and not args.demo:
        ap.error("give an output folder or --demo FOLDER")
    _, _, xte, yte = load_fashion(args.data)
    if args.demo:
        export_demo(xte, yte, args.demo, args.per_class)
    if args.out:
        export_all(xte, yte, args.out, args.limit)


if __name__ == "__main__":
    main()
