"""MSDS input speed: the same births loaded as MSDS v2.0 tables and as birth-record CSV.

Generates one synthetic national year both ways (``write_dataset(fmt="csv")`` and
``fmt="msds"``: eight table files), then times, each in its own child process into an empty
instance, ``load_files`` of the CSV and ``load_files(..., input_format="msds")`` of the tables.
Both include hashing, header checks, every validation rule and the partitioned store; the MSDS
load adds reading eight tables, choosing the latest submissions and the joins. Prints both
times, rows/s, peak RSS and the ratio. Target (issue 15): MSDS ≤ 2× the CSV time.

    .venv/bin/python benchmarks/bench_msds.py [--year 2023] [--scale 1.0] [--repeat 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from input_race import race


def main() -> None:
    _, ratio = race(__doc__.split("\n")[0], "msds", default_scale=1.0)
    print(f"MSDS / CSV time: {ratio:.2f}× (target ≤ 2×): {'met' if ratio <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
