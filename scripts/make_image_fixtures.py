#!/usr/bin/python3
"""Writes the imaging test fixtures: small seeded images and what PIL makes of them.

Run with Debian's python3 (PIL 9.4, numpy):  /usr/bin/python3 scripts/make_image_fixtures.py

Output goes to test/fixtures/imaging/:
  images/      the encoded test images (PNG, JPEG, BMP, GIF), each well under 20 KB
  manifest.json  every case; expected pixel data is named by the SHA-256 of its raw bytes
  expected.bin   zlib-compressed raw bytes of the smaller expectations (offsets in manifest "blobs"),
                 so a failing test can say where and by how much it differs

PIL itself cannot write every variant worth testing (2/4/16-bit PNG, interlacing,
restart markers, unusual chroma sampling, BMP bitfields, GIF frame offsets...), so this
script carries tiny writers for those; PIL is only ever the reader that defines the truth.
JPEG references come from the system libjpeg-turbo as PIL uses it on x86-64 (SIMD code paths).
"""

import hashlib
import io
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
from PIL import Image, ImageFile

assert not ImageFile.LOAD_TRUNCATED_IMAGES
warnings.filterwarnings("ignore", category=UserWarning)  # PIL's palette-transparency advice

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "imaging")
IMAGES = os.path.join(ROOT, "images")
PACK = bytearray()
MAX_STORED = 32 * 1024  # larger expectations are checked by hash only
RNG = np.random.RandomState(20240611)

manifest = {"blobs": {}, "decode": [], "resize": [], "modelView": [], "truncated": [], "rejected": []}


# ----------------------------------------------------------------------------- helpers

def write_expected(name, data):
    """Records one expected byte string by its SHA-256; small ones also go into expected.bin for diagnostics."""
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    if len(data) <= MAX_STORED and digest not in manifest["blobs"]:
        comp = zlib.compress(data, 9)
        manifest["blobs"][digest] = [len(PACK), len(comp)]
        PACK.extend(comp)
    return digest


def write_image(name, data):
    assert len(data) < 20 * 1024, (name, len(data))
    with open(os.path.join(IMAGES, name), "wb") as f:
        f.write(data)
    return "images/" + name


def scene(w, h, seed_shift=0.0):
    """A smooth RGB test scene with edges and mild noise: exercises both smooth and sharp content."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = x / max(w - 1, 1), y / max(h - 1, 1)
    r = 200 * u + 40 * np.sin(6.0 * v + seed_shift)
    g = 160 * v + 60 * np.cos(5.0 * u * v + seed_shift)
    b = 120 + 100 * np.sin(3.0 * (u + v) + seed_shift)
    blob = np.exp(-(((u - 0.6) ** 2) + ((v - 0.4) ** 2)) / 0.03)
    r += 80 * blob
    g -= 50 * blob
    edge = (x + 2 * y) % 23 < 4
    b[edge] = 20
    img = np.stack([r, g, b], axis=-1) + RNG.normal(0, 6, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def gray_scene(w, h):
    rgb = scene(w, h, 1.3).astype(np.int64)
    return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


def alpha_plane(w, h):
    y, x = np.mgrid[0:h, 0:w]
    a = (255 * (x + y) / max(w + h - 2, 1)).astype(np.int64)
    a[::5, :] = 0
    a[:, ::7] = 255
    return a.astype(np.uint8)


def our_mode(im, fmt):
    """The mode decodeImage reports for what PIL opened (palette/1-bit/I images are expanded)."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return mode
    if mode in ("1", "I", "I;16"):
        return "L"
    if mode == "P":
        return "RGBA" if "transparency" in im.info else "RGB"
    if mode == "CMYK":
        return "RGB"
    raise ValueError(mode)


CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def pil_open(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def add_decode_case(name, fmt, data, mode_override=None, note=""):
    """Stores an image plus PIL's decode, convert('RGB') and convert('L') of it."""
    ext = {"png": "png", "jpeg": "jpg", "bmp": "bmp", "gif": "gif"}[fmt]
    file = write_image(name + "." + ext, data)
    im = pil_open(data)
    mode = mode_override or our_mode(im, fmt)
    decoded = im.convert(mode) if im.mode != mode else im
    case = {
        "name": name,
        "file": file,
        "format": fmt,
        "pilMode": im.mode,
        "width": im.size[0],
        "height": im.size[1],
        "channels": CHANNELS[mode],
        "pixels": write_expected(name, decoded.tobytes()),
        "rgb": write_expected(name + ".rgb", im.convert("RGB").tobytes()),
        "l": write_expected(name + ".l", im.convert("L").tobytes()),
    }
    if note:
        case["note"] = note
    manifest["decode"].append(case)
    return im


# ----------------------------------------------------------------------------- PNG writer

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Packs one row of integer samples (already interleaved) at the given bit depth."""
    if depth == 8:
        return bytes(np.asarray(samples, dtype=np.uint8))
    if depth == 16:
        return np.asarray(samples, dtype=">u2").tobytes()
    out = bytearray()
    acc = 0
    nbits = 0
    for s in samples:
        acc = (acc << depth) | int(s)
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc = 0
            nbits = 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp, rng):
    """Applies a random PNG filter per row so the decoder sees all five filter types."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for row in rows:
        ft = int(rng.randint(0, 5))
        f = bytearray(len(row))
        for i in range(len(row)):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][ft]
            f[i] = (row[i] - pred) & 0xFF
        out.append(ft)
        out += f
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_encode(samples, color_type, depth, interlace=False, plte=None, trns=None, extra=b""):
    """samples: (h, w, c) integer array of raw sample values for the colour type."""
    h, w, c = samples.shape
    bpp = max(1, c * depth // 8)
    rng = np.random.RandomState(w * 131 + h * 7 + color_type * 3 + depth)
    raw = bytearray()
    if not interlace:
        rows = [pack_row(samples[y].reshape(-1), depth) for y in range(h)]
        raw += filter_rows(rows, bpp, rng)
    else:
        for (x0, y0, dx, dy) in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            rows = [pack_row(sub[y].reshape(-1), depth) for y in range(sub.shape[0])]
            raw += filter_rows(rows, bpp, rng)
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    out += extra
    if plte is not None:
        out += png_chunk(b"PLTE", bytes(plte))
    if trns is not None:
        out += png_chunk(b"tRNS", bytes(trns))
    comp = zlib.compress(bytes(raw), 9)
    # Split IDAT so multi-chunk image data is covered.
    half = len(comp) // 2
    out += png_chunk(b"IDAT", comp[:half]) + png_chunk(b"IDAT", comp[half:])
    out += png_chunk(b"IEND", b"")
    return out


def make_png_cases():
    w, h = 29, 19
    rgb = scene(w, h)
    gray = gray_scene(w, h)
    alpha = alpha_plane(w, h)

    g1 = (gray > 128).astype(np.uint8)[..., None]
    add_decode_case("png-gray1", "png", png_encode(g1, 0, 1))
    add_decode_case("png-gray2-interlaced", "png", png_encode((gray >> 6)[..., None], 0, 2, interlace=True))
    add_decode_case("png-gray4", "png", png_encode((gray >> 4)[..., None], 0, 4))
    add_decode_case("png-gray8-trns", "png", png_encode(gray[..., None], 0, 8, trns=struct.pack(">H", int(gray[3, 3]))))
    g16 = (gray.astype(np.uint16) * 257 // 300 + RNG.randint(0, 2, gray.shape)).astype(np.uint16)
    g16[0, :8] = [0, 1, 254, 255, 256, 1000, 40000, 65535]
    add_decode_case("png-gray16", "png", png_encode(g16[..., None], 0, 16),
                    note="PIL opens 16-bit grey as mode I; convert('L') saturates at 255")
    add_decode_case("png-rgb8", "png", png_encode(rgb, 2, 8))
    rgb16 = rgb.astype(np.uint16) * 256 + RNG.randint(0, 256, rgb.shape).astype(np.uint16)
    add_decode_case("png-rgb16-interlaced", "png", png_encode(rgb16, 2, 16, interlace=True))
    add_decode_case("png-rgb8-trns", "png", png_encode(rgb, 2, 8, trns=struct.pack(">HHH", 1, 2, 3)))
    la = np.stack([gray, alpha], axis=-1)
    add_decode_case("png-la8", "png", png_encode(la, 4, 8))
    la16 = la.astype(np.uint16) * 257
    la16[..., 0] += RNG.randint(0, 200, gray.shape).astype(np.uint16)
    # PIL opens 16-bit grey+alpha as RGBA; decodeImage keeps it two-channel.
    add_decode_case("png-la16", "png", png_encode(la16, 4, 16), mode_override="LA")
    rgba = np.concatenate([rgb, alpha[..., None]], axis=-1)
    add_decode_case("png-rgba8-interlaced", "png", png_encode(rgba, 6, 8, interlace=True))
    rgba16 = rgba.astype(np.uint16) * 257
    add_decode_case("png-rgba16", "png", png_encode(rgba16, 6, 16))

    # Palettes: 1/2/4/8 bit, with and without tRNS, one with indices past the palette's end.
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        pal = RNG.randint(0, 256, (n, 3)).astype(np.uint8)
        idx = (gray.astype(np.int64) * n // 256).astype(np.uint8)[..., None]
        add_decode_case(f"png-pal{depth}", "png", png_encode(idx, 3, depth, plte=pal.tobytes()))
    pal = RNG.randint(0, 256, (40, 3)).astype(np.uint8)
    idx = (gray.astype(np.int64) * 60 // 256).astype(np.uint8)[..., None]
    add_decode_case("png-pal8-short-trns", "png",
                    png_encode(idx, 3, 8, plte=pal.tobytes(), trns=bytes(RNG.randint(0, 256, 25).astype(np.uint8))),
                    note="indices 40..59 lie past the palette; PIL falls back to a grey ramp")
    trns_simple = bytes([255] * 5 + [0] + [255] * 3)
    idx4 = (gray.astype(np.int64) * 16 // 256).astype(np.uint8)[..., None]
    add_decode_case("png-pal4-simple-trns", "png",
                    png_encode(idx4, 3, 4, plte=RNG.randint(0, 256, (16, 3)).astype(np.uint8).tobytes(), trns=trns_simple))
    add_decode_case("png-pal8-no-plte", "png", png_encode((gray >> 2)[..., None], 3, 8),
                    note="palette image without PLTE: PIL uses its grey-ramp default palette")
    add_decode_case("png-rgb8-1x1-interlaced", "png", png_encode(rgb[:1, :1], 2, 8, interlace=True))
    add_decode_case("png-gray8-3x2-interlaced", "png", png_encode(gray[:2, :3, None], 0, 8, interlace=True))

    # What PIL itself writes (zlib-optimised, filter choice by PIL).
    buf = io.BytesIO()
    Image.fromarray(scene(48, 40, 0.7)).save(buf, "PNG", optimize=True)
    add_decode_case("png-pil-rgb", "png", buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(np.concatenate([scene(60, 90, 2.0), alpha_plane(60, 90)[..., None]], axis=-1)).save(buf, "PNG")
    add_decode_case("png-pil-rgba-portrait", "png", buf.getvalue())


# ----------------------------------------------------------------------------- JPEG writer

def extract_dht(jpeg):
    """Pulls the Huffman tables out of a PIL-written baseline JPEG (libjpeg's standard tables)."""
    tables = {}
    i = 2
    while i < len(jpeg):
        marker = jpeg[i + 1]
        length = struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if marker == 0xC4:
            seg = jpeg[i + 4:i + 2 + length]
            p = 0
            while p < len(seg):
                tc_th = seg[p]
                counts = list(seg[p + 1:p + 17])
                total = sum(counts)
                values = list(seg[p + 17:p + 17 + total])
                tables[tc_th] = (counts, values)
                p += 17 + total
        if marker == 0xDA:
            break
        i += 2 + length
    return tables


def huff_codes(counts, values):
    codes = {}
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


_buf = io.BytesIO()
Image.fromarray(scene(16, 16)).save(_buf, "JPEG", quality=75)
STD_TABLES = extract_dht(_buf.getvalue())

ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
          21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
          61, 54, 47, 55, 62, 63]

_k = np.arange(8)
DCT = np.sqrt(2 / 8) * np.cos((2 * _k[None, :] + 1) * _k[:, None] * np.pi / 16)
DCT[0, :] = np.sqrt(1 / 8)


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc = 0
                self.n = 0

    def flush(self):
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)


def category(v):
    v = abs(int(v))
    return v.bit_length()


def encode_value(bw, v, size):
    if size:
        bw.write(v if v >= 0 else v + (1 << size) - 1, size)


def jpeg_encode(planes, sampling, qtables, comp_q, comp_ids=(1, 2, 3, 4), restart=0, app=b"", separate_scans=False):
    """Baseline JPEG: planes are full-size uint8 arrays in the JPEG colour space."""
    h, w = planes[0].shape
    hmax = max(s[0] for s in sampling)
    vmax = max(s[1] for s in sampling)
    mcux = -(-w // (8 * hmax))
    mcuy = -(-h // (8 * vmax))
    comps = []
    for plane, (hs, vs) in zip(planes, sampling):
        fx, fy = hmax // hs, vmax // vs
        ph, pw = -(-h // fy) * fy, -(-w // fx) * fx
        p = np.pad(plane.astype(np.float64), ((0, ph - h), (0, pw - w)), mode="edge")
        small = p.reshape(ph // fy, fy, pw // fx, fx).mean(axis=(1, 3))
        bw_, bh_ = mcux * hs * 8, mcuy * vs * 8
        small = np.pad(small, ((0, bh_ - small.shape[0]), (0, bw_ - small.shape[1])), mode="edge")
        comps.append(small)

    def block_coefs(ci, by, bx):
        q = np.array(qtables[comp_q[ci]], dtype=np.float64)
        blk = comps[ci][by * 8:by * 8 + 8, bx * 8:bx * 8 + 8] - 128.0
        f = DCT @ blk @ DCT.T
        zz = np.round(f.reshape(-1)[ZIGZAG] / q).astype(np.int64)
        return np.clip(zz, -1023, 1023)

    dc_codes = [huff_codes(*STD_TABLES[0x00]), huff_codes(*STD_TABLES[0x01])]
    ac_codes = [huff_codes(*STD_TABLES[0x10]), huff_codes(*STD_TABLES[0x11])]
    table_of = [0 if ci == 0 else 1 for ci in range(len(planes))]

    def encode_block(bw, ci, coefs, pred):
        diff = int(coefs[0]) - pred[ci]
        pred[ci] = int(coefs[0])
        s = category(diff)
        code, length = dc_codes[table_of[ci]][s]
        bw.write(code, length)
        encode_value(bw, diff, s)
        run = 0
        for k in range(1, 64):
            v = int(coefs[k])
            if v == 0:
                run += 1
                continue
            while run > 15:
                code, length = ac_codes[table_of[ci]][0xF0]
                bw.write(code, length)
                run -= 16
            s = category(v)
            code, length = ac_codes[table_of[ci]][(run << 4) | s]
            bw.write(code, length)
            encode_value(bw, v, s)
            run = 0
        if run:
            code, length = ac_codes[table_of[ci]][0x00]
            bw.write(code, length)

    def seg(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    out = bytearray(b"\xFF\xD8") + app
    for tid, q in enumerate(qtables):
        out += seg(0xDB, bytes([tid]) + bytes(int(v) for v in q))  # q is already in zigzag order
    sof = struct.pack(">BHHB", 8, h, w, len(planes))
    for ci, (hs, vs) in enumerate(sampling):
        sof += bytes([comp_ids[ci], (hs << 4) | vs, comp_q[ci]])
    out += seg(0xC0, sof)
    for key in (0x00, 0x01, 0x10, 0x11):
        counts, values = STD_TABLES[key]
        out += seg(0xC4, bytes([key]) + bytes(counts) + bytes(values))
    if restart:
        out += seg(0xDD, struct.pack(">H", restart))

    def scan(ci_list):
        nonlocal out
        sos = bytes([len(ci_list)])
        for ci in ci_list:
            sos += bytes([comp_ids[ci], (table_of[ci] << 4) | table_of[ci]])
        sos += bytes([0, 63, 0])
        out += seg(0xDA, sos)
        bw = BitWriter()
        pred = [0] * len(planes)
        units = []
        if len(ci_list) == 1:
            ci = ci_list[0]
            hs, vs = sampling[ci]
            cw = -(-(-(-w * hs // hmax)) // 8)
            ch = -(-(-(-h * vs // vmax)) // 8)
            for by in range(ch):
                for bx in range(cw):
                    units.append([(ci, by, bx)])
        else:
            for my in range(mcuy):
                for mx in range(mcux):
                    unit = []
                    for ci in ci_list:
                        hs, vs = sampling[ci]
                        for v in range(vs):
                            for hh in range(hs):
                                unit.append((ci, my * vs + v, mx * hs + hh))
                    units.append(unit)
        rst = 0
        for n, unit in enumerate(units):
            if restart and n and n % restart == 0:
                bw.flush()
                out += bw.out
                out += bytes([0xFF, 0xD0 + (rst & 7)])
                rst += 1
                bw = BitWriter()
                pred = [0] * len(planes)
            for (ci, by, bx) in unit:
                encode_block(bw, ci, block_coefs(ci, by, bx), pred)
        bw.flush()
        out += bw.out

    if separate_scans:
        for ci in range(len(planes)):
            scan([ci])
    else:
        scan(list(range(len(planes))))
    out += b"\xFF\xD9"
    return bytes(out)


def rgb_to_ycc(rgb):
    r, g, b = [rgb[..., i].astype(np.float64) for i in range(3)]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    return [np.clip(np.round(c), 0, 255).astype(np.uint8) for c in (y, cb, cr)]


JFIF = b"\xFF\xE0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def adobe(transform):
    return b"\xFF\xEE" + struct.pack(">H", 14) + b"Adobe" + struct.pack(">HHHB", 100, 0, 0, transform)


Q_LUMA = [max(1, min(255, 3 + (i % 8) + 2 * (i // 8))) for i in range(64)]
Q_CHROMA = [max(1, min(255, 5 + 2 * (i % 8) + 2 * (i // 8))) for i in range(64)]


def pil_jpeg(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def make_jpeg_cases():
    add_decode_case("jpeg-444", "jpeg", pil_jpeg(scene(45, 37), quality=90, subsampling=0))
    add_decode_case("jpeg-422", "jpeg", pil_jpeg(scene(50, 33, 0.4), quality=85, subsampling=1))
    add_decode_case("jpeg-420", "jpeg", pil_jpeg(scene(61, 47, 0.9), quality=80, subsampling=2))
    add_decode_case("jpeg-420-q100", "jpeg", pil_jpeg(scene(40, 24, 1.1), quality=100, subsampling=2))
    add_decode_case("jpeg-gray", "jpeg", pil_jpeg(gray_scene(37, 29), quality=88))
    add_decode_case("jpeg-420-progressive", "jpeg",
                    pil_jpeg(scene(64, 48, 1.7), quality=82, subsampling=2, progressive=True, optimize=True))
    add_decode_case("jpeg-444-progressive", "jpeg", pil_jpeg(scene(33, 41, 0.2), quality=92, subsampling=0, progressive=True))
    add_decode_case("jpeg-gray-progressive", "jpeg", pil_jpeg(gray_scene(35, 22), quality=70, progressive=True))
    add_decode_case("jpeg-420-optimized", "jpeg", pil_jpeg(scene(30, 30, 2.2), quality=60, subsampling=2, optimize=True))
    # Chroma widths of 2 or less make libjpeg fall back from fancy to box upsampling.
    add_decode_case("jpeg-420-3x3", "jpeg", pil_jpeg(scene(3, 3, 0.5), quality=90, subsampling=2))
    add_decode_case("jpeg-420-4x9", "jpeg", pil_jpeg(scene(4, 9, 0.6), quality=90, subsampling=2))
    add_decode_case("jpeg-422-5x5", "jpeg", pil_jpeg(scene(5, 5, 0.8), quality=90, subsampling=1))
    add_decode_case("jpeg-420-1x1", "jpeg", pil_jpeg(scene(1, 1, 0.1), quality=90, subsampling=2))
    cmyk = Image.fromarray(scene(26, 18, 0.3)).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=90)
    add_decode_case("jpeg-cmyk", "jpeg", buf.getvalue())

    # Hand-written baseline streams for what PIL cannot produce.
    rgb = scene(53, 39, 2.9)
    ycc = rgb_to_ycc(rgb)
    q = [Q_LUMA, Q_CHROMA]
    add_decode_case("jpeg-420-restart", "jpeg",
                    jpeg_encode(ycc, [(2, 2), (1, 1), (1, 1)], q, [0, 1, 1], restart=3, app=JFIF))
    add_decode_case("jpeg-440", "jpeg", jpeg_encode(ycc, [(1, 2), (1, 1), (1, 1)], q, [0, 1, 1], app=JFIF))
    add_decode_case("jpeg-411", "jpeg", jpeg_encode(ycc, [(4, 1), (1, 1), (1, 1)], q, [0, 1, 1], restart=2))
    add_decode_case("jpeg-311", "jpeg", jpeg_encode(ycc, [(3, 1), (1, 1), (1, 1)], q, [0, 1, 1]))
    add_decode_case("jpeg-mixed-sampling", "jpeg", jpeg_encode(ycc, [(2, 2), (1, 2), (2, 1)], q, [0, 1, 1]))
    add_decode_case("jpeg-separate-scans", "jpeg",
                    jpeg_encode(ycc, [(2, 1), (1, 1), (1, 1)], q, [0, 1, 1], restart=5, separate_scans=True))
    planes = [rgb[..., i] for i in range(3)]
    add_decode_case("jpeg-adobe-rgb", "jpeg", jpeg_encode(planes, [(1, 1)] * 3, q, [0, 0, 0], app=adobe(0)))
    add_decode_case("jpeg-ids-rgb", "jpeg", jpeg_encode(planes, [(1, 1)] * 3, q, [0, 0, 0], comp_ids=(82, 71, 66)))
    k = (255 - rgb.max(axis=-1)).astype(np.uint8)
    add_decode_case("jpeg-ycck", "jpeg",
                    jpeg_encode(ycc + [k], [(2, 2), (1, 1), (1, 1), (2, 2)], q, [0, 1, 1, 0], app=adobe(2)))
    add_decode_case("jpeg-cmyk-noadobe", "jpeg",
                    jpeg_encode([255 - rgb[..., 0], 255 - rgb[..., 1], 255 - rgb[..., 2], k], [(1, 1)] * 4, q, [0, 0, 0, 0]))
    big_q = [[min(65535, 40 + 37 * i) for i in range(64)], [2 + i for i in range(64)]]
    add_decode_case("jpeg-16bit-qtable", "jpeg", pil_jpeg(scene(24, 24, 0.9), qtables=big_q, subsampling=0),
                    note="quantisation values above 255 force 16-bit DQT tables")

    # Damaged or unusual streams that libjpeg still decodes (with warnings); PIL returns pixels.
    base = pil_jpeg(scene(48, 40, 1.9), quality=85, subsampling=2)
    sos = base.index(b"\xFF\xDA")
    scan_start = sos + 2 + struct.unpack(">H", base[sos + 2:sos + 4])[0]
    no_dht = bytearray()
    i = 2
    no_dht += base[:2]
    while i < scan_start:
        length = struct.unpack(">H", base[i + 2:i + 4])[0]
        if base[i + 1] != 0xC4:
            no_dht += base[i:i + 2 + length]
        i += 2 + length
    no_dht += base[scan_start:]
    add_decode_case("jpeg-no-dht", "jpeg", bytes(no_dht), note="no DHT: libjpeg-turbo falls back to the standard tables")
    corrupt = bytearray(base)
    rng = np.random.RandomState(7)
    for pos in rng.randint(scan_start + 20, len(base) - 40, 6):
        if corrupt[pos] != 0xFF and corrupt[pos - 1] != 0xFF:
            corrupt[pos] = int(rng.randint(0, 255)) & 0xFE  # never create a new 0xFF
    add_decode_case("jpeg-corrupt-entropy", "jpeg", bytes(corrupt), note="random damage inside the scan")
    cut = scan_start + (len(base) - scan_start) * 3 // 5
    add_decode_case("jpeg-short-scan", "jpeg", base[:cut] + b"\xFF\xD9", note="scan ends early; libjpeg fills grey")
    dqt = base.index(b"\xFF\xDB")
    junk = base[:dqt] + b"\x00\x13\x37" + base[dqt:]
    add_decode_case("jpeg-junk-before-marker", "jpeg", junk)
    rst = jpeg_encode(ycc, [(2, 2), (1, 1), (1, 1)], q, [0, 1, 1], restart=1, app=JFIF)
    markers = [m for m in range(len(rst) - 1) if rst[m] == 0xFF and 0xD0 <= rst[m + 1] <= 0xD7]
    dropped = rst[:markers[3]] + rst[markers[3] + 2:]
    add_decode_case("jpeg-restart-missing-marker", "jpeg", dropped, note="one RST marker removed; libjpeg resyncs")
    wrong = bytearray(rst)
    wrong[markers[5] + 1] = 0xD0 + ((wrong[markers[5] + 1] - 0xD0 + 3) & 7)
    add_decode_case("jpeg-restart-wrong-number", "jpeg", bytes(wrong), note="one RST marker misnumbered")
    prog = pil_jpeg(scene(40, 32, 2.4), quality=80, subsampling=2, progressive=True)
    last_sos = prog.rindex(b"\xFF\xDA")
    last_start = last_sos + 2 + struct.unpack(">H", prog[last_sos + 2:last_sos + 4])[0]
    cut = last_start + (len(prog) - 2 - last_start) // 2
    add_decode_case("jpeg-progressive-cut-last-scan", "jpeg", prog[:cut] + b"\xFF\xD9",
                    note="the final refinement scan stops half way")
    lost = bytearray(prog)
    lost[last_sos:last_sos + 2] = b"\x00\x00"
    add_decode_case("jpeg-progressive-lost-scan", "jpeg", bytes(lost),
                    note="the last scan header is destroyed: libjpeg block-smooths the unrefined coefficients")
    # One AC symbol rewritten to (run 14, size 15): coefficients overflow 16 bits after
    # dequantisation, where libjpeg-turbo's x86 SIMD IDCT (what PIL runs) wraps and saturates
    # unlike its C code (PIL gives a different image with JSIMD_FORCENONE=1).
    base = pil_jpeg(scene(30, 30, 2.2), quality=60, subsampling=2, optimize=True)
    at = 2
    while not (base[at + 1] == 0xC4 and base[at + 4] == 0x10):  # the luminance AC table
        at += 2 + struct.unpack(">H", base[at + 2:at + 4])[0]
    for k in range(2, 40):
        big = bytearray(base)
        big[at + 5 + 16 + k] = 0xEF
        try:
            simd = hashlib.sha256(pil_open(bytes(big)).tobytes()).hexdigest()
        except Exception:  # noqa: BLE001 - try the next symbol
            continue
        plain = subprocess.run([sys.executable, "-c", "import sys, io, hashlib\nfrom PIL import Image\n"
                                "im = Image.open(io.BytesIO(sys.stdin.buffer.read())); im.load()\n"
                                "print(hashlib.sha256(im.tobytes()).hexdigest())"],
                               input=bytes(big), capture_output=True, env={**os.environ, "JSIMD_FORCENONE": "1"})
        if plain.stdout.decode().strip() != simd:
            break
    else:
        raise AssertionError("no damaged table that tells SIMD and C apart")
    add_decode_case("jpeg-overflowing-coefficients", "jpeg", bytes(big),
                    note="damaged Huffman table: huge coefficients, SIMD overflow semantics")


# ----------------------------------------------------------------------------- BMP writer

def bmp_encode(pixel_rows_bottom_up, width, height, bits, compression=0, palette=None, masks=None, header_size=40,
               top_down=False, colors_used=0):
    rows = b"".join(r + bytes((-len(r)) % 4) for r in pixel_rows_bottom_up)
    extra = b""
    if header_size == 12:
        info = struct.pack("<IHHHH", 12, width, height, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header_size, width, -height if top_down else height, 1, bits, compression,
                           len(rows), 2835, 2835, colors_used, 0)
        if header_size > 40:
            m = list(masks or (0, 0, 0, 0)) + [0] * 4
            info += struct.pack("<IIII", *m[:4]) + bytes(header_size - 56)
        elif masks is not None:
            extra = struct.pack("<III", *masks[:3])
    pal = b""
    if palette is not None:
        for (r, g, b) in palette:
            pal += bytes([b, g, r]) + (b"" if header_size == 12 else b"\x00")
    offset = 14 + len(info) + len(extra) + len(pal)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + extra + pal + rows


def make_bmp_cases():
    w, h = 27, 17
    rgb = scene(w, h, 3.3)
    gray = gray_scene(w, h)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "BMP")
    add_decode_case("bmp-24-pil", "bmp", buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "BMP")
    add_decode_case("bmp-8-grey-pil", "bmp", buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(scene(40, 30, 1.0)).quantize(37).save(buf, "BMP")
    add_decode_case("bmp-8-palette-pil", "bmp", buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(gray > 100).save(buf, "BMP")
    add_decode_case("bmp-1-pil", "bmp", buf.getvalue())

    bottom_up = lambda rows: rows[::-1]
    rows24 = [rgb[y][:, ::-1].tobytes() for y in range(h)]
    add_decode_case("bmp-24-topdown", "bmp", bmp_encode(rows24, w, h, 24, top_down=True))
    alpha = alpha_plane(w, h)
    bgra = np.concatenate([rgb[..., ::-1], alpha[..., None]], axis=-1)
    rows32 = bottom_up([bgra[y].tobytes() for y in range(h)])
    add_decode_case("bmp-32-rgb", "bmp", bmp_encode(rows32, w, h, 32))
    add_decode_case("bmp-32-bitfields-bgra", "bmp",
                    bmp_encode(rows32, w, h, 32, compression=3, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000), header_size=108))
    add_decode_case("bmp-32-bitfields-bgrx", "bmp",
                    bmp_encode(rows32, w, h, 32, compression=3, masks=(0xFF0000, 0xFF00, 0xFF)))
    r5, g5, b5 = [(rgb[..., i].astype(np.uint16) >> 3) for i in range(3)]
    p555 = (r5 << 10) | (g5 << 5) | b5
    add_decode_case("bmp-16-555", "bmp", bmp_encode(bottom_up([p555[y].astype("<u2").tobytes() for y in range(h)]), w, h, 16))
    g6 = rgb[..., 1].astype(np.uint16) >> 2
    p565 = (r5 << 11) | (g6 << 5) | b5
    add_decode_case("bmp-16-565", "bmp", bmp_encode(bottom_up([p565[y].astype("<u2").tobytes() for y in range(h)]), w, h, 16,
                                                    compression=3, masks=(0xF800, 0x7E0, 0x1F)))
    pal16 = [tuple(int(v) for v in RNG.randint(0, 256, 3)) for _ in range(16)]
    idx = (gray.astype(np.int64) * 16 // 256).astype(np.uint8)
    rows4 = bottom_up([pack_row(idx[y], 4) for y in range(h)])
    add_decode_case("bmp-4-palette", "bmp", bmp_encode(rows4, w, h, 4, palette=pal16))
    pal8 = [tuple(int(v) for v in RNG.randint(0, 256, 3)) for _ in range(50)]
    idx8 = (gray.astype(np.int64) * 50 // 256).astype(np.uint8)
    rows8 = bottom_up([idx8[y].tobytes() for y in range(h)])
    add_decode_case("bmp-8-os2", "bmp", bmp_encode(rows8, w, h, 8, palette=pal8 + [(0, 0, 0)] * 206, header_size=12))
    add_decode_case("bmp-8-short-palette", "bmp", bmp_encode(rows8, w, h, 8, palette=pal8[:30], colors_used=30),
                    note="indices past the 30-entry palette fall back to a grey ramp")


# ----------------------------------------------------------------------------- GIF writer

def lzw_encode(indices, min_size):
    clear, eoi = 1 << min_size, (1 << min_size) + 1
    out = []  # (code, size)
    size = min_size + 1
    table = {(i,): i for i in range(clear)}
    nxt = eoi + 1
    out.append((clear, size))
    cur = ()
    for px in indices:
        cand = cur + (int(px),)
        if cand in table:
            cur = cand
            continue
        out.append((table[cur], size))
        if nxt < 4096:
            table[cand] = nxt
            nxt += 1
            if nxt > (1 << size) and size < 12:
                size += 1
        else:
            out.append((clear, size))
            table = {(i,): i for i in range(clear)}
            nxt = eoi + 1
            size = min_size + 1
        cur = (int(px),)
    if cur:
        out.append((table[cur], size))
    out.append((eoi, size))
    acc = 0
    nbits = 0
    data = bytearray()
    for code, sz in out:
        acc |= code << nbits
        nbits += sz
        while nbits >= 8:
            data.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc & 0xFF)
    blocks = bytearray([min_size])
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        blocks.append(len(chunk))
        blocks += chunk
    blocks.append(0)
    return bytes(blocks)


def gif_encode(screen, frame_box, indices, global_pal=None, local_pal=None, transparency=None, interlace=False,
               background=0, second_frame=None):
    sw, sh = screen
    x0, y0, fw, fh = frame_box
    out = bytearray(b"GIF89a" + struct.pack("<HH", sw, sh))
    if global_pal is not None:
        bits = max(1, math.ceil(math.log2(len(global_pal))))
        out += bytes([0x80 | (bits - 1), background, 0])
        out += b"".join(bytes(c) for c in global_pal) + bytes(3 * ((1 << bits) - len(global_pal)))
    else:
        out += bytes([0, background, 0])
    out += b"!\xFE\x05hello\x00"  # comment extension, to be skipped
    if transparency is not None:
        out += b"!\xF9\x04" + bytes([1]) + struct.pack("<H", 0) + bytes([transparency, 0])
    flags = 0x40 if interlace else 0
    local = b""
    if local_pal is not None:
        bits = max(1, math.ceil(math.log2(len(local_pal))))
        flags |= 0x80 | (bits - 1)
        local = b"".join(bytes(c) for c in local_pal) + bytes(3 * ((1 << bits) - len(local_pal)))
    out += b"," + struct.pack("<HHHH", x0, y0, fw, fh) + bytes([flags]) + local
    rows = indices
    if interlace:
        order = list(range(0, fh, 8)) + list(range(4, fh, 8)) + list(range(2, fh, 4)) + list(range(1, fh, 2))
        rows = indices[order]
    pal_len = len(local_pal if local_pal is not None else (global_pal if global_pal is not None else range(256)))
    min_size = max(2, math.ceil(math.log2(max(pal_len, int(indices.max()) + 1))))
    out += lzw_encode(rows.reshape(-1), min_size)
    if second_frame is not None:
        out += b"," + struct.pack("<HHHH", 0, 0, 2, 2) + bytes([0]) + lzw_encode(np.array([1, 2, 3, 1]), 2)
    out += b";"
    return bytes(out)


def make_gif_cases():
    w, h = 31, 23
    gray = gray_scene(w, h)
    pal = [tuple(int(v) for v in RNG.randint(0, 256, 3)) for _ in range(64)]
    idx = (gray.astype(np.int64) * 64 // 256).astype(np.uint8)
    add_decode_case("gif-global", "gif", gif_encode((w, h), (0, 0, w, h), idx, global_pal=pal, second_frame=True))
    add_decode_case("gif-interlaced-trns", "gif",
                    gif_encode((w, h), (0, 0, w, h), idx, global_pal=pal, transparency=5, interlace=True))
    sub = idx[3:17, 4:24]
    add_decode_case("gif-offset-frame", "gif",
                    gif_encode((w, h), (4, 3, 20, 14), sub, local_pal=pal[:50], transparency=7))
    add_decode_case("gif-offset-frame-opaque", "gif", gif_encode((w, h), (5, 2, 20, 14), sub, global_pal=pal))
    add_decode_case("gif-no-palette", "gif", gif_encode((w, h), (0, 0, w, h), gray >> 1))
    ramp = [(i, i, i) for i in range(128)]
    add_decode_case("gif-grey-ramp", "gif", gif_encode((w, h), (0, 0, w, h), gray >> 1, global_pal=ramp))
    add_decode_case("gif-frame-outside-screen", "gif", gif_encode((20, 10), (6, 4, 20, 14), sub, global_pal=pal),
                    note="PIL grows the canvas to hold a frame that sticks out of the logical screen")
    big = gray_scene(90, 70)
    big_idx = ((big.astype(np.int64) * 256 // 256) ^ (np.arange(90)[None, :] * 37 % 256)).astype(np.uint8)
    add_decode_case("gif-lzw-full-table", "gif",
                    gif_encode((90, 70), (0, 0, 90, 70), big_idx, global_pal=[tuple(int(v) for v in RNG.randint(0, 256, 3)) for _ in range(256)]),
                    note="enough entropy to fill the 4096-entry LZW table and force clear codes")
    buf = io.BytesIO()
    Image.fromarray(scene(40, 32, 0.25)).quantize(100).save(buf, "GIF")
    add_decode_case("gif-pil", "gif", buf.getvalue())


# ----------------------------------------------------------------------------- resize, model view, tensors

def decoded(name):
    case = next(c for c in manifest["decode"] if c["name"] == name)
    data = open(os.path.join(ROOT, case["file"]), "rb").read()
    im = pil_open(data)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[case["channels"]]
    return im.convert(mode) if im.mode != mode else im


def make_resize_cases():
    sources = [("jpeg-420", "RGB"), ("png-gray4", "L"), ("png-rgba8-interlaced", "RGBA"), ("png-la8", "LA"),
               ("png-pil-rgb", "RGB"), ("gif-global", "RGB")]
    targets = [(16, 16), (7, 5), (50, 45), (10, 60), (128, 9), (1, 1)]
    for src, mode in sources:
        im = decoded(src)
        assert im.mode == mode, (src, im.mode)
        w, h = im.size
        for (tw, th) in targets + [(w, 2 * h + 3), (w // 3, h)]:
            out = im.resize((tw, th), Image.BILINEAR)
            name = f"resize-{src}-{tw}x{th}"
            manifest["resize"].append({
                "source": src, "channels": CHANNELS[mode], "width": tw, "height": th,
                "pixels": write_expected(name, out.tobytes()),
            })


MEAN3, STD3 = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
MEAN1, STD1 = [0.5], [0.25]


def model_view(im, size, channels, resize):
    im = im.convert("RGB" if channels == 3 else "L")
    if resize == "squash":
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR)
        return im
    r = size * 256 // 224
    w, h = im.size
    if w <= h:
        ow, oh = r, int(r * h / w)
    else:
        oh, ow = r, int(r * w / h)
    if (ow, oh) != (w, h):
        im = im.resize((ow, oh), Image.BILINEAR)
    top = int(round((oh - size) / 2.0))
    left = int(round((ow - size) / 2.0))
    return im.crop((left, top, left + size, top + size))


def to_tensor(view, channels, mean, std):
    a = np.asarray(view, dtype=np.uint8).reshape(view.size[1], view.size[0], channels)
    x = a.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    assert x.dtype == np.float32
    return np.ascontiguousarray(x.transpose(2, 0, 1)).astype("<f4")


def make_model_view_cases():
    # Sources of several shapes: landscape, portrait, square, already at size, tiny.
    Image.fromarray(scene(120, 80, 4.1)).save(buf := io.BytesIO(), "JPEG", quality=85)
    add_decode_case("jpeg-landscape-120x80", "jpeg", buf.getvalue())
    cases = [
        ("jpeg-landscape-120x80", 32), ("jpeg-landscape-120x80", 224), ("png-pil-rgba-portrait", 32),
        ("png-pil-rgba-portrait", 24), ("jpeg-444-progressive", 32), ("gif-offset-frame", 16), ("png-la16", 29),
        ("jpeg-420-3x3", 8), ("png-gray16", 19), ("bmp-8-palette-pil", 30),
    ]
    for src, size in cases:
        im = decoded(src)
        for channels in (3, 1):
            for resize in ("squash", "center-crop"):
                if size == 224 and channels == 1:
                    continue
                view = model_view(im, size, channels, resize)
                mean, std = (MEAN3, STD3) if channels == 3 else (MEAN1, STD1)
                name = f"view-{src}-{size}-{channels}-{resize}"
                manifest["modelView"].append({
                    "source": src, "imageSize": size, "channels": channels, "resize": resize, "mean": mean, "std": std,
                    "view": write_expected(name, view.tobytes()),
                    "tensor": write_expected(name + ".f32", to_tensor(view, channels, mean, std).tobytes()),
                })


# ----------------------------------------------------------------------------- truncation and rejection

def make_truncation_cases():
    """Records whether PIL accepts each image cut short; decoders must agree (and match when it does)."""
    for case in manifest["decode"]:
        data = open(os.path.join(ROOT, case["file"]), "rb").read()
        for keep in sorted({len(data) - 1, len(data) * 3 // 4, len(data) // 2, 40, 12}):
            if keep <= 0 or keep >= len(data):
                continue
            try:
                im = pil_open(data[:keep])
                rgb = write_expected(f"trunc-{case['name']}-{keep}.rgb", im.convert("RGB").tobytes())
                manifest["truncated"].append({"source": case["name"], "keep": keep, "pilAccepts": True, "rgb": rgb})
            except Exception as e:  # noqa: BLE001 - any PIL failure is what is being recorded
                message = re.sub(r" at 0x[0-9a-f]+", "", str(e))[:80]  # no object addresses: stable output
                manifest["truncated"].append({"source": case["name"], "keep": keep, "pilAccepts": False,
                                              "pilError": type(e).__name__ + ": " + message})


def make_rejected_cases():
    """Files PIL refuses outright; decodeImage must refuse them too, with an ImageError."""
    def reject(name, data, why):
        try:
            pil_open(data)
        except Exception:  # noqa: BLE001
            manifest["rejected"].append({"file": write_image(name, data), "why": why})
            return
        raise AssertionError("PIL accepted " + name)

    good = open(os.path.join(ROOT, "images", "png-rgb8.png"), "rb").read()
    bad = bytearray(good)
    bad[20] ^= 0x01  # inside IHDR: its CRC no longer matches
    reject("bad-png-ihdr-crc.png", bytes(bad), "IHDR CRC mismatch")
    bad = bytearray(good)
    bad[40] ^= 0x55  # the first IDAT's type code
    reject("bad-png-chunk-type.png", bytes(bad), "damaged chunk type")
    jpg = open(os.path.join(ROOT, "images", "jpeg-420.jpg"), "rb").read()
    sof = jpg.index(b"\xFF\xC0")
    bad = bytearray(jpg)
    bad[sof + 4] = 12  # 12-bit precision
    reject("bad-jpeg-12bit.jpg", bytes(bad), "12-bit JPEG")
    reject("bad-jpeg-no-eoi.jpg", jpg[:-2] + b"\x00" * 3, "no EOI marker after the scan")
    reject("bad-gif-no-frame.gif", b"GIF89a" + struct.pack("<HH", 4, 4) + b"\x00\x00\x00;", "GIF without an image")
    reject("bad-bmp-rle-header.bmp", bmp_encode([b"\x00" * 4], 1, 1, 7), "unsupported BMP bit depth")


def main():
    if os.path.isdir(IMAGES):
        shutil.rmtree(IMAGES)
    os.makedirs(IMAGES)
    make_png_cases()
    make_jpeg_cases()
    make_bmp_cases()
    make_gif_cases()
    make_resize_cases()
    make_model_view_cases()
    make_truncation_cases()
    make_rejected_cases()
    with open(os.path.join(ROOT, "expected.bin"), "wb") as f:
        f.write(PACK)
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = len(PACK) + sum(os.path.getsize(os.path.join(IMAGES, n)) for n in os.listdir(IMAGES))
    print(f"{len(manifest['decode'])} images, {len(manifest['resize'])} resizes, {len(manifest['modelView'])} views, "
          f"{len(manifest['truncated'])} truncations; {total // 1024} KB")


if __name__ == "__main__":
    main()
