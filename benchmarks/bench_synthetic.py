"""Speed of the synthetic generator at the paper's scale (target: under 2 s).

Usage: .venv/bin/python benchmarks/bench_synthetic.py [--repeat 5]

Prints the best-of-N time of ``make_sessions()`` (11,156 sessions x 20 plays over 229 songs),
of ``calibration_stats`` on it, and their ratios to a baseline measured in the same run:
drawing the same number of i.i.d. songs from a popularity law with ``Generator.choice``
(the cheapest possible generator of that shape, with no sequence, user or timing).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best

from fidelity.data.stats import calibration_stats
from fidelity.data.synthetic import make_sessions

TARGET_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    n_sessions, length, n_items = 11_156, 20, 229
    pop = (np.arange(1, n_items + 1) + 30.0) ** -3.0
    pop /= pop.sum()

    def baseline() -> None:
        np.random.default_rng(0).choice(n_items, size=(n_sessions, length), p=pop)

    t_base = best(baseline, args.repeat)
    t_gen = best(lambda: make_sessions(random_state=0), args.repeat)
    sessions = make_sessions(random_state=0)
    t_stats = best(lambda: calibration_stats(sessions), args.repeat)
    print(f"{'step':<44} {'seconds':>8} {'x baseline':>11}")
    print(f"{'baseline: i.i.d. Generator.choice, same shape':<44} {t_base:8.3f} {1.0:11.2f}")
    print(f"{'make_sessions() default':<44} {t_gen:8.3f} {t_gen / t_base:11.2f}")
    print(f"{'calibration_stats(default)':<44} {t_stats:8.3f} {t_stats / t_base:11.2f}")
    verdict = "OK" if t_gen < TARGET_S else "TOO SLOW"
    print(f"make_sessions: {t_gen:.3f} s vs target {TARGET_S:.1f} s -> {verdict}")


if __name__ == "__main__":
    main()
