#!/usr/bin/env python3
"""Checks a GGUF file written by gift's writer (tests/io/gguf_writer_test.cpp) with the llama.cpp
project's own reader, PyPI `gguf`: every metadata value, every tensor's shape and values, and
the F16, BF16 and Q8_0 bytes against gguf's own encoders applied to the F32 copy.

usage: gguf_writer_reference.py <cpp_written.gguf>
Exit: 0 pass, 1 mismatch, 77 skipped (gguf/numpy missing and GIFT_ALLOW_MISSING_MODEL=1).
"""
import os
import sys

# The shared helpers (tests/support/reference_support.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from reference_support import missing  # noqa: E402 (the path first)


try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT
except ImportError as exc:  # pragma: no cover - depends on the machine
    missing(f"python package missing ({exc}); run: pip install gguf numpy")


def main():
    path = sys.argv[1]
    if not os.path.isfile(path):
        print(f"FAIL: {path} was not written (run the C++ test io_gguf_writer_python_write first)")
        return 1
    reader = gguf.GGUFReader(path)
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    expected = {
        "general.architecture": "llama", "test.u8": 200, "test.i8": -100, "test.u16": 60000,
        "test.i16": -30000, "test.u32": 4000000000, "test.i32": -2000000000,
        "test.u64": 18000000000000000000, "test.i64": -9000000000000000000, "test.bool": True,
        "test.string": "h\u00e9llo \u2713", "test.strings": ["a", "", "\u0120the"], "test.ints": [1, -2, 3],
    }
    for key, value in expected.items():
        got = reader.fields[key].contents()
        check(got == value, f"metadata {key}: {got!r} != {value!r}")
    check(np.float32(reader.fields["test.f32"].contents()) == np.float32(0.1), "metadata test.f32")
    check(reader.fields["test.f64"].contents() == -1.0 / 3.0, "metadata test.f64")

    tensors = {t.name: t for t in reader.tensors}
    check(sorted(tensors) == ["m.bf16", "m.f16", "m.f32", "m.q8_0", "v.f32"], f"tensor names {sorted(tensors)}")
    source = np.asarray(tensors["m.f32"].data, dtype=np.float32).reshape(3, 64)
    check([int(d) for d in tensors["m.f32"].shape] == [64, 3], "m.f32 shape")
    for name, qtype in (("m.f16", QT.F16), ("m.bf16", QT.BF16), ("m.q8_0", QT.Q8_0)):
        tensor = tensors[name]
        check(tensor.tensor_type == qtype, f"{name} type {tensor.tensor_type}")
        ours = np.asarray(tensor.data).view(np.uint8).reshape(-1)
        theirs = gguf.quants.quantize(source, qtype).view(np.uint8).reshape(-1)
        check(ours.tobytes() == theirs.tobytes(),
              f"{name}: bytes differ from gguf.quants.quantize at {int(np.argmax(ours != theirs))}")
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(3, 64)
        check(np.all(np.isfinite(values)), f"{name}: non-finite values")
    check(np.array_equal(np.asarray(tensors["v.f32"].data), np.array([1.0, -2.5, 3.25, 1e-3, 7.0], np.float32)),
          "v.f32 values")
    for failure in failures:
        print("FAIL:", failure)
    print(f"gguf read {len(reader.fields)} fields and {len(tensors)} tensors; {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
