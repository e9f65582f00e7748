"""Writes the synthetic benchmark set of docs/benchmarks.md: Gaussian clusters around N(0, 1)
centres, base and query rows drawn the same way, and exact Euclidean top-100 ground truth.

    .venv-bench/bin/python scripts/make_synthetic.py [--out target/bench/synthetic] \
        [--rows 100000 --queries 1000 --dim 128 --clusters 256 --sigma 0.6 --seed 7]

Output: base.f32.npy, queries.f32.npy, gt_l2_top100.i32.npy in --out. Run
scripts/bench-peers.sh once first: it makes the .venv-bench virtualenv with numpy.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="target/bench/synthetic")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--clusters", type=int, default=256)
    p.add_argument("--sigma", type=float, default=0.6)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    if min(a.rows, a.queries, a.dim, a.clusters) <= 0:
        print("error: --rows, --queries, --dim and --clusters must be positive", file=sys.stderr)
        return 2
    rng = np.random.default_rng(a.seed)
    centres = rng.standard_normal((a.clusters, a.dim)).astype(np.float32)

    def draw(n: int) -> np.ndarray:
        which = rng.integers(0, a.clusters, n)
        noise = rng.standard_normal((n, a.dim)).astype(np.float32) * a.sigma
        return np.ascontiguousarray(centres[which] + noise)

    base, queries = draw(a.rows), draw(a.queries)
    base_sq = (base * base).sum(axis=1)
    truth = np.empty((a.queries, 100), dtype=np.int32)
    for start in range(0, a.queries, 100):
        q = queries[start : start + 100]
        d = base_sq[None, :] - 2.0 * (q @ base.T)
        top = np.argpartition(d, 100, axis=1)[:, :100]
        order = np.take_along_axis(d, top, axis=1).argsort(axis=1)
        truth[start : start + 100] = np.take_along_axis(top, order, axis=1)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "base.f32.npy"), base)
    np.save(os.path.join(a.out, "queries.f32.npy"), queries)
    np.save(os.path.join(a.out, "gt_l2_top100.i32.npy"), truth)
    print(f"wrote {a.rows} x {a.dim} base rows, {a.queries} queries and top-100 ground truth to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
