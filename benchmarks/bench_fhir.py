"""FHIR input speed: the same births loaded as FHIR Bundles and as birth-record CSV.

Generates one synthetic year both ways (``write_dataset(fmt="csv")`` and ``fmt="fhir"``: a
folder of one Bundle per trust), then times, each in its own child process into an empty
instance, ``load_files`` of the CSV and ``load_files(..., input_format="fhir")`` of the
Bundles. Both include hashing, every validation rule and the partitioned store; the FHIR load
adds parsing and validating every resource with fhir.resources (R4B) and walking the Bundles
into birth records. Prints both times, births/s, peak RSS and the ratio. A national year is
about 570,000 births (scale 1.0); FHIR is slow, so the default scale is small.

    .venv/bin/python benchmarks/bench_fhir.py [--year 2023] [--scale 0.01] [--repeat 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from input_race import race


def main() -> None:
    best, ratio = race(__doc__.split("\n")[0], "fhir", default_scale=0.01)
    national = 570_000 / (best["fhir"]["rows"] / best["fhir"]["seconds"])
    print(f"FHIR / CSV time: {ratio:.1f}×; a national year (570,000 births) at this rate: {national / 60:,.0f} min")


if __name__ == "__main__":
    main()
