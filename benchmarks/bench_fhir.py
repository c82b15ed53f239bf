"""FHIR input speed: the same births loaded as FHIR Bundles and as birth-record CSV, and the
FHIR reader raced against today's fully validated reader and bare ``json.loads``.

Generates one synthetic year both ways (``write_dataset(fmt="csv")`` and ``fmt="fhir"``: a
folder of one Bundle per trust), then times, each in its own child process into an empty
instance, ``load_files`` of the CSV and ``load_files(..., input_format="fhir")`` of the
Bundles. Both include hashing, every validation rule and the partitioned store; the FHIR load
adds reading the Bundles (``matneo.fhir.inbound``: the fast path of ``fastcheck``, falling back
to fhir.resources where it cannot vouch). Then, in one child process, reads every Bundle three
ways, best of ``--repeat``: ``read_fhir(strict=True)`` (every resource validated by the
fhir.resources R4B models, as before the fast path), ``read_fhir`` (the fast path) and the
strongest simple peer, ``json.loads`` of each file (no checks and no walk: the floor), and
prints births/s, CPU and the ratios. A national year is about 570,000 births (scale 1.0).

    .venv/bin/python benchmarks/bench_fhir.py [--year 2023] [--scale 0.01] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from input_race import race

READ = """
import json, sys, time
from pathlib import Path
from matneo.fhir.inbound import read_fhir
files, repeat = sorted(Path(sys.argv[1]).rglob("*.json")), int(sys.argv[2])
read_fhir(files[0]); read_fhir(files[0], strict=True)  # imports and caches, outside the timing
ways = {"fhir.resources (strict)": lambda f: read_fhir(f, strict=True).typed.height,
        "fast reader": lambda f: read_fhir(f).typed.height,
        "json.loads only": lambda f: len(json.loads(f.read_bytes())["entry"])}
out = {}
for name, read in ways.items():
    best = None
    for _ in range(repeat):
        cpu = time.process_time()
        count = sum(read(f) for f in files)
        spent = time.process_time() - cpu
        best = spent if best is None else min(best, spent)
    out[name] = {"count": count, "cpu_seconds": best}
print(json.dumps(out))
"""


def read_race(scale: float, year: int, repeat: int) -> None:
    import datetime as dt

    from matneo.synth import write_dataset

    with tempfile.TemporaryDirectory() as scratch:
        (folder,) = write_dataset(
            Path(scratch), [year], fmt="fhir", scale=scale, seed=7, as_of=dt.date(year + 1, 12, 31)
        )
        done = subprocess.run(
            [sys.executable, "-c", READ, str(folder), str(repeat)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    ways = json.loads(done.stdout.strip().splitlines()[-1])
    births = ways["fast reader"]["count"]
    print(f"reading the Bundles only ({births:,} births, CPU, best of {repeat}):")
    for name, way in ways.items():
        per = f"{births / way['cpu_seconds']:,.0f} births/s" if name != "json.loads only" else "no rows"
        print(f"  {name:>24}: {way['cpu_seconds']:.2f} s ({per})")
    strict, fast, floor = (ways[n]["cpu_seconds"] for n in ways)
    print(
        f"fast reader vs fhir.resources: {strict / fast:.1f}× faster; vs json.loads alone: {fast / floor:.1f}× its time"
    )


def main() -> None:
    best, ratio = race(__doc__.split("\n")[0], "fhir", default_scale=0.01)
    national = 570_000 / (best["fhir"]["rows"] / best["fhir"]["seconds"])
    print(f"FHIR / CSV time: {ratio:.1f}×; a national year (570,000 births) at this rate: {national / 60:,.0f} min")
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--year", type=int, default=2023)
    options.add_argument("--scale", type=float, default=0.01)
    options.add_argument("--repeat", type=int, default=1)
    known, _ = options.parse_known_args()  # the same options race() read
    read_race(known.scale, known.year, known.repeat)


if __name__ == "__main__":
    main()
