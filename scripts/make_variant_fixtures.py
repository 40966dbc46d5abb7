#!/usr/bin/python3
"""Writes the fixtures for CRATE model variants (deterministic, idempotent).

    /usr/bin/python3 scripts/make_variant_fixtures.py
        test/fixtures/variants/posembed.json     position-embedding resizes through torch's F.interpolate
        test/fixtures/variants/<case>/           checkpoint, config, reference.json (layout of make_fixtures.py)
        test/fixtures/variants/manifest.json     the list of cases

Position-embedding recipes (the CLS row is always kept):
    bicubic-timm      timm's resample_abs_pos_embed: F.interpolate(size=new, mode='bicubic', antialias=True)
    bicubic-notebook  the emergence notebooks: F.interpolate(scale_factor=(new + 0.1)/old, mode='bicubic',
                      align_corners=False, recompute_scale_factor=False)

CRATE-MAE encoders: timm-style conv patch embedding (patch_embed.proj, a Linear over (c, p1, p2)
patch vectors), blocks.{i}.layers.0.{0,1}.* holding CRATE's attention and ISTA blocks (LayerNorm
eps 1e-5), decoder_pos_embed added to every token, final norm (eps 1e-6, not part of any measure);
the decoder's tensors are in the checkpoint and unused. No classifier: "logits" are empty.
"""

import argparse
import json
import os
import sys
import types
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crate_reference as cr  # noqa: E402

torch.set_num_threads(2)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
IMAGES = os.path.join(FIXTURES, "images")
OUT = os.path.join(FIXTURES, "variants")

# Only the discard-free rollout is compared for these cases, so rollout ties do not matter.
MIN_DINO_MARGIN = 1e-4
MIN_LOGIT_GAP = 1e-3

SMALL = dict(imageSize=32, patchSize=8, channels=3, dim=48, depth=3, heads=4, dimHead=12, numClasses=10)


def _write_json(path, obj, indent=None):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, separators=(",", ": ") if indent else (",", ":"))
        f.write("\n")


# ----------------------------------------------------------------------------- position embeddings

def resize_grid(grid, out_hw, mode):
    """[1, h, w, d] float32 -> [1, H, W, d] by the named recipe."""
    x = grid.permute(0, 3, 1, 2)
    if mode == "bicubic-timm":
        y = F.interpolate(x, size=out_hw, mode="bicubic", antialias=True)
    elif mode == "bicubic-notebook":
        factors = ((out_hw[0] + 0.1) / x.shape[2], (out_hw[1] + 0.1) / x.shape[3])
        y = F.interpolate(x, scale_factor=factors, mode="bicubic", align_corners=False,
                          recompute_scale_factor=False)
        assert tuple(y.shape[2:]) == tuple(out_hw), y.shape
    else:
        raise ValueError(mode)
    return y.permute(0, 2, 3, 1).contiguous()


def resize_pos_embedding(pos, grid, mode):
    """[1, 1 + g*g, d] -> [1, 1 + grid*grid, d], CLS row kept."""
    d = pos.shape[-1]
    g = int(round((pos.shape[1] - 1) ** 0.5))
    body = resize_grid(pos[:, 1:].reshape(1, g, g, d), (grid, grid), mode)
    return torch.cat([pos[:, :1], body.reshape(1, grid * grid, d)], dim=1)


RESIZES = [
    ("bicubic-timm", (4, 4), (7, 7), 3),
    ("bicubic-timm", (14, 14), (28, 28), 2),
    ("bicubic-timm", (6, 5), (3, 4), 2),    # shrinking: antialias widens the kernel
    ("bicubic-timm", (7, 7), (4, 4), 3),
    ("bicubic-notebook", (4, 4), (7, 7), 3),
    ("bicubic-notebook", (14, 14), (28, 28), 2),
    ("bicubic-notebook", (5, 6), (9, 7), 2),
]


def make_resizes():
    g = torch.Generator().manual_seed(909)
    cases = []
    for mode, (ih, iw), (oh, ow), d in RESIZES:
        grid = torch.randn(1, ih, iw, d, generator=g)
        out = resize_grid(grid, (oh, ow), mode)
        cases.append(OrderedDict([
            ("mode", mode), ("inH", ih), ("inW", iw), ("outH", oh), ("outW", ow), ("dim", d),
            ("input", cr.f32_list(grid)), ("output", cr.f32_list(out)),
        ]))
    _write_json(os.path.join(OUT, "posembed.json"), cases)


# ----------------------------------------------------------------------------- CRATE-MAE encoder

class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def forward(self, img):
        return self.proj(img).flatten(2).transpose(1, 2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        self.layers = nn.ModuleList([nn.ModuleList([
            cr.PreNorm(dim, cr.MSSA(dim, cfg["heads"], cfg["dimHead"])),
            cr.PreNorm(dim, cr.ISTA(dim, cfg["istaStepSize"], cfg["istaLambda"])),
        ])])


class MaeEncoder(nn.Module):
    """The encoder of a CRATE masked autoencoder with nothing masked, plus its (unused) decoder's tensors."""

    def __init__(self, config, decoder_depth=1):
        super().__init__()
        cfg = cr.resolve_config(config)
        self.config = cfg
        s, p, c, dim = cfg["imageSize"], cfg["patchSize"], cfg["channels"], cfg["dim"]
        n = (s // p) ** 2
        self.num_patches = n
        self.patch_embed = PatchEmbed(c, dim, p)
        self.cls_token = nn.Parameter(torch.empty(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.empty(1, n + 1, dim))
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_embed = nn.Linear(dim, dim)
        self.mask_token = nn.Parameter(torch.empty(1, 1, dim))
        self.decoder_pos_embed = nn.Parameter(torch.empty(1, n + 1, dim))
        self.decoder_blocks = nn.ModuleList([Block(cfg) for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_pred = nn.Linear(dim, p * p * c)
        # crate_reference.analyse reads the dictionaries as transformer.layers[l][1].fn.weight.
        self.__dict__["transformer"] = types.SimpleNamespace(layers=[b.layers[0] for b in self.blocks])
        self.eval()

    def forward(self, img, captures=None):
        x = self.patch_embed(img)
        z = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.decoder_pos_embed
        for block in self.blocks:
            attn, ista = block.layers[0]
            cap = {} if captures is not None else None
            z = ista(attn(z, cap) + z, cap)
            if captures is not None:
                captures.append(cap)
        self.features = self.norm(z)
        return torch.zeros(img.shape[0], 0)


def randomize_mae_(model, g, ista_norm_bias=0.0):
    normal_ = cr.seeded_normal(g)
    dim = model.config["dim"]

    def dictionary(mod):
        if isinstance(mod, cr.ISTA):
            normal_(mod.weight, 0.0, 1.0 / dim ** 0.5)

    cr.randomize_modules_(model, normal_, ista_norm_bias, dictionary)
    normal_(model.pos_embed, 0.0, 0.5)
    normal_(model.cls_token, 0.0, 0.5)
    normal_(model.mask_token, 0.0, 0.02)
    with torch.no_grad():
        model.decoder_pos_embed.copy_(model.pos_embed)  # equal in every released preset
    return model


# ----------------------------------------------------------------------------- golden cases

CASES = [
    # A model trained at 32 px (4x4 patches) analysed at 64 px (8x8): timm's resize.
    dict(name="pos_resize_timm", family="crate", checkpoint="model.pth", configFile="analysis.crate.json",
         trained=dict(SMALL), analysed=dict(SMALL, imageSize=64), posEmbedResize="bicubic-timm", seed=301,
         images=["rgb_32.png", "rgb_40x52.png"]),
    dict(name="pos_resize_notebook", family="crate", checkpoint="model.pth", configFile="analysis.crate.json",
         trained=dict(SMALL, depth=2), analysed=dict(SMALL, depth=2, imageSize=56), posEmbedResize="bicubic-notebook",
         seed=302, images=["rgb_28.png", "rgba_36.png"]),
    # The emergence demo's head shape (heads of 128), 8x8 patches, kept small; saved as the demo
    # checkpoint is, {'model': ...} with an extra `head` Linear that CRATE.forward never applies.
    dict(name="demo_heads128", family="crate", checkpoint="model.pth", configFile="model.crate.json", demoHead=21,
         trained=dict(imageSize=32, patchSize=8, channels=3, dim=256, depth=2, heads=2, dimHead=128, numClasses=10),
         seed=303, images=["rgb_32.png", "palette_32.png"]),
    dict(name="mae_encoder", family="crate-mae", checkpoint="checkpoint-99.pth", configFile="checkpoint-99.crate.json",
         trained=dict(SMALL, numClasses=0, istaLambda=0.5), seed=304, istaNormBias=0.3,
         images=["rgb_32.png", "rgb_40x52.png", "gray_32.png"]),
]


def _crate_case(case, seed):
    cfg = cr.resolve_config(case["trained"])
    model = cr.randomize_(cr.CRATE(cfg), torch.Generator().manual_seed(seed))
    sd = model.state_dict()
    analysed = cr.resolve_config(case.get("analysed", case["trained"]))
    ref_sd = OrderedDict(sd)
    if analysed["imageSize"] != cfg["imageSize"]:
        grid = analysed["imageSize"] // analysed["patchSize"]
        ref_sd["pos_embedding"] = resize_pos_embedding(sd["pos_embedding"], grid, case["posEmbedResize"])
    return sd, cr.model_from_state_dict(analysed, ref_sd), analysed


def _mae_case(case, seed):
    cfg = cr.resolve_config(case["trained"])
    model = randomize_mae_(MaeEncoder(cfg), torch.Generator().manual_seed(seed), case.get("istaNormBias", 0.0))
    return model.state_dict(), model, cfg


def _save(case, sd, path):
    if case.get("demoHead"):
        g = torch.Generator().manual_seed(case["seed"])
        width = sd["mlp_head.1.weight"].shape[0]
        sd = OrderedDict(sd)
        sd["head.weight"] = torch.randn(case["demoHead"], width, generator=g) / width ** 0.5
        sd["head.bias"] = torch.zeros(case["demoHead"])
        torch.save({"model": sd}, path)
    elif case["family"] == "crate-mae":
        # As MAE-style training saves them: the run's argparse options and the loss scaler beside the model.
        args = argparse.Namespace(model="mae_crate_custom", input_size=32, mask_ratio=0.75, norm_pix_loss=False)
        torch.save({"model": sd, "epoch": 99, "args": args, "scaler": {"scale": 65536.0, "_growth_tracker": 12}}, path)
    else:
        torch.save(sd, path)


def write_case(case):
    d = os.path.join(OUT, case["name"])
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for attempt in range(20):
        seed = case["seed"] + 1000 * attempt
        sd, model, cfg = (_mae_case if case["family"] == "crate-mae" else _crate_case)(case, seed)
        results, ok = [], True
        for name in case["images"]:
            img = cr.preprocess(os.path.join(IMAGES, name), cfg)
            res = cr.analyse(model, img)
            cr.check_sane(res, cfg, case["name"] + "/" + name)
            m = cr.margins(res)
            if m["dino"] < MIN_DINO_MARGIN or m["top"] < MIN_LOGIT_GAP:
                ok = False
                break
            results.append(cr.result_json("images/" + name, img, res))
        if ok:
            break
    else:
        raise AssertionError(case["name"] + ": no seed kept every discrete output clear of ties")
    _save(case, sd, os.path.join(d, case["checkpoint"]))
    file_cfg = OrderedDict(cfg)
    if "posEmbedResize" in case:
        file_cfg["posEmbedResize"] = case["posEmbedResize"]
    _write_json(os.path.join(d, case["configFile"]), file_cfg, indent=2)
    ref = OrderedDict([
        ("config", cfg),
        ("family", case["family"]),
        ("checkpoint", case["checkpoint"]),
        ("configFile", case["configFile"]),
        ("parameters", int(sum(v.numel() for v in model.state_dict().values()))),
        ("results", results),
    ])
    _write_json(os.path.join(d, "reference.json"), ref)
    return OrderedDict([
        ("name", case["name"]),
        ("dir", "variants/" + case["name"]),
        ("family", case["family"]),
        ("checkpoint", case["checkpoint"]),
        ("config", case["configFile"]),
        ("images", ["images/" + n for n in case["images"]]),
    ])


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    make_resizes()
    manifest = [write_case(c) for c in CASES]
    _write_json(os.path.join(OUT, "manifest.json"), manifest, indent=2)
    print("wrote %d resize cases and %d golden cases to %s" % (len(RESIZES), len(manifest), OUT))


if __name__ == "__main__":
    main()
