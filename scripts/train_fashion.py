#!/usr/bin/python3
"""Train the default CRATE Lens model: a small CRATE on Fashion-MNIST.

The model is scripts/crate_reference.py's CRATE (official state-dict key names), channels = 1,
trained from scratch with AdamW, a linear warm-up then a cosine decay, label smoothing and light
augmentation (random crop with zero padding, horizontal flip). Data order and augmentation come
from one seeded generator, so a run with the same arguments, thread count and torch build repeats.

    /usr/bin/python3 scripts/train_fashion.py --save            # the shipped model
    /usr/bin/python3 scripts/train_fashion.py --epochs 2 --subset 10000 --log /tmp/run.json

With --save it writes media/default-model/fashion-crate.{safetensors,pth,crate.json} and
training.json. The final accuracy is measured on the 10,000 test images in float32 eval mode
with the reference model and the preprocessing the extension uses for inference
(crate_reference.preprocess: PIL 'L' image, squash-resize with BILINEAR only when the size
differs, /255, (x - mean) / std).
"""

import argparse
import gzip
import json
import math
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import crate_reference as ref  # noqa: E402

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DATA_DIR = "/usr/share/datasets/fashion-mnist"
OUT_DIR = os.path.join(ROOT, "media", "default-model")
NAME = "fashion-crate"


# ----------------------------------------------------------------------------- data

def read_idx(path):
    """uint8 array from an IDX file (gzipped or not)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4: 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims).copy()


def load_fashion(data_dir):
    def find(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(data_dir, name)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(os.path.join(data_dir, stem + ".gz"))
    xtr = read_idx(find("train-images-idx3-ubyte"))
    ytr = read_idx(find("train-labels-idx1-ubyte"))
    xte = read_idx(find("t10k-images-idx3-ubyte"))
    yte = read_idx(find("t10k-labels-idx1-ubyte"))
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert ytr.shape == (60000,) and yte.shape == (10000,)
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64)


def mean_std(u8):
    """Pixel mean and standard deviation of the /255 images, rounded to 4 decimals."""
    x = u8.astype(np.float64) / 255.0
    return round(float(x.mean()), 4), round(float(x.std()), 4)


def to_size(u8, size):
    """The uint8 images at size x size: unchanged at 28, else PIL BILINEAR (the squash resize)."""
    if u8.shape[1] == size and u8.shape[2] == size:
        return u8
    out = np.empty((u8.shape[0], size, size), dtype=np.uint8)
    for i in range(u8.shape[0]):
        img = Image.fromarray(u8[i], mode="L").resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(img, dtype=np.uint8)
    return out


def normalise(u8_tensor, mean, std):
    """uint8 [B,H,W] -> float32 [B,1,H,W] with the reference's float32 operations."""
    x = u8_tensor.float() / 255.0
    x = x.unsqueeze(1)
    m = torch.tensor([mean], dtype=torch.float32, device=x.device).reshape(1, 1, 1, 1)
    s = torch.tensor([std], dtype=torch.float32, device=x.device).reshape(1, 1, 1, 1)
    return (x - m) / s


def preprocess_pil(img, cfg):
    """crate_reference.preprocess for an in-memory PIL image (same operations, same order)."""
    img = img.convert("RGB" if cfg["channels"] == 3 else "L")
    s = cfg["imageSize"]
    if img.size != (s, s):
        img = img.resize((s, s), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).float()
    x = x / 255.0
    if x.dim() == 2:
        x = x.unsqueeze(-1)
    x = x.permute(2, 0, 1).contiguous()
    mean = torch.tensor(cfg["mean"], dtype=torch.float32).reshape(-1, 1, 1)
    std = torch.tensor(cfg["std"], dtype=torch.float32).reshape(-1, 1, 1)
    return (x - mean) / std


def augment(batch_u8, pad, flip, gen):
    """Random crop from the zero-padded image and random horizontal flip (uint8 in and out)."""
    b, h, w = batch_u8.shape
    if pad > 0:
        padded = F.pad(batch_u8, (pad, pad, pad, pad))
        oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(batch_u8.device)
        ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(batch_u8.device)
        rows = (oy[:, None] + torch.arange(h, device=batch_u8.device)[None, :])[:, :, None]
        cols = (ox[:, None] + torch.arange(w, device=batch_u8.device)[None, :])[:, None, :]
        batch_u8 = padded[torch.arange(b, device=batch_u8.device)[:, None, None], rows, cols]
    if flip:
        mask = (torch.rand(b, generator=gen) < 0.5).to(batch_u8.device)
        batch_u8 = torch.where(mask[:, None, None], batch_u8.flip(-1), batch_u8)
    return batch_u8


# ----------------------------------------------------------------------------- model

class FusedISTA(ref.ISTA):
    """The reference ISTA step with its three products folded into one:
    ReLU(x (I + eta (D - D^T D)) - eta lambda). Same parameter, same function; used for training
    speed only (the final evaluation runs the unmodified reference model)."""

    def forward(self, x, capture=None):
        d = self.weight
        eye = torch.eye(d.shape[0], dtype=d.dtype, device=d.device)
        m = eye + self.step_size * (d - d.t() @ d)
        return F.relu(torch.matmul(x, m) - self.step_size * self.lambd)


def _linear(x, weight, bias, lp):
    """x W^T + b; with lp (torch.bfloat16) the product runs in that type, the bias add in float32."""
    if lp is None:
        return F.linear(x, weight, bias)
    y = F.linear(x.to(lp), weight.to(lp)).float()
    return y if bias is None else y + bias


def train_forward(model, img, lp=None):
    """The reference forward pass (pool 'cls' or 'mean'), written out for training speed.

    lp=None computes exactly the reference function in float32. lp=torch.bfloat16 runs the matrix
    products in bfloat16 (float32 accumulation, on CPUs with AMX/AVX512-BF16 several times faster)
    while LayerNorms, softmax, residual sums, the ISTA update and the parameters stay float32:
    ordinary mixed-precision training. The shipped weights are float32 and are evaluated in float32.
    """
    cfg = model.config
    pe = model.to_patch_embedding
    x = pe[0](img)
    x = pe[1](x)
    x = _linear(x, pe[2].weight, pe[2].bias, lp)
    x = pe[3](x)
    b, n, _ = x.shape
    z = torch.cat([model.cls_token.expand(b, -1, -1), x], dim=1) + model.pos_embedding[:, : n + 1]
    t = n + 1
    for attn, ista in model.transformer.layers:
        mssa = attn.fn
        y = attn.norm(z)
        w = F.linear(y.to(lp), mssa.qkv.weight.to(lp)) if lp is not None else F.linear(y, mssa.qkv.weight)
        wh = w.reshape(b, t, mssa.heads, mssa.dim_head).transpose(1, 2)
        scores = torch.matmul(wh, wh.transpose(-1, -2)).float() * mssa.scale
        a = torch.softmax(scores, dim=-1)
        out = torch.matmul(a.to(wh.dtype), wh).transpose(1, 2).reshape(b, t, mssa.heads * mssa.dim_head)
        if isinstance(mssa.to_out, torch.nn.Identity):
            z = z + out.float()
        else:
            z = z + _linear(out, mssa.to_out[0].weight, mssa.to_out[0].bias, lp)
        x = ista.norm(z)
        d = ista.fn.weight
        m = d - d.t() @ d                               # x D - x D^T D = x (D - D^T D)
        step = F.linear(x.to(lp), m.t().to(lp)).float() if lp is not None else torch.matmul(x, m)
        z = F.relu(x + ista.fn.step_size * step - ista.fn.step_size * ista.fn.lambd)
    pooled = z.mean(dim=1) if cfg["pool"] == "mean" else z[:, 0]
    return _linear(model.mlp_head[0](pooled), model.mlp_head[1].weight, model.mlp_head[1].bias, lp)


def build_model(cfg, init, gen):
    model = ref.CRATE(cfg)
    for layer in model.transformer.layers:
        layer[1].fn.__class__ = FusedISTA

    def fill(t, values):
        with torch.no_grad():
            t.copy_(values)

    for mod in model.modules():
        if isinstance(mod, torch.nn.LayerNorm):
            fill(mod.weight, torch.ones_like(mod.weight))
            fill(mod.bias, torch.zeros_like(mod.bias))
        elif isinstance(mod, torch.nn.Linear):
            fan_in = mod.weight.shape[1]
            if init == "official":  # torch's default Linear init, as the official code leaves it
                bound = 1.0 / math.sqrt(fan_in)
                fill(mod.weight, (torch.rand(mod.weight.shape, generator=gen) * 2 - 1) * bound)
            else:                   # ViT-style truncated normal, std 0.02
                fill(mod.weight, torch.randn(mod.weight.shape, generator=gen).clamp_(-2, 2) * 0.02)
            if mod.bias is not None:
                if init == "official":
                    fill(mod.bias, (torch.rand(mod.bias.shape, generator=gen) * 2 - 1) / math.sqrt(fan_in))
                else:
                    fill(mod.bias, torch.zeros_like(mod.bias))
        elif isinstance(mod, ref.ISTA):  # kaiming_uniform_ as in the official FeedForward
            bound = math.sqrt(6.0 / mod.weight.shape[1])
            fill(mod.weight, (torch.rand(mod.weight.shape, generator=gen) * 2 - 1) * bound)
    if init == "official":  # torch.randn, as the official code
        fill(model.pos_embedding, torch.randn(model.pos_embedding.shape, generator=gen))
        fill(model.cls_token, torch.randn(model.cls_token.shape, generator=gen))
    else:
        fill(model.pos_embedding, torch.randn(model.pos_embedding.shape, generator=gen).clamp_(-2, 2) * 0.02)
        fill(model.cls_token, torch.randn(model.cls_token.shape, generator=gen).clamp_(-2, 2) * 0.02)
    return model


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        # LayerNorms, biases, the CLS token and the position embedding are not decayed.
        if p.dim() < 2 or name in ("pos_embedding", "cls_token"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]


def lr_at(step, total, warmup, peak, floor):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * t))


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += int((model(x[i: i + batch]).argmax(-1) == y[i: i + batch]).sum())
    return correct


# ----------------------------------------------------------------------------- final evaluation

def final_evaluation(cfg, state_dict, test_u8, test_y):
    """Reference model, float32, eval mode, inputs through the inference preprocessing."""
    model = ref.model_from_state_dict(cfg, state_dict)
    xs = torch.stack([preprocess_pil(Image.fromarray(a, mode="L"), cfg) for a in test_u8])
    # The same tensors as crate_reference.preprocess reading PNG files (checked on 20 images).
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(20):
            p = os.path.join(tmp, "%d.png" % i)
            Image.fromarray(test_u8[i], mode="L").save(p)
            if not torch.equal(ref.preprocess(p, cfg), xs[i]):
                raise AssertionError("in-memory preprocessing differs from crate_reference.preprocess")
    y = torch.from_numpy(test_y)
    correct = 0
    per_class = [0] * 10
    with torch.no_grad():
        for i in range(0, xs.shape[0], 500):
            pred = model(xs[i: i + 500]).argmax(-1)
            hit = pred == y[i: i + 500]
            correct += int(hit.sum())
            for c in range(10):
                per_class[c] += int((hit & (y[i: i + 500] == c)).sum())
    totals = [int((y == c).sum()) for c in range(10)]
    return correct, [round(100.0 * h / t, 1) for h, t in zip(per_class, totals)]


def machine_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or platform.machine()


# ----------------------------------------------------------------------------- main

def main():
    t_script = time.time()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--image-size", type=int, default=28)
    ap.add_argument("--patch", type=int, default=7)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--dim-head", type=int, default=0, help="default dim / heads")
    ap.add_argument("--pool", default="cls", choices=("cls", "mean"))
    ap.add_argument("--ista-step", type=float, default=0.1)
    ap.add_argument("--ista-lambda", type=float, default=0.1)
    ap.add_argument("--init", default="vit", choices=("vit", "official"))
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up length in epochs")
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip (0: none)")
    ap.add_argument("--pad", type=int, default=1, help="random-crop padding in pixels (0: none)")
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--matmul", default="bf16", choices=("bf16", "fp32"),
                    help="precision of the training matrix products (parameters stay float32)")
    ap.add_argument("--subset", type=int, default=0, help="train on the first N shuffled images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (timing probes)")
    ap.add_argument("--eval-every", type=int, default=0,
                    help="test accuracy after every N epochs (0: only the final evaluation; "
                         "the per-epoch pass costs ~8 s and does not change the weights)")
    ap.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (smoke tests)")
    ap.add_argument("--log", default="", help="write the run record here as JSON")
    ap.add_argument("--skip-final", action="store_true", help="no final reference evaluation (sweeps)")
    ap.add_argument("--save", action="store_true", help="write the model files to --out")
    ap.add_argument("--out", default=OUT_DIR)
    args = ap.parse_args()
    if args.save and (args.skip_final or args.test_limit or args.subset or args.max_steps):
        ap.error("--save is for full runs: no --skip-final, --test-limit, --subset or --max-steps")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    dev = torch.device(args.device)
    gen = torch.Generator().manual_seed(args.seed)

    xtr, ytr, xte, yte = load_fashion(args.data)
    if args.test_limit:
        xte, yte = xte[: args.test_limit], yte[: args.test_limit]
    mean, std = mean_std(xtr)
    dim_head = args.dim_head or args.dim // args.heads
    cfg = ref.resolve_config(OrderedDict([
        ("imageSize", args.image_size), ("patchSize", args.patch), ("channels", 1),
        ("dim", args.dim), ("depth", args.depth), ("heads", args.heads), ("dimHead", dim_head),
        ("numClasses", 10), ("pool", args.pool),
        ("istaStepSize", args.ista_step), ("istaLambda", args.ista_lambda),
        ("mean", [mean]), ("std", [std]), ("resize", "squash"), ("labels", LABELS),
    ]))

    train_u8 = torch.from_numpy(to_size(xtr, args.image_size)).to(dev)
    train_y = torch.from_numpy(ytr).to(dev)
    test_x = normalise(torch.from_numpy(to_size(xte, args.image_size)), mean, std).to(dev)
    test_y = torch.from_numpy(yte).to(dev)
    n_test = int(test_y.shape[0])
    n_train = train_u8.shape[0]
    if args.subset:
        keep = torch.randperm(n_train, generator=gen)[: args.subset].to(dev)
        train_u8, train_y = train_u8[keep], train_y[keep]
        n_train = args.subset

    model = build_model(cfg, args.init, gen).to(dev)
    n_params = ref.count_parameters(model.state_dict())
    opt = torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr,
                            betas=(0.9, args.beta2), eps=1e-8)
    steps_per_epoch = math.ceil(n_train / args.batch)
    total = steps_per_epoch * args.epochs
    warmup = int(round(args.warmup * steps_per_epoch))
    print("config %s; %d parameters; %d steps of %d; mean %.4f std %.4f; %d threads"
          % (json.dumps({k: v for k, v in cfg.items() if k != "labels"}), n_params, total,
             args.batch, mean, std, torch.get_num_threads()), flush=True)

    lp = torch.bfloat16 if args.matmul == "bf16" else None
    load_start = [round(v, 2) for v in os.getloadavg()]
    epochs = []
    step = 0
    t_start = time.time()
    for epoch in range(args.epochs):
        t0 = time.time()
        model.train()
        order = torch.randperm(n_train, generator=gen).to(dev)
        loss_sum, hit_sum, seen = 0.0, 0, 0
        for i in range(0, n_train, args.batch):
            idx = order[i: i + args.batch]
            xb = augment(train_u8[idx], args.pad, not args.no_flip, gen)
            xb = normalise(xb, mean, std)
            yb = train_y[idx]
            lr = lr_at(step, total, warmup, args.lr, args.min_lr)
            for g in opt.param_groups:
                g["lr"] = lr
            logits = train_forward(model, xb, lp)
            loss = F.cross_entropy(logits, yb, label_smoothing=args.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            loss_sum += float(loss) * idx.shape[0]
            hit_sum += int((logits.argmax(-1) == yb).sum())
            seen += idx.shape[0]
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        train_s = time.time() - t0
        last = epoch + 1 == args.epochs or bool(args.max_steps and step >= args.max_steps)
        # Evaluation mode reads no random numbers, so testing between epochs leaves the weights as
        # they would be without it.
        tested = (args.eval_every and (epoch + 1) % args.eval_every == 0) or (last and args.skip_final)
        rec = OrderedDict([("epoch", epoch + 1), ("trainLoss", round(loss_sum / seen, 4)),
                           ("trainAccuracy", round(100.0 * hit_sum / seen, 2))])
        if tested:
            rec["testAccuracy"] = round(100.0 * accuracy(model, test_x, test_y) / n_test, 2)
        rec.update([("lr", lr), ("trainSeconds", round(train_s, 1)),
                    ("seconds", round(time.time() - t0, 1))])
        epochs.append(rec)
        print("epoch %2d  loss %.4f  train %.2f%%  test %s  %.1fs (%.1fs train, %.1f ms/step)"
              % (epoch + 1, rec["trainLoss"], rec["trainAccuracy"],
                 "%.2f%%" % rec["testAccuracy"] if tested else "-",
                 rec["seconds"], train_s, 1000.0 * train_s / max(1, seen / args.batch)), flush=True)
        if args.max_steps and step >= args.max_steps:
            break
    train_seconds = time.time() - t_start

    state = OrderedDict((k, v.detach().to("cpu", torch.float32).contiguous())
                        for k, v in model.state_dict().items())
    t0 = time.time()
    if args.skip_final:
        correct, per_class = int(round(epochs[-1]["testAccuracy"] * n_test / 100.0)), []
    else:
        correct, per_class = final_evaluation(cfg, state, xte, yte)
    eval_seconds = time.time() - t0
    print("final: %d / %d = %.2f%% (reference model, float32, inference preprocessing); "
          "training %.1f s, evaluation %.1f s"
          % (correct, n_test, 100.0 * correct / n_test, train_seconds, eval_seconds),
          flush=True)

    record = OrderedDict([
        ("model", NAME),
        ("dataset", "Fashion-MNIST (60,000 training / 10,000 test images, Debian dataset-fashion-mnist)"),
        ("seed", args.seed),
        ("config", cfg),
        ("parameterCount", n_params),
        ("epochs", args.epochs),
        ("hyperParameters", OrderedDict([
            ("optimizer", "AdamW"), ("lr", args.lr), ("minLr", args.min_lr),
            ("schedule", "linear warm-up then cosine decay, per step"),
            ("warmupEpochs", args.warmup), ("betas", [0.9, args.beta2]), ("eps", 1e-8),
            ("weightDecay", args.weight_decay),
            ("weightDecayExcludes", "LayerNorms, biases, cls_token, pos_embedding"),
            ("batchSize", args.batch), ("stepsPerEpoch", steps_per_epoch), ("steps", step),
            ("labelSmoothing", args.smoothing), ("gradClipNorm", args.clip),
            ("augmentation", OrderedDict([("randomCropPadding", args.pad),
                                          ("horizontalFlip", not args.no_flip)])),
            ("init", args.init), ("trainSubset", args.subset or n_train),
            ("trainingMatmul", "bfloat16 products, float32 parameters, LayerNorms, softmax and "
                               "ISTA update" if lp is not None else "float32"),
        ])),
        ("trainingSeconds", round(train_seconds, 1)),
        ("trainingMinutes", round(train_seconds / 60.0, 1)),
        ("fastestEpochSeconds", min(e["seconds"] for e in epochs)),
        # 1/5/15-minute load averages: above the thread count, other work shared the CPU.
        ("loadAverage", OrderedDict([("start", load_start),
                                     ("end", [round(v, 2) for v in os.getloadavg()])])),
        ("evaluationSeconds", round(eval_seconds, 1)),
        # Everything from the script's start: data loading, training and the final evaluation.
        ("wholeRunSeconds", round(time.time() - t_script, 1)),
        ("perEpoch", epochs),
        ("finalTest", OrderedDict([
            ("accuracy", "%.2f" % (100.0 * correct / n_test)), ("correct", correct), ("total", n_test),
            ("perClassAccuracy", OrderedDict(zip(LABELS, per_class))),
            ("how", "crate_reference.CRATE from the saved state dict, float32, eval mode, each test "
                    "image through crate_reference.preprocess's steps (PIL 'L', no resize at 28, "
                    "/255, (x - mean) / std)"),
        ])),
        ("torchVersion", torch.__version__),
        ("threads", torch.get_num_threads()),
        ("device", args.device),
        ("machine", machine_name()),
        ("command", "/usr/bin/python3 scripts/train_fashion.py " + " ".join(sys.argv[1:])),
    ])
    if args.log:
        with open(args.log, "w") as f:
            json.dump(record, f, indent=2)
    if args.save:
        os.makedirs(args.out, exist_ok=True)
        base = os.path.join(args.out, NAME)
        ref.save_safetensors(state, base + ".safetensors", {"format": "pt"})
        torch.save(state, base + ".pth")
        with open(base + ".crate.json", "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        with open(os.path.join(args.out, "training.json"), "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
        # The written files load back to the same numbers.
        for path in (base + ".safetensors", base + ".pth"):
            back = ref.load_checkpoint(path)
            assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state), path
        print("wrote %s.{safetensors,pth,crate.json} and training.json" % base, flush=True)


if __name__ == "__main__":
    main()
