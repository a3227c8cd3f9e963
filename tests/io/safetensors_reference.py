#!/usr/bin/env python3
"""Independent safetensors reader/writer (numpy only) to cross-check gift's implementation.

  safetensors_reference.py write PATH   writes a file gift must read (values below)
  safetensors_reference.py check PATH   checks the file gift wrote (values below)

Both sides compute the same values from the formulas in `expected()`; F16 and BF16 are rounded to
nearest even from float32. If the PyPI `safetensors` package is installed, `check` also loads the
file with it. Exit status 77 (skip) when numpy is missing and GIFT_ALLOW_MISSING_MODEL=1.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - depends on the machine
    allowed = os.environ.get("GIFT_ALLOW_MISSING_MODEL") == "1"
    print(("SKIP: " if allowed else "ERROR: ") + f"{exc}; run: pip install numpy", file=sys.stderr)
    sys.exit(77 if allowed else 1)


def to_bf16_bits(values):
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def expected():
    """name -> (dtype, shape, float32 values before encoding)."""
    weight = np.array([((i * 37) % 101 - 50) / 8.0 for i in range(15)], dtype=np.float32).reshape(3, 5)
    bias = np.array([1.0 + i / 1000.0 for i in range(5)], dtype=np.float64).astype(np.float32)
    norm = np.array([-(i + 0.5) * 0.3 for i in range(6)], dtype=np.float64).astype(np.float32).reshape(2, 3)
    return {"layers.0.weight": ("F32", weight), "layers.0.bias": ("F16", bias), "norm": ("BF16", norm)}


METADATA = {"format": "pt", "note": "ünïcode \"quoted\"\n"}


def encode(dtype, values):
    if dtype == "F32":
        return values.astype("<f4").tobytes()
    if dtype == "F16":
        return values.astype(np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return to_bf16_bits(values).astype("<u2").tobytes()
    if dtype == "I64":
        return values.astype("<i8").tobytes()
    raise ValueError(dtype)


def decode(dtype, raw, shape):
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4").reshape(shape)
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(shape)
    if dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    raise ValueError(dtype)


def write(path):
    tensors = dict(expected())
    tensors["steps"] = ("I64", np.array([7, -1], dtype=np.int64))
    tensors["scalar"] = ("F32", np.array(42.0, dtype=np.float32))
    header, blobs, offset = {"__metadata__": METADATA}, [], 0
    for name in sorted(tensors, reverse=True):  # an order unlike gift's writer
        dtype, values = tensors[name]
        blob = encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": list(values.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def check(path):
    if not os.path.isfile(path):
        sys.exit(f"ERROR: {path} is missing: the C++ test io_safetensors_python did not write it")
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    assert header.pop("__metadata__") == METADATA, "metadata differs"
    want = expected()
    assert set(header) == set(want), f"tensor names differ: {sorted(header)}"
    spans = sorted(tuple(entry["data_offsets"]) for entry in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(body), "data section not covered exactly"
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "tensors overlap or leave gaps"
    for name, (dtype, values) in want.items():
        entry = header[name]
        assert entry["dtype"] == dtype and entry["shape"] == list(values.shape), f"{name}: {entry}"
        begin, end = entry["data_offsets"]
        raw = body[begin:end]
        assert raw == encode(dtype, values), f"{name}: bytes differ from round-to-nearest-even {dtype}"
        assert np.array_equal(decode(dtype, raw, values.shape), decode(dtype, encode(dtype, values), values.shape))
    try:
        from safetensors.numpy import load_file  # optional second opinion
    except ImportError:
        pass
    else:
        loaded = load_file(path)
        assert np.array_equal(loaded["layers.0.weight"], want["layers.0.weight"][1])
    print(f"{path}: {len(want)} tensors and metadata as expected")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[2])), exist_ok=True)
    (write if sys.argv[1] == "write" else check)(sys.argv[2])
