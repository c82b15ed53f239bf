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

Last, one Bundle of ``--births`` births (500: about a trust's month) is read the three ways and
loaded whole with each reader (``load_files``, CPU).

    .venv/bin/python benchmarks/bench_fhir.py [--year 2023] [--scale 0.01] [--repeat 1] [--births 500]
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
import json, sys, tempfile, time
from pathlib import Path
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.fhir import inbound
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
folder, month, repeat = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
files = sorted(folder.rglob("*.json"))
inbound.read_fhir(files[0]); inbound.read_fhir(files[0], strict=True)  # imports, outside the timing
ways = {"fhir.resources (strict)": lambda f: inbound.read_fhir(f, strict=True).typed.height,
        "fast reader": lambda f: inbound.read_fhir(f).typed.height,
        "json.loads only": lambda f: len(json.loads(f.read_bytes())["entry"])}
def best(read, paths):
    times = []
    for _ in range(repeat):
        cpu = time.process_time()
        count = sum(read(f) for f in paths)
        times.append(time.process_time() - cpu)
    return {"count": count, "cpu_seconds": min(times)}
out = {"year": {n: best(w, files) for n, w in ways.items()}, "month": {n: best(w, [month]) for n, w in ways.items()}}
fast_entries = inbound.read_entries
loads = {}
for name, strict in (("fhir.resources (strict)", True), ("fast reader", False)):
    inbound.read_entries = lambda data, strict=False, _s=strict: fast_entries(data, strict=_s)
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(home=Path(home), database_url=f"sqlite:///{home}/matneo.db")
            settings.ensure_dirs()
            upgrade(settings.database_url, load_hierarchy())
            cpu = time.process_time()
            result = load_files([month], settings, input_format="fhir")
            times.append(time.process_time() - cpu)
    loads[name] = {"count": result.rows_loaded + result.rows_rejected, "cpu_seconds": min(times)}
out["month load"] = loads
print(json.dumps(out))
"""


def _month(root: Path, year: int, births: int) -> Path:
    """One Bundle of ``births`` synthetic births: about a trust's month."""
    import csv
    import datetime as dt

    from matneo.fhir.outbound import bundle_json
    from matneo.records.parse import read_csv
    from matneo.synth import write_dataset

    (source,) = write_dataset(root / "csv", [year], fmt="csv", scale=0.002, seed=7, as_of=dt.date(year + 1, 12, 31))
    with open(source, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    rows = read_csv(source, header).typed.drop("_row").head(births)
    path = root / "month.json"
    path.write_text(bundle_json(rows.iter_rows(named=True)), encoding="utf-8")
    return path


def read_race(scale: float, year: int, repeat: int, births: int) -> None:
    import datetime as dt

    from matneo.synth import write_dataset

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (folder,) = write_dataset(
            root / "fhir", [year], fmt="fhir", scale=scale, seed=7, as_of=dt.date(year + 1, 12, 31)
        )
        month = _month(root, year, births)
        done = subprocess.run(
            [sys.executable, "-c", READ, str(folder), str(month), str(repeat)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    races = json.loads(done.stdout.strip().splitlines()[-1])
    titles = {
        "year": "reading every Bundle of the year",
        "month": "reading one Bundle (a trust's month)",
        "month load": "loading that Bundle (load_files: reading, rules, store)",
    }
    for race_name, ways in races.items():
        births_read = ways["fast reader"]["count"]
        print(f"{titles[race_name]}, {births_read:,} births, CPU, best of {repeat}:")
        for name, way in ways.items():
            per = f"{births_read / way['cpu_seconds']:,.0f} births/s" if name != "json.loads only" else "no rows"
            print(f"  {name:>24}: {way['cpu_seconds']:.3f} s ({per})")
        strict, fast = ways["fhir.resources (strict)"]["cpu_seconds"], ways["fast reader"]["cpu_seconds"]
        line = f"  fast reader vs fhir.resources: {strict / fast:.1f}× faster"
        if "json.loads only" in ways:
            line += f"; vs json.loads alone (the floor): {fast / ways['json.loads only']['cpu_seconds']:.1f}× its time"
        print(line)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--year", type=int, default=2023)
    options.add_argument("--scale", type=float, default=0.01)
    options.add_argument("--repeat", type=int, default=1)
    options.add_argument("--births", type=int, default=500)
    options.add_argument("--seed", type=int, default=7)
    known = options.parse_args()
    # race() parses the command line again and knows no --births: hand it the rest
    sys.argv = [sys.argv[0], "--year", str(known.year), "--scale", str(known.scale), "--seed", str(known.seed)]
    sys.argv += ["--repeat", str(known.repeat)]
    best, ratio = race(__doc__.split("\n")[0], "fhir", default_scale=0.01)  # reads the other options
    national = 570_000 / (best["fhir"]["rows"] / best["fhir"]["seconds"])
    print(f"FHIR / CSV time: {ratio:.1f}×; a national year (570,000 births) at this rate: {national / 60:,.0f} min")
    read_race(known.scale, known.year, known.repeat, known.births)


if __name__ == "__main__":
    main()
