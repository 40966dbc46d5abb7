#!/usr/bin/env python3
"""Writes the checkpoint-reader fixtures under test/fixtures/loader/.

Good files are made with a real torch.save so the tests exercise what PyTorch
actually writes; malicious pickles are hand-assembled from pickle opcodes so
they stay byte-exact. Everything is seeded and written with fixed zip
timestamps, so rerunning the script reproduces the same bytes.

Usage: /usr/bin/python3 scripts/make_loader_fixtures.py
"""

import collections
import io
import json
import math
import os
import struct
import zipfile

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'loader')
MALICIOUS = os.path.join(ROOT, 'malicious')
PICKLES = os.path.join(ROOT, 'pickles')
PWNED = '/tmp/crate-lens-pwned'
MAX_FILE_BYTES = 50 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

expected = {}


def float32_list(tensor):
    """Values as float32, JSON-safe: non-finite values become strings."""
    if tensor.dtype == torch.int64:
        # Direct int64 -> float32 rounding (not via float64), as numpy and torch do.
        values = tensor.numpy().astype(np.float32).reshape(-1)
    else:
        values = tensor.detach().to(torch.float32).contiguous().numpy().reshape(-1)
    out = []
    for v in values.tolist():
        if math.isnan(v):
            out.append('NaN')
        elif math.isinf(v):
            out.append('Infinity' if v > 0 else '-Infinity')
        else:
            out.append(v)
    return out


DTYPE_NAMES = {
    torch.float32: 'float32', torch.float16: 'float16', torch.bfloat16: 'bfloat16', torch.float64: 'float64',
    torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8',
    torch.bool: 'bool',
}


def record(file_name, fmt, container, state_dict):
    expected[file_name] = {
        'format': fmt,
        'container': container,
        'tensors': {
            key: {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'values': float32_list(t)}
            for key, t in state_dict.items()
        },
    }


def write(path, data):
    if len(data) >= MAX_FILE_BYTES:
        raise SystemExit(f'{path} is {len(data)} bytes; fixtures must stay under {MAX_FILE_BYTES}')
    with open(path, 'wb') as f:
        f.write(data)


def torch_bytes(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


class Tiny(torch.nn.Module):
    """A stand-in for a CRATE block: enough to produce a real module state dict with _metadata."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 3)
        self.norm = torch.nn.LayerNorm(3)


def make_state_dict():
    torch.manual_seed(0)
    sd = Tiny().state_dict()  # an OrderedDict carrying _metadata, pickled with BUILD
    sd['f32'] = torch.randn(2, 3)
    sd['f16'] = torch.tensor([1.0, -2.5, 6.1e-5, 5.96e-8, 65504.0, float('inf'), float('-inf'), -0.0, float('nan'), 0.1],
                             dtype=torch.float16)
    sd['bf16'] = torch.tensor([1.0, -3.140625, 1e-40, 3.0e38, float('inf'), -0.0, 0.1], dtype=torch.bfloat16)
    # float64 -> float32 must round to nearest even: ties, overflow to inf and underflow.
    sd['f64'] = torch.tensor([1 + 2 ** -24, 1 + 3 * 2 ** -24, math.pi, 1e39, -1e39, 1e-50, -0.0, 3.4028235677973366e38, 1.401298464324817e-45 / 2 * 1.0000001],
                             dtype=torch.float64)
    # int64 -> float32 must round directly, not via float64 (2**60 + 2**36 + 1 rounds up, via float64 it would round down).
    sd['i64'] = torch.tensor([0, -1, 7, 2 ** 24 + 1, 2 ** 53 + 1, 2 ** 60 + 2 ** 36 + 1, -(2 ** 63), 2 ** 63 - 1], dtype=torch.int64)
    sd['i32'] = torch.tensor([[0, -7], [2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32)
    sd['i16'] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    sd['i8'] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd['u8'] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd['mask'] = torch.tensor([True, False, True])
    sd['transposed'] = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()  # shape [4, 3], stride [1, 4]
    shared = torch.linspace(-1, 1, 20)
    sd['shared_a'] = shared[2:8]  # offset 2 into a storage shared with shared_b
    sd['shared_b'] = shared.view(4, 5)[1:3, 1:4]  # offset 6, stride [5, 1]: not contiguous either
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    sd['count'] = torch.tensor(12345, dtype=torch.int64)
    return sd


def rename_archive(data, folder):
    """Rewrites a torch zip under another folder name, entries still stored (unaligned, unlike torch's writer)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            name = folder + info.filename[info.filename.index('/'):]
            target.writestr(zipfile.ZipInfo(name, FIXED_TIME), source.read(info.filename))
    return out.getvalue()


def legacy_header(sd):
    """The leading pickles (magic number, protocol, sys_info) of a real legacy torch.save.

    The rest of a legacy file names storages by memory address, so it differs on every run;
    the header alone is what format detection looks at.
    """
    import pickle
    stream = io.BytesIO(torch_bytes(sd, _use_new_zipfile_serialization=False))
    for _ in range(3):
        pickle.Unpickler(stream).load()
    return stream.getvalue()[:stream.tell()]


def make_good_files():
    sd = make_state_dict()

    write(os.path.join(ROOT, 'bare.pth'), torch_bytes(sd))
    record('bare.pth', 'pytorch-zip', 'bare state dict', sd)

    write(os.path.join(ROOT, 'nested_model.pt'), torch_bytes({'model': sd}))
    record('nested_model.pt', 'pytorch-zip', "{'model': ...}", sd)

    write(os.path.join(ROOT, 'protocol4.pth'), torch_bytes(sd, pickle_protocol=4))
    record('protocol4.pth', 'pytorch-zip', 'bare state dict', sd)

    renamed = rename_archive(torch_bytes(sd), 'not_the_file_name')
    write(os.path.join(ROOT, 'renamed_archive.pth'), renamed)
    record('renamed_archive.pth', 'pytorch-zip', 'bare state dict', sd)

    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: 'cuda:0'
    try:
        cuda = torch_bytes(sd, _use_new_zipfile_serialization=True)
    finally:
        torch.serialization.location_tag = original
    if b'cuda:0' not in cuda:
        raise SystemExit('location_tag monkeypatch had no effect')
    write(os.path.join(ROOT, 'cuda_location.pth'), cuda)
    record('cuda_location.pth', 'pytorch-zip', 'bare state dict', sd)

    write(os.path.join(ROOT, 'legacy_header.pth'), legacy_header(sd))
    write(os.path.join(ROOT, 'whole_model.pth'), torch_bytes(Tiny()))

    make_training_checkpoint()
    make_safetensors()


def make_training_checkpoint():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    loss = model(torch.randn(5, 4)).pow(2).sum()
    loss.backward()
    optimizer.step()
    scheduler.step()
    sd = model.state_dict()
    checkpoint = {
        'epoch': 3,
        'arch': 'crate_tiny',
        'state_dict': collections.OrderedDict(('module.' + k, v) for k, v in sd.items()),
        'best_acc1': torch.tensor(71.5),
        'optimizer': optimizer.state_dict(),
        'scheduler': scheduler.state_dict(),
    }
    write(os.path.join(ROOT, 'training.pth.tar'), torch_bytes(checkpoint))
    record('training.pth.tar', 'pytorch-zip', "{'state_dict': ...} with 'module.' prefix stripped", sd)


SAFETENSORS_DTYPES = {
    torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64', torch.int64: 'I64',
    torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL',
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what matter
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder('<')).tobytes()


def make_safetensors():
    torch.manual_seed(2)
    tensors = collections.OrderedDict([
        ('blocks.0.attn.qkv.weight', torch.randn(6, 4)),
        ('blocks.0.norm.weight', torch.randn(4).to(torch.float16)),
        ('blocks.0.norm.bias', torch.randn(4).to(torch.bfloat16)),
        ('head.weight', torch.randn(3, 2, dtype=torch.float64)),
        ('steps', torch.tensor([1, -2, 2 ** 40], dtype=torch.int64)),
        ('ids', torch.tensor([3, -4], dtype=torch.int32)),
        ('small', torch.tensor([-3, 2], dtype=torch.int16)),
        ('tiny', torch.tensor([-5, 9], dtype=torch.int8)),
        ('pixels', torch.tensor([0, 128, 255], dtype=torch.uint8)),
        ('mask', torch.tensor([True, False])),
        ('scalar', torch.tensor(0.25)),
    ])
    header = {'__metadata__': {'format': 'pt', 'source': 'make_loader_fixtures.py'}}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {'dtype': SAFETENSORS_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)  # like the safetensors library: data section 8-byte aligned
    write(os.path.join(ROOT, 'model.safetensors'), struct.pack('<Q', len(text)) + text + b''.join(chunks))
    record('model.safetensors', 'safetensors', 'bare state dict', tensors)


# ---- malicious pickles -------------------------------------------------------------------------

def unicode(text):
    data = text.encode('utf-8')
    return b'X' + struct.pack('<I', len(data)) + data


def short_unicode(text):
    data = text.encode('utf-8')
    return b'\x8c' + bytes([len(data)]) + data


SHELL = 'touch ' + PWNED
PYTHON = "__import__('os').system('touch %s')" % PWNED

# Each payload would create PWNED under Python's pickle.loads; the reader must refuse before running anything.
MALICIOUS_PICKLES = {
    # GLOBAL + REDUCE, protocol 2
    'global_posix_system.pth': ('posix.system', b'\x80\x02cposix\nsystem\n' + unicode(SHELL) + b'\x85R.'),
    # GLOBAL + REDUCE, protocol 0 text opcodes
    'global_os_system.pth': ('os.system', b"cos\nsystem\n(S'" + SHELL.encode() + b"'\ntR."),
    'global_builtins_eval.pth': ('builtins.eval', b'\x80\x02cbuiltins\neval\n' + unicode(PYTHON) + b'\x85R.'),
    # STACK_GLOBAL, protocol 4
    'stack_global_builtins_eval.pth': (
        'builtins.eval',
        b'\x80\x04' + short_unicode('builtins') + short_unicode('eval') + b'\x93' + unicode(PYTHON) + b'\x85R.'),
    'stack_global_subprocess_popen.pth': (
        'subprocess.Popen',
        b'\x80\x04' + short_unicode('subprocess') + short_unicode('Popen') + b'\x93]' + b'(' + short_unicode('touch')
        + short_unicode(PWNED) + b'e\x85R.'),
    'stack_global_posix_system.pth': (
        'posix.system', b'\x80\x04' + short_unicode('posix') + short_unicode('system') + b'\x93' + unicode(SHELL) + b'\x85R.'),
    # INST: class named inline, called with the marked arguments
    'inst_os_system.pth': ('os.system', b"(S'" + SHELL.encode() + b"'\nios\nsystem\n."),
    # OBJ: class and arguments after a MARK
    'obj_posix_system.pth': ('posix.system', b'(cposix\nsystem\n' + unicode(SHELL) + b'o.'),
    # NEWOBJ: cls.__new__(cls, *args) (Popen.__new__ alone runs nothing, but the global must still be refused)
    'newobj_subprocess_popen.pth': (
        'subprocess.Popen', b'\x80\x02csubprocess\nPopen\n](' + unicode('touch') + unicode(PWNED) + b'e\x85\x81.'),
    # REDUCE of eval hidden after ordinary state dict entries
    'hidden_in_dict.pth': (
        'builtins.eval',
        b'\x80\x02}q\x00(' + unicode('epoch') + b'K\x03' + unicode('arch') + unicode('crate_tiny') + unicode('hook')
        + b'cbuiltins\neval\n' + unicode(PYTHON) + b'\x85Ru.'),
    # An allowlisted module with a name outside the allowlist
    'torch_load.pth': ('torch.load', b'\x80\x02ctorch\nload\n' + unicode(PWNED) + b'\x85R.'),
    # Dotted attribute lookups via STACK_GLOBAL must not reach through an allowlisted class
    'dotted_ordereddict.pth': (
        'collections.OrderedDict.__init__',
        b'\x80\x04' + short_unicode('collections') + short_unicode('OrderedDict.__init__') + b'\x93)R.'),
}


def torch_zip(pickle_bytes, folder='archive'):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(folder + '/data.pkl', FIXED_TIME), pickle_bytes)
        z.writestr(zipfile.ZipInfo(folder + '/version', FIXED_TIME), b'3\n')
    return out.getvalue()


def make_malicious_files():
    manifest = {}
    for name, (global_name, payload) in MALICIOUS_PICKLES.items():
        write(os.path.join(MALICIOUS, name), torch_zip(payload))
        manifest[name] = global_name
    with open(os.path.join(MALICIOUS, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')


# ---- plain pickles for the unpickler's own tests -------------------------------------------------

def make_plain_pickles():
    import pickle
    shared = ['shared', 1]
    data = {
        'int': 7, 'neg': -300, 'big': 2 ** 70, 'bigneg': -(2 ** 65), 'i32': -(2 ** 31), 'u16': 65535,
        'float': 2.5, 'tiny': 1e-300, 'inf': float('inf'),
        'str': 'h\u00e9llo \u2603 \\u0041 \n end', 'bytes': b'\x00\xff\x10',
        'list': [1, 2.5, 'x', None, True, False],
        'tuple0': (), 'tuple1': (1,), 'tuple2': (1, 2), 'tuple3': (1, 2, 3), 'tuple4': (1, 2, 3, 4),
        'nested': {1: {2: 'two'}, 'k': [[], {}]},
        'shared_a': shared, 'shared_b': shared,
        'od': collections.OrderedDict([('a', 1), ('b', 2)]),
    }
    for protocol in range(0, 6):
        value = dict(data)
        if protocol >= 4:
            value['set'] = {1, 2}
            value['frozenset'] = frozenset(['f'])
        write(os.path.join(PICKLES, f'data_p{protocol}.pkl'), pickle.dumps(value, protocol=protocol))


def main():
    for folder in (ROOT, MALICIOUS, PICKLES):
        os.makedirs(folder, exist_ok=True)
    make_good_files()
    make_malicious_files()
    make_plain_pickles()
    with open(os.path.join(ROOT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')
    for name in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, name)
        if os.path.isfile(path) and os.path.getsize(path) >= MAX_FILE_BYTES:
            raise SystemExit(f'{name} is too large for a fixture')


if __name__ == '__main__':
    main()
