#!/usr/bin/python3
"""PyTorch reference for CRATE Lens.

A CRATE vision transformer written from the model description in the project notes
(state-dict key names identical to the published CRATE checkpoints), the image
preprocessing the TypeScript engine reproduces bit-exactly, and every per-layer metric
the engine reports. The TypeScript tests compare against numbers produced here
(see scripts/make_fixtures.py).

    /usr/bin/python3 scripts/crate_reference.py --selftest

Conventions: row vectors, ``linear(x, W, b) = x W^T + b``; LayerNorm eps 1e-5; the
forward runs in float32 (eval mode); metrics are computed in float64 from the float32
captured tensors.
"""

import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

torch.set_num_threads(2)

LN_EPS = 1e-5
CODING_RATE_EPS_SQ = 0.01
NEAR_ZERO = 1e-4
DINO_THRESHOLD = 0.6
ROLLOUTS = (("mean", 0.0), ("max", 0.9), ("min", 0.5))

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
GRAY_MEAN = [0.449]
GRAY_STD = [0.226]

PRESETS = {
    "tiny": dict(dim=384, depth=12, heads=6, dimHead=64),
    "small": dict(dim=576, depth=12, heads=12, dimHead=48),
    "base": dict(dim=768, depth=12, heads=12, dimHead=64),
    "large": dict(dim=1024, depth=24, heads=16, dimHead=64),
}

REQUIRED_KEYS = ("imageSize", "patchSize", "dim", "depth", "heads", "dimHead", "numClasses")


# ----------------------------------------------------------------------------- config

def preset_config(name):
    """Full config of a named preset (224/16, RGB, 1000 classes)."""
    if name not in PRESETS:
        raise ValueError("unknown preset %r (known: %s)" % (name, ", ".join(PRESETS)))
    cfg = dict(imageSize=224, patchSize=16, channels=3, numClasses=1000)
    cfg.update(PRESETS[name])
    return resolve_config(cfg)


def resolve_config(cfg):
    """Fill defaults; returns a new dict with every key present (labels only if given)."""
    missing = [k for k in REQUIRED_KEYS if k not in cfg]
    if missing:
        raise ValueError("config lacks " + ", ".join(missing))
    out = OrderedDict()
    for k in ("imageSize", "patchSize"):
        out[k] = int(cfg[k])
    out["channels"] = int(cfg.get("channels", 3))
    for k in ("dim", "depth", "heads", "dimHead", "numClasses"):
        out[k] = int(cfg[k])
    out["pool"] = cfg.get("pool", "cls")
    out["istaStepSize"] = float(cfg.get("istaStepSize", 0.1))
    out["istaLambda"] = float(cfg.get("istaLambda", 0.1))
    c = out["channels"]
    if c not in (1, 3):
        raise ValueError("channels must be 1 or 3")
    out["mean"] = [float(v) for v in cfg.get("mean", IMAGENET_MEAN if c == 3 else GRAY_MEAN)]
    out["std"] = [float(v) for v in cfg.get("std", IMAGENET_STD if c == 3 else GRAY_STD)]
    if len(out["mean"]) != c or len(out["std"]) != c:
        raise ValueError("mean/std must have one value per channel")
    out["resize"] = cfg.get("resize", "squash")
    if out["pool"] not in ("cls", "mean"):
        raise ValueError("pool must be 'cls' or 'mean'")
    if out["resize"] not in ("squash", "center-crop"):
        raise ValueError("resize must be 'squash' or 'center-crop'")
    if out["imageSize"] % out["patchSize"]:
        raise ValueError("imageSize must be a multiple of patchSize")
    if cfg.get("labels") is not None:
        labels = [str(s) for s in cfg["labels"]]
        if len(labels) != out["numClasses"]:
            raise ValueError("labels must have numClasses entries")
        out["labels"] = labels
    return out


# ----------------------------------------------------------------------------- model

class Patchify(nn.Module):
    """b c (h p1) (w p2) -> b (h w) (p1 p2 c): row-major patches, channel fastest inside."""

    def __init__(self, patch):
        super().__init__()
        self.patch = patch

    def forward(self, img):
        b, c, hh, ww = img.shape
        p = self.patch
        g = img.reshape(b, c, hh // p, p, ww // p, p)
        g = g.permute(0, 2, 4, 3, 5, 1)  # b, gh, gw, p1, p2, c
        return g.reshape(b, (hh // p) * (ww // p), p * p * c)


class PreNorm(nn.Module):
    def __init__(self, dim, fn, eps=LN_EPS):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.fn = fn

    def forward(self, z, capture=None):
        return self.fn(self.norm(z), capture)


class MSSA(nn.Module):
    """Multi-head subspace self-attention: Q = K = V = LN1(z) Wqkv^T."""

    def __init__(self, dim, heads, dim_head, out_bias=True):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.dim_head = dim_head
        self.scale = dim_head ** -0.5
        self.qkv = nn.Linear(dim, inner, bias=False)
        if heads == 1 and dim_head == dim:
            self.to_out = nn.Identity()
        else:
            self.to_out = nn.Sequential(nn.Linear(inner, dim, bias=out_bias))

    def forward(self, x, capture=None):
        b, t, _ = x.shape
        w = self.qkv(x)                                              # [b, T, h*p]
        wh = w.reshape(b, t, self.heads, self.dim_head).transpose(1, 2)  # [b, h, T, p]
        attn = torch.softmax(torch.matmul(wh, wh.transpose(-1, -2)) * self.scale, dim=-1)
        out = torch.matmul(attn, wh).transpose(1, 2).reshape(b, t, self.heads * self.dim_head)
        if capture is not None:
            capture["qkv"] = w
            capture["attention"] = attn
        return self.to_out(out)


class ISTA(nn.Module):
    """One ISTA step from x: ReLU(x + eta*(x D - x D^T D) - eta*lambda); weight = D [dim, dim]."""

    def __init__(self, dim, step_size, lambd):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.step_size = step_size
        self.lambd = lambd

    def forward(self, x, capture=None):
        d = self.weight
        x_dt = torch.matmul(x, d.t())          # x D^T
        x_dtd = torch.matmul(x_dt, d)          # x D^T D
        x_d = torch.matmul(x, d)               # x D
        pre = x + (self.step_size * (x_d - x_dtd) - self.step_size * self.lambd)
        out = F.relu(pre)
        if capture is not None:
            capture["istaInput"] = x
            capture["preActivation"] = pre
            capture["istaOutput"] = out
        return out


class Transformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, step_size, lambd):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.ModuleList([
                PreNorm(dim, MSSA(dim, heads, dim_head)),
                PreNorm(dim, ISTA(dim, step_size, lambd)),
            ])
            for _ in range(depth)
        ])

    def forward(self, z, captures=None):
        for attn, ista in self.layers:
            cap = {} if captures is not None else None
            z_half = attn(z, cap) + z
            z = ista(z_half, cap)
            if captures is not None:
                captures.append(cap)
        return z


class CRATE(nn.Module):
    def __init__(self, config):
        super().__init__()
        cfg = resolve_config(config)
        self.config = cfg
        s, p, c, dim = cfg["imageSize"], cfg["patchSize"], cfg["channels"], cfg["dim"]
        n = (s // p) ** 2
        patch_dim = p * p * c
        self.num_patches = n
        self.to_patch_embedding = nn.Sequential(
            Patchify(p),
            nn.LayerNorm(patch_dim, eps=LN_EPS),
            nn.Linear(patch_dim, dim),
            nn.LayerNorm(dim, eps=LN_EPS),
        )
        self.pos_embedding = nn.Parameter(torch.empty(1, n + 1, dim))
        self.cls_token = nn.Parameter(torch.empty(1, 1, dim))
        self.transformer = Transformer(dim, cfg["depth"], cfg["heads"], cfg["dimHead"],
                                       cfg["istaStepSize"], cfg["istaLambda"])
        self.mlp_head = nn.Sequential(nn.LayerNorm(dim, eps=LN_EPS), nn.Linear(dim, cfg["numClasses"]))
        self.eval()

    def forward(self, img, captures=None):
        x = self.to_patch_embedding(img)
        b, n, _ = x.shape
        cls = self.cls_token.expand(b, -1, -1)
        z = torch.cat([cls, x], dim=1) + self.pos_embedding[:, : n + 1]
        z = self.transformer(z, captures)
        pooled = z.mean(dim=1) if self.config["pool"] == "mean" else z[:, 0]
        return self.mlp_head(pooled)


def expected_keys(config):
    """State-dict key names of a model with this config, in module order."""
    cfg = resolve_config(config)
    keys = ["pos_embedding", "cls_token"]
    for i in (1, 2, 3):
        keys += ["to_patch_embedding.%d.weight" % i, "to_patch_embedding.%d.bias" % i]
    has_out = not (cfg["heads"] == 1 and cfg["dimHead"] == cfg["dim"])
    for l in range(cfg["depth"]):
        pre = "transformer.layers.%d." % l
        keys += [pre + "0.norm.weight", pre + "0.norm.bias", pre + "0.fn.qkv.weight"]
        if has_out:
            keys += [pre + "0.fn.to_out.0.weight", pre + "0.fn.to_out.0.bias"]
        keys += [pre + "1.norm.weight", pre + "1.norm.bias", pre + "1.fn.weight"]
    keys += ["mlp_head.0.weight", "mlp_head.0.bias", "mlp_head.1.weight", "mlp_head.1.bias"]
    return keys


def seeded_normal(g):
    """normal_(t, mean, std): fills t in place from the generator g, in float32."""
    def normal_(t, mean, std):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float32) * std + mean)
    return normal_


def randomize_modules_(model, normal_, ista_norm_bias=0.0, other=None):
    """The shared part of every fixture model's random parameters, module by module in order:
    LayerNorm weights N(1, 0.2) and biases N(0, 0.2) (the LN2 biases, named '*.1.norm', centred on
    ista_norm_bias), Linear and Conv2d weights N(0, 1/fan_in) and biases N(0, 0.1); any other module
    goes to other(mod) (the family's dictionaries)."""
    for name, mod in model.named_modules():
        if isinstance(mod, nn.LayerNorm):
            normal_(mod.weight, 1.0, 0.2)
            normal_(mod.bias, ista_norm_bias if name.endswith(".1.norm") else 0.0, 0.2)
        elif isinstance(mod, (nn.Linear, nn.Conv2d)):
            normal_(mod.weight, 0.0, 1.0 / math.sqrt(mod.weight[0].numel()))
            if mod.bias is not None:
                normal_(mod.bias, 0.0, 0.1)
        elif other is not None:
            other(mod)


def randomize_(model, generator=None, ista_norm_bias=0.0):
    """Random parameters with scales that keep activations O(1) and ISTA codes ~50% sparse.

    ista_norm_bias shifts the mean of every LN2 bias: > 0 gives denser codes, < 0 sparser.
    """
    normal_ = seeded_normal(generator)
    dim = model.config["dim"]

    def dictionary(mod):
        if isinstance(mod, ISTA):
            normal_(mod.weight, 0.0, 1.0 / math.sqrt(dim))

    randomize_modules_(model, normal_, ista_norm_bias, dictionary)
    normal_(model.pos_embedding, 0.0, 0.5)
    normal_(model.cls_token, 0.0, 0.5)
    return model


def count_parameters(state_dict):
    return int(sum(v.numel() for v in state_dict.values()))


def model_from_state_dict(config, state_dict):
    """float32 model from a state dict of any float dtype (cast to float32)."""
    model = CRATE(config)
    sd = OrderedDict((k, v.detach().to(torch.float32)) for k, v in state_dict.items())
    got, want = set(sd), set(expected_keys(config))
    if got != want:
        raise ValueError("state dict keys differ: missing %s, unexpected %s"
                         % (sorted(want - got)[:5], sorted(got - want)[:5]))
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model


# ----------------------------------------------------------------------------- checkpoints

_ST_DTYPES = {
    torch.float32: ("F32", "<f4"), torch.float16: ("F16", "<f2"), torch.float64: ("F64", "<f8"),
    torch.int64: ("I64", "<i8"), torch.int32: ("I32", "<i4"),
}


def save_safetensors(state_dict, path, metadata=None):
    """safetensors by hand: u64 LE header length, JSON header, raw little-endian data."""
    header = OrderedDict()
    if metadata is not None:
        header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    chunks, offset = [], 0
    for name, t in state_dict.items():
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.bfloat16:
            code = "BF16"
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            code, np_dtype = _ST_DTYPES[t.dtype]
            raw = t.numpy().astype(np_dtype).tobytes()
        header[name] = OrderedDict([("dtype", code), ("shape", list(t.shape)),
                                    ("data_offsets", [offset, offset + len(raw)])])
        chunks.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8: 8 + n].decode("utf-8"))
    base = 8 + n
    out = OrderedDict()
    codes = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a: base + b]
        if info["dtype"] == "BF16":
            arr = np.frombuffer(raw, dtype="<i2").astype(np.int16).copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype=codes[info["dtype"]]).copy())
        out[name] = t.reshape(info["shape"])
    return out


def load_checkpoint(path):
    """State dict from .pth/.pt/.pth.tar/.safetensors, unwrapping 'state_dict'/'model' and 'module.'."""
    if path.endswith(".safetensors"):
        sd = load_safetensors(path)
    else:
        obj = torch.load(path, map_location="cpu")
        for key in ("state_dict", "model"):
            if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
        sd = obj
    out = OrderedDict()
    for k, v in sd.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


# ----------------------------------------------------------------------------- preprocessing

def preprocess(path, config):
    """CHW float32 tensor, exactly the recipe the TypeScript engine reproduces."""
    cfg = resolve_config(config)
    img = Image.open(path)
    img = img.convert("RGB" if cfg["channels"] == 3 else "L")
    s = cfg["imageSize"]
    if cfg["resize"] == "squash":
        if img.size != (s, s):
            img = img.resize((s, s), Image.BILINEAR)
    else:  # torchvision Resize(int(S*256/224)) + CenterCrop(S) on a PIL image
        r = int(s * 256 / 224)
        w, h = img.size
        if w <= h:
            ow, oh = r, int(r * h / w)
        else:
            oh, ow = r, int(r * w / h)
        if (ow, oh) != (w, h):
            img = img.resize((ow, oh), Image.BILINEAR)
        top = int(round((oh - s) / 2.0))
        left = int(round((ow - s) / 2.0))
        img = img.crop((left, top, left + s, top + s))
    x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).float()
    x = x / 255.0
    if x.dim() == 2:
        x = x.unsqueeze(-1)
    x = x.permute(2, 0, 1).contiguous()  # CHW
    mean = torch.tensor(cfg["mean"], dtype=torch.float32).reshape(-1, 1, 1)
    std = torch.tensor(cfg["std"], dtype=torch.float32).reshape(-1, 1, 1)
    return (x - mean) / std


# ----------------------------------------------------------------------------- metrics

def coding_rate(qkv, heads, dim_head):
    """sum_k 1/2 logdet(I_p + c X_k^T X_k), rows of X_k unit-normalised, c = p/(T*0.01)."""
    w = qkv.to(torch.float64)
    t = w.shape[0]
    c = dim_head / (t * CODING_RATE_EPS_SQ)
    total = 0.0
    for k in range(heads):
        xk = w[:, k * dim_head:(k + 1) * dim_head]
        xk = xk / xk.norm(dim=1, keepdim=True)
        m = torch.eye(dim_head, dtype=torch.float64) + c * (xk.t() @ xk)
        chol = torch.linalg.cholesky(m)
        total += float(torch.log(torch.diagonal(chol)).sum())  # 1/2 logdet = sum log diag(L)
    return total


def coding_rate_gram(qkv, heads, dim_head):
    """Same quantity via the T x T determinant (used by the self-test)."""
    w = qkv.to(torch.float64)
    t = w.shape[0]
    c = dim_head / (t * CODING_RATE_EPS_SQ)
    total = 0.0
    for k in range(heads):
        xk = w[:, k * dim_head:(k + 1) * dim_head]
        xk = xk / xk.norm(dim=1, keepdim=True)
        total += 0.5 * float(torch.logdet(torch.eye(t, dtype=torch.float64) + c * (xk @ xk.t())))
    return total


def rollout(attentions, fusion, discard):
    """vit-explain rollout over per-layer [h, T, T] attentions; returns result[0, 1:] / max."""
    t = attentions[0].shape[-1]
    result = torch.eye(t, dtype=torch.float64)
    for a in attentions:
        a = a.to(torch.float64)
        if fusion == "mean":
            fused = a.mean(dim=0)
        elif fusion == "max":
            fused = a.max(dim=0).values
        elif fusion == "min":
            fused = a.min(dim=0).values
        else:
            raise ValueError(fusion)
        fused = fused.clone()
        k = int(t * t * discard)
        if k > 0:
            flat = fused.view(-1)
            _, idx = flat.topk(k, largest=False)
            idx = idx[idx != 0]
            flat[idx] = 0
        eye = torch.eye(t, dtype=torch.float64)
        m = (fused + eye) / 2
        m = m / m.sum(dim=-1, keepdim=True)
        result = m @ result
    mask = result[0, 1:]
    # A large discard can leave the CLS row with no patch mass: report zeros, not 0/0.
    peak = mask.max()
    return mask / peak if peak > 0 else torch.zeros_like(mask)


def dino_mask(att, threshold=DINO_THRESHOLD):
    """att [h, N] CLS->patch attention; 1 where the patch is within the top `threshold` mass."""
    att = att.to(torch.float64)
    val, idx = torch.sort(att, dim=-1)
    val = val / val.sum(dim=-1, keepdim=True)
    cum = torch.cumsum(val, dim=-1)
    keep_sorted = cum > (1 - threshold)
    keep = torch.zeros_like(keep_sorted)
    keep.scatter_(-1, idx, keep_sorted)
    return keep.to(torch.int64)


def analyse(model, img):
    """Forward one CHW image; returns the float32 captures and the float64 metrics."""
    cfg = model.config
    caps = []
    with torch.no_grad():
        logits = model(img.unsqueeze(0), caps)[0]
    layers = []
    for cap in caps:
        x = cap["istaInput"][0].to(torch.float64)
        z = cap["istaOutput"][0]
        pre = cap["preActivation"][0]
        layers.append(dict(cap=cap, x=x, z=z, pre=pre))
    d_list = [model.transformer.layers[l][1].fn.weight.detach().to(torch.float64)
              for l in range(cfg["depth"])]
    t = model.num_patches + 1
    out_layers = []
    attentions = []
    for l, lay in enumerate(layers):
        cap, x, z32, pre = lay["cap"], lay["x"], lay["z"], lay["pre"]
        d = d_list[l]
        a = cap["attention"][0]  # [h, T, T] float32
        attentions.append(a)
        z = z32.to(torch.float64)
        zero = int((z32 == 0).sum())
        near = int((pre.abs() <= NEAR_ZERO).sum())
        recon = float((x - z @ d.t()).norm() / x.norm())
        xd = x @ d
        resid = float((xd - (x @ d.t()) @ d).norm() / xd.norm())
        cr = coding_rate(cap["qkv"][0], cfg["heads"], cfg["dimHead"])
        out_layers.append(OrderedDict([
            ("clsAttention", a[:, 0, :]),
            ("istaInput", cap["istaInput"][0].reshape(-1)),
            ("istaOutput", z32.reshape(-1)),
            ("sparsity", zero / float(t * cfg["dim"])),
            ("zeroCount", zero),
            ("nearZeroCount", near),
            ("reconstructionError", recon),
            ("istaResidual", resid),
            ("codingRate", cr),
        ]))
    roll = OrderedDict()
    for fusion, discard in ROLLOUTS:
        roll["%s_%s" % (fusion, discard if discard else 0)] = rollout(attentions, fusion, discard)
    last_cls = attentions[-1][:, 0, 1:]
    probs = torch.softmax(logits.to(torch.float64), dim=-1)
    k = min(5, cfg["numClasses"])
    top_p, top_i = torch.topk(probs, k)
    return OrderedDict([
        ("logits", logits),
        ("top", [OrderedDict([("index", int(i)), ("probability", float(p))])
                 for i, p in zip(top_i.tolist(), top_p.tolist())]),
        ("layers", out_layers),
        ("rollout", roll),
        ("dinoMask", dino_mask(last_cls)),
        ("dinoMaskMerged", dino_mask(last_cls.to(torch.float64).mean(dim=0, keepdim=True))[0]),
        ("_attentions", attentions),
    ])


# ----------------------------------------------------------------------------- JSON

def f32_list(t, short=True):
    """float32 values as JSON numbers that read back to the exact float32.

    short: the shortest decimal that round-trips in float32 (compact; Math.fround of the
    parsed double gives the float32 back); otherwise the exact value as a double (fast).
    """
    arr = t.detach().to(torch.float32).contiguous().numpy().reshape(-1)
    if not short:
        return arr.astype(np.float64).tolist()
    return [float(repr(v)) for v in arr]


def f64_list(t):
    return t.detach().to(torch.float64).contiguous().numpy().reshape(-1).tolist()


def result_json(image_name, img, res, short=True):
    layers = []
    for lay in res["layers"]:
        layers.append(OrderedDict([
            ("clsAttention", [f32_list(row, short) for row in lay["clsAttention"]]),
            ("istaInput", f32_list(lay["istaInput"], short)),
            ("istaOutput", f32_list(lay["istaOutput"], short)),
            ("sparsity", lay["sparsity"]),
            ("zeroCount", lay["zeroCount"]),
            ("nearZeroCount", lay["nearZeroCount"]),
            ("reconstructionError", lay["reconstructionError"]),
            ("istaResidual", lay["istaResidual"]),
            ("codingRate", lay["codingRate"]),
        ]))
    return OrderedDict([
        ("image", image_name),
        ("input", f32_list(img, short)),
        ("logits", f32_list(res["logits"], short)),
        ("top", res["top"]),
        ("layers", layers),
        ("rollout", OrderedDict((k, f64_list(v)) for k, v in res["rollout"].items())),
        ("dinoMask", [[int(v) for v in row] for row in res["dinoMask"].tolist()]),
        ("dinoMaskMerged", [int(v) for v in res["dinoMaskMerged"].tolist()]),
    ])


def check_sane(res, config, where=""):
    """Attention rows sum to 1; returns the list of per-layer sparsities."""
    for l, a in enumerate(res["_attentions"]):
        err = float((a.to(torch.float64).sum(-1) - 1).abs().max())
        if err > 1e-5:
            raise AssertionError("%s layer %d: attention rows sum off by %g" % (where, l, err))
    return [lay["sparsity"] for lay in res["layers"]]


def margins(res):
    """How far the discrete outputs are from flipping under float32-sized perturbations.

    rollout: smallest gap, over layers and discarding fusions, between the largest dropped and
    the smallest kept fused attention value; dino: smallest |cumsum - (1 - threshold)|;
    top: smallest gap between consecutive sorted logits among the top-5 (and the 6th).
    """
    atts = [a.to(torch.float64) for a in res["_attentions"]]
    t = atts[0].shape[-1]
    roll = math.inf
    for fusion, discard in ROLLOUTS:
        k = int(t * t * discard)
        if k <= 0:
            continue
        for a in atts:
            fused = {"mean": a.mean(0), "max": a.max(0).values, "min": a.min(0).values}[fusion]
            v = torch.sort(fused.reshape(-1)).values
            roll = min(roll, float(v[k] - v[k - 1]))
    last = atts[-1][:, 0, 1:]
    dino = math.inf
    for att in list(last) + [last.mean(0)]:
        v = torch.sort(att).values
        cum = torch.cumsum(v / v.sum(), 0)
        dino = min(dino, float((cum - (1 - DINO_THRESHOLD)).abs().min()))
    lg = torch.sort(res["logits"].to(torch.float64), descending=True).values
    n = min(6, lg.numel())
    top = float((lg[: n - 1] - lg[1:n]).min()) if n > 1 else math.inf
    return dict(rollout=roll, dino=dino, top=top)


# ----------------------------------------------------------------------------- self-test

def selftest():
    g = torch.Generator().manual_seed(1234)
    cfg = resolve_config(dict(imageSize=32, patchSize=8, dim=48, depth=3, heads=4, dimHead=12,
                              numClasses=10, istaStepSize=0.1, istaLambda=0.1))
    model = randomize_(CRATE(cfg), g)
    keys = list(model.state_dict().keys())
    assert keys == expected_keys(cfg), "state-dict keys differ from the official names"
    single = dict(cfg, heads=1, dimHead=48)
    assert list(CRATE(single).state_dict().keys()) == expected_keys(single)
    assert not any("to_out" in k for k in expected_keys(single))

    # patchify: element (p1*P + p2)*C + c of patch (gy, gx)
    img = torch.randn(1, 3, 32, 32, generator=g)
    pt = Patchify(8)(img)
    for (gy, gx, p1, p2, c) in [(0, 0, 0, 0, 0), (1, 2, 3, 5, 2), (3, 3, 7, 7, 1), (2, 1, 0, 6, 0)]:
        assert pt[0, gy * 4 + gx, (p1 * 8 + p2) * 3 + c] == img[0, c, gy * 8 + p1, gx * 8 + p2]

    res = analyse(model, img[0])
    check_sane(res, cfg, "selftest")
    eta, lam = cfg["istaStepSize"], cfg["istaLambda"]
    worst_ista, worst_cr = 0.0, 0.0
    for l in range(cfg["depth"]):
        d = model.transformer.layers[l][1].fn.weight.detach().to(torch.float64)
        lay = res["layers"][l]
        x = lay["istaInput"].to(torch.float64).reshape(-1, cfg["dim"])
        z = lay["istaOutput"].to(torch.float64).reshape(-1, cfg["dim"])
        m = torch.eye(cfg["dim"], dtype=torch.float64) + eta * (d - d.t() @ d)
        ref = torch.relu(x @ m - eta * lam)
        worst_ista = max(worst_ista, float((ref - z).abs().max()))
    # coding rate: p x p Cholesky form vs T x T logdet form
    caps = []
    with torch.no_grad():
        model(img, caps)
    for cap in caps:
        a = coding_rate(cap["qkv"][0], cfg["heads"], cfg["dimHead"])
        b = coding_rate_gram(cap["qkv"][0], cfg["heads"], cfg["dimHead"])
        worst_cr = max(worst_cr, abs(a - b) / abs(b))
    assert worst_ista <= 1e-5, "ISTA step differs from ReLU(x(I + eta(D - D^T D)) - eta*lambda): %g" % worst_ista
    assert worst_cr <= 1e-5, "coding rate p x p vs T x T differ: %g" % worst_cr

    # preprocessing: every float32 op equals the double op rounded to float32 (the TS recipe)
    rng = np.random.RandomState(0)
    u8 = rng.randint(0, 256, size=(3, 64)).astype(np.uint8)
    mean = np.array(IMAGENET_MEAN, dtype=np.float32)[:, None]
    std = np.array(IMAGENET_STD, dtype=np.float32)[:, None]
    t = torch.from_numpy(u8).float() / 255.0
    t = (t - torch.from_numpy(mean)) / torch.from_numpy(std)
    f = np.float32
    manual = np.array([[f(f(f(float(v) / 255.0) - float(mean[c, 0])) / float(std[c, 0]))
                        for v in u8[c]] for c in range(3)], dtype=np.float32)
    assert np.array_equal(manual.view(np.uint32), t.numpy().view(np.uint32)), "preprocess rounding"

    # safetensors round trip
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "m.safetensors")
        sd = model.state_dict()
        save_safetensors(sd, p, {"format": "pt"})
        back = load_safetensors(p)
        assert list(back) == list(sd) and all(torch.equal(back[k], sd[k]) for k in sd)

    # mean pooling: over all tokens incl. CLS
    mcfg = dict(cfg, pool="mean")
    mm = model_from_state_dict(mcfg, model.state_dict())
    caps = []
    with torch.no_grad():
        lg = mm(img, caps)
    z_last = caps[-1]["istaOutput"]
    with torch.no_grad():
        lg2 = mm.mlp_head(z_last.mean(dim=1))
    assert torch.equal(lg, lg2)

    print("selftest ok: ISTA max |diff| %.3g, coding-rate max rel diff %.3g, sparsity %s"
          % (worst_ista, worst_cr, ["%.2f" % s for s in (l["sparsity"] for l in res["layers"])]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--selftest":
        selftest()
    else:
        print("usage: %s --selftest" % sys.argv[0])
        sys.exit(2)
