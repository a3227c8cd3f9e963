#!/usr/bin/env python3
"""LoRA and DoRA in gift against peft's formulas written in numpy (float64).

Runs adapter_dump (C++) into a temporary directory, then recomputes from the same inputs:
  LoRA (peft `Linear.forward`):   y = x W0^T + s * (x A^T) B^T,   s = alpha / r
  DoRA (peft `DoraLinearLayer`):  n = ||W0 + s B A||_row (detached),  c = m / n,
                                  y = (c - 1) * (x W0^T) + c * s * (x A^T) B^T + x W0^T
and their gradients by the chain rule for dL/dy = dy (n a constant, as peft's detach makes it),
the peft initialisation bound of A (Kaiming uniform, a = sqrt 5: 1/sqrt(in)) and the merged
weights (peft `merge`: W0 + s B A; DoRA: (m / n) * (W0 + s B A) per row).
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("peft_reference: numpy is missing (bash .ci/setup installs it)", file=sys.stderr)
    sys.exit(1)


def main():
    dump = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([dump, tmp], check=True)
        load = lambda name: np.atleast_2d(np.loadtxt(os.path.join(tmp, name + ".txt")))
        w0, x, dy = load("base"), load("x"), load("dy")
        rank, alpha = load("hyper")[0]
        s = alpha / rank
        failures = []

        def same(name, got, want, tol=1e-12):
            err = np.max(np.abs(got - want)) / max(1.0, np.max(np.abs(want)))
            print(f"{name:<14} max rel. difference {err:.3e}")
            if not err <= tol:
                failures.append(name)

        # LoRA.
        a, b = load("lora_a"), load("lora_b")
        if not (np.max(np.abs(a)) <= 1 / np.sqrt(w0.shape[1])):
            failures.append("lora_a init bound")
        y = x @ w0.T + s * (x @ a.T) @ b.T
        dh = s * dy @ b
        same("lora y", load("lora_y"), y)
        same("lora dx", load("lora_dx"), dy @ w0 + dh @ a)
        same("lora dA", load("lora_da"), dh.T @ x)
        same("lora dB", load("lora_db"), s * dy.T @ (x @ a.T))
        same("lora merged", load("lora_merged"), w0 + s * b @ a)

        # DoRA.
        a, b, m = load("dora_a"), load("dora_b"), load("dora_m").reshape(-1)
        n = np.linalg.norm(w0 + s * b @ a, axis=1)
        c = m / n
        base_out = x @ w0.T
        lora_out = (x @ a.T) @ b.T
        y = base_out + (c - 1) * base_out + c * lora_out * s
        # dL/dm_j = sum_t dy_tj * (base + s lora)_tj / n_j ; dL/d(base+s lora) = dy * c
        dz = dy * c
        dh = s * dz @ b
        same("dora y", load("dora_y"), y)
        same("dora dm", load("dora_dm").reshape(-1), np.sum(dy * (base_out + s * lora_out), axis=0) / n)
        same("dora dx", load("dora_dx"), dz @ w0 + dh @ a)
        same("dora dA", load("dora_da"), dh.T @ x)
        same("dora dB", load("dora_db"), s * dz.T @ (x @ a.T))
        same("dora merged", load("dora_merged"), (m / n)[:, None] * (w0 + s * b @ a))
        if failures:
            print("peft_reference: mismatches: " + ", ".join(failures), file=sys.stderr)
            sys.exit(1)
        print("peft_reference: LoRA and DoRA agree with peft's formulas")


if __name__ == "__main__":
    main()
