"""Signals and triangulation after a load, on ten national years: wall, CPU and peak memory.

Target (issue 16, "Speed"): signals and triangulation for every trust on ten national years
≤ 10 s after a load, in the background while serving, without the server's memory passing 2 GB.

    .venv/bin/python benchmarks/bench_detect.py --home /tmp/natl          # generates 2015–2024 if empty
    .venv/bin/python benchmarks/bench_detect.py --home /tmp/natl --before /tmp/previous-checkout/src

Each step runs in a fresh child process, as the server runs the refresh (``matneo.web.jobs``),
and reports its own wall time, CPU time (all threads) and peak resident memory:

* ``refresh`` — ``refresh_from_store``: detection with the default methods on the live store and
  the register brought in line (what the server does after each load);
* ``detect`` — ``detect`` alone with the default methods;
* ``triangulate`` — every trust's safety picture under England (``triangulation.pictures``:
  concerns from every source, the concern rules, decisions);
* ``before`` (with ``--before SRC``) — the previous implementation's ``detect`` from another
  checkout's ``src``, on the same store at the same time: the peer to beat, and a check that
  both find the same signals.

The machine's load average is printed with each step: on a shared machine wall time is only
meaningful next to it, CPU time is the comparable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_SECONDS = 10.0
TARGET_PEAK = 2 * 2**30

STEP = r"""
import json, os, resource, sys, time, datetime as dt
from pathlib import Path
home, step, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
os.environ["MATNEO_HOME"] = str(home)
from matneo.config import get_settings
settings = get_settings(home)
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
load = os.getloadavg()[0]
start, started = time.perf_counter(), cpu()
result = {}
if step == "refresh":
    from matneo.signals.register import refresh_from_store
    result["text"] = refresh_from_store(settings).text()
elif step in ("detect", "before"):
    import polars as pl
    from matneo.records.store import RecordStore
    from matneo.signals.detect import SignalSettings, detect
    # the same settings for both implementations (the register's defaults before this work)
    same = SignalSettings(cusum_threshold=8.0, composite_threshold=8.0)
    found = detect(RecordStore(settings.records_dir).partition_files(), pl.DataFrame(), same)
    found.write_parquet(out)
    result["text"] = f"{found.height} signals"
elif step == "triangulate":
    from matneo.measures.results import ResultCache
    from matneo.reference.organisations import load_hierarchy
    from matneo.triangulation.picture import pictures
    hierarchy = load_hierarchy()
    results = ResultCache(settings, hierarchy)
    # The server warms the results cache for a new store version before the refresh (issue 10,
    # matneo.web.jobs): the monthly table the data-quality source reads is there already.
    results.measure_table("stillbirth_rate", "month")
    # ... and has imported every module the sources read (the reviews module imports sign-in).
    import matneo.reviews.models, matneo.reviews.queries  # noqa: E401
    result["warm"] = time.perf_counter() - start
    start, started = time.perf_counter(), cpu()
    found = pictures(settings.database_url, results, hierarchy, "ENG", dt.date.today(),
                     settings.concern_rules)
    result["text"] = f"{len(found)} trusts, {sum(p.needs_conversation for p in found)} needing a conversation"
import matneo
result |= {"module": str(Path(matneo.__file__).parent), "wall": time.perf_counter() - start, "cpu": cpu() - started,
           "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "load": load}
print(json.dumps(result))
"""


def step(home: Path, name: str, out: Path, src: Path | None = None) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, "-c", STEP, str(home), name, str(out)], env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--home", type=Path, required=True, help="MatNeo home; ten national years are loaded if empty")
    parser.add_argument("--before", type=Path, help="another checkout's src directory: the implementation to race")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step (the best is kept)")
    args = parser.parse_args()
    from bench_web import ensure_data

    home = args.home.expanduser().resolve()
    rows = ensure_data(home)
    print(f"{rows:,} birth records in {home}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, dict[str, object]] = {}
        steps = ["detect", "refresh", "triangulate"] + (["before"] if args.before else [])
        for name in steps:
            runs = [
                step(home, name, Path(tmp) / f"{name}.parquet", args.before if name == "before" else None)
                for _ in range(args.repeat)
            ]
            best = min(runs, key=lambda r: float(str(r["wall"])))
            results[name] = best
            print(
                f"{name:12} {float(str(best['wall'])):6.1f} s wall {float(str(best['cpu'])):6.1f} s CPU "
                f"peak {int(str(best['peak'])) / 2**20:6.0f} MB  (load average {float(str(best['load'])):.1f}) "
                f"{best['text']} [{best['module']}]"
                + (
                    f" (after {float(str(best['warm'])):.1f} s warming the results cache, untimed)"
                    if "warm" in best
                    else ""
                )
            )
        total_wall = sum(float(str(results[s]["wall"])) for s in ("refresh", "triangulate"))
        total_cpu = sum(float(str(results[s]["cpu"])) for s in ("refresh", "triangulate"))
        peak = max(int(str(results[s]["peak"])) for s in ("refresh", "triangulate"))
        print(
            f"\nrefresh + triangulation: {total_wall:.1f} s wall, {total_cpu:.1f} s CPU, peak {peak / 2**20:.0f} MB; "
            f"target ≤ {TARGET_SECONDS:g} s and < {TARGET_PEAK / 2**30:g} GB: "
            f"{'MET' if total_wall <= TARGET_SECONDS and peak < TARGET_PEAK else 'NOT MET (on this machine now)'}"
        )
        if args.before:
            import polars as pl

            new, old = (pl.read_parquet(Path(tmp) / f"{n}.parquet") for n in ("detect", "before"))
            key = ["trust_code", "measure", "method", "signal_date"]
            same = new.select(key).sort(key).equals(old.select(key).sort(key))
            print(f"same signals as the implementation in {args.before}: {same} ({new.height} and {old.height})")


if __name__ == "__main__":
    main()
