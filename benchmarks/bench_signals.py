"""Signals: does detection find planted deteriorations, how fast, and at what false-alarm cost?

Generates synthetic national data with known struggling trusts, loads it into a temporary
MatNeo home and runs signal detection on it:

    .venv/bin/python benchmarks/bench_signals.py                    # 2016-2019, scale 1.0, seed 7
    .venv/bin/python benchmarks/bench_signals.py --scale 0.5 --years 2016-2019 --workdir /tmp/sig

Planted: twelve trusts — two small (≈20th centile of births in the first year), two median
and two large (≈85th centile) at each of two factors, 1.5 and 2.0 — whose stillbirth, neonatal
death and brain injury odds are multiplied by the factor from a start month in the second half
of the data (so every chart has a baseline). All other trusts are normal.

For each method (funnel, spc, cusum) and for any method (combined):

* detection rate — planted trust × measure combinations with a signal for that trust and
  measure dated on or after the start month;
* median delay — months (days / 30.44) from the start of the rise to the first such signal,
  over the detected combinations;
* false alarms per 100 trust-years — every signal episode for a normal trust (any of the three
  measures) divided by normal trust-years of data (trust-months with births / 12), × 100.

Also times ``detect`` (all three methods) on the loaded data, sweeps the CUSUM threshold, and
checks the target for a doubling at a median-sized trust: combined median delay ≤ 6 months
with ≤ 1 false alarm per 100 trust-years.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.counts import load_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.signals.detect import METHODS, SignalSettings, cusum_signals, detect
from matneo.synth import Struggling, generate_year, write_dataset

SIZES = {"small": 0.20, "median": 0.50, "large": 0.85}  # centile of trust births in the first year
FACTORS = (1.5, 2.0)
THRESHOLDS = (4.0, 5.0, 6.0, 7.0, 8.0)
TARGET_DELAY_MONTHS = 6.0
TARGET_FALSE_ALARMS = 1.0  # per 100 trust-years
DAYS_PER_MONTH = 365.25 / 12


@dataclasses.dataclass(frozen=True)
class Planted:
    trust_code: str
    size: str
    births: int
    factor: float
    start: dt.date


@dataclasses.dataclass(frozen=True)
class Outcome:
    detected: int
    planted: int
    median_delay: float | None
    false_alarms: int
    per_100_trust_years: float

    @property
    def rate(self) -> float:
        return self.detected / self.planted if self.planted else float("nan")


def parse_years(text: str) -> list[int]:
    if "-" in text:
        first, last = (int(part) for part in text.split("-", 1))
        return list(range(first, last + 1))
    return [int(part) for part in text.split(",")]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def choose_planted(years: list[int], scale: float, seed: int) -> list[Planted]:
    """Trusts by births in the first year: at each size, adjacent trusts take each factor in turn."""
    births = (
        pl.from_arrow(generate_year(years[0], scale=scale, seed=seed).select(["trust_code"]))
        .group_by("trust_code")
        .len()
        .sort("len", "trust_code")
    )
    codes, counts = births.get_column("trust_code").to_list(), births.get_column("len").to_list()
    # Starts spread through the second half, interleaved across sizes, leaving at least nine months after the last.
    total, per_size = len(years) * 12, 2 * len(FACTORS)
    first, count = dt.date(years[0], 1, 1), len(SIZES) * per_size
    offsets = [total // 2 + round(k * (total - 9 - total // 2) / (count - 1)) for k in range(count)]
    planted = []
    for s, (size, centile) in enumerate(SIZES.items()):
        centre = round(centile * (len(codes) - 1))
        for j, index in enumerate(range(centre - 1, centre - 1 + per_size)):
            start = add_months(first, offsets[j * len(SIZES) + s])
            planted.append(Planted(codes[index], size, counts[index], FACTORS[j % len(FACTORS)], start))
    return planted


def evaluate(
    signals: pl.DataFrame,
    planted: list[Planted],
    measures: tuple[str, ...],
    normal_trust_years: float,
    all_planted: set[str],
) -> Outcome:
    """Detections among ``planted``; false alarms among trusts outside ``all_planted``."""
    delays = []
    for p in planted:
        for measure in measures:
            dates = (
                signals.filter(
                    (pl.col("trust_code") == p.trust_code)
                    & (pl.col("measure") == measure)
                    & (pl.col("signal_date") >= p.start)
                )
                .get_column("signal_date")
                .to_list()
            )
            if dates:
                delays.append((min(dates) - p.start).days / DAYS_PER_MONTH)
    false_alarms = signals.filter(~pl.col("trust_code").is_in(list(all_planted))).height
    return Outcome(
        detected=len(delays),
        planted=len(planted) * len(measures),
        median_delay=statistics.median(delays) if delays else None,
        false_alarms=false_alarms,
        per_100_trust_years=100 * false_alarms / normal_trust_years,
    )


def row(label: str, outcome: Outcome) -> str:
    delay = f"{outcome.median_delay:6.1f}" if outcome.median_delay is not None else "     –"
    return (
        f"{label:28} {outcome.detected:3d}/{outcome.planted:<3d} {100 * outcome.rate:5.0f}%  {delay}  "
        f"{outcome.false_alarms:6d}  {outcome.per_100_trust_years:8.2f}"
    )


HEADER = f"{'':28} {'detected':>12}  {'delay':>6}  {'FA':>6}  {'FA/100ty':>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--years", default="2016-2019", help="e.g. 2016-2019 or 2017,2018 (default 2016-2019)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep data and home here (default: a temporary directory)")
    args = parser.parse_args()
    years = parse_years(args.years)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="matneo-bench-signals-"))
    try:
        run(years, args.scale, args.seed, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run(years: list[int], scale: float, seed: int, workdir: Path) -> None:
    overall = time.perf_counter()
    planted = choose_planted(years, scale, seed)
    print(f"years {years[0]}–{years[-1]}, scale {scale:g}, seed {seed}; planted:")
    for p in planted:
        print(f"  {p.trust_code:6} {p.size:7} {p.births:6,} births/yr  ×{p.factor:g} from {p.start:%Y-%m}")

    start = time.perf_counter()
    data_dir, home = workdir / "data", workdir / "home"
    if home.exists():
        shutil.rmtree(home)
    struggling = [Struggling(p.trust_code, p.start, p.factor) for p in planted]
    paths = write_dataset(data_dir, years, scale=scale, seed=seed, struggling=struggling, as_of=dt.date(2100, 1, 1))
    generated = time.perf_counter() - start
    start = time.perf_counter()
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    result = load_files(paths, settings)
    loaded = time.perf_counter() - start
    store = RecordStore(settings.records_dir)
    files = store.partition_files()
    cube = load_cube(store, None)
    print(
        f"generated in {generated:.1f} s; loaded {result.rows_loaded:,} records "
        f"({result.rows_rejected:,} rejected) in {loaded:.1f} s"
    )

    defaults = SignalSettings()
    start = time.perf_counter()
    signals = detect(files, cube, defaults)
    detect_seconds = time.perf_counter() - start
    print(f"detect (funnel + spc + cusum, default thresholds): {detect_seconds:.1f} s, {signals.height:,} signals")

    planted_codes = {p.trust_code for p in planted}
    normal_months = (
        cube.filter(~pl.col("trust_code").is_in(list(planted_codes)))
        .select("trust_code", "month_start")
        .unique()
        .height
    )
    normal_trust_years = normal_months / 12
    trusts = cube.get_column("trust_code").n_unique()
    print(
        f"{trusts} trusts: {len(planted_codes)} planted, {trusts - len(planted_codes)} normal "
        f"({normal_trust_years:,.0f} normal trust-years)"
    )
    measures = defaults.measures
    doubling_median = [p for p in planted if p.size == "median" and p.factor == 2.0]

    print("\nBy method, default thresholds (delay = median months from the start of the rise to the first signal)")
    print(HEADER)
    for method in METHODS:
        print(
            row(
                method,
                evaluate(
                    signals.filter(pl.col("method") == method), planted, measures, normal_trust_years, planted_codes
                ),
            )
        )
    print(row("combined (any method)", evaluate(signals, planted, measures, normal_trust_years, planted_codes)))

    print("\nCombined, by planted size and factor")
    print(HEADER)
    for size in SIZES:
        for factor in FACTORS:
            group = [p for p in planted if p.size == size and p.factor == factor]
            print(row(f"{size} ×{factor:g}", evaluate(signals, group, measures, normal_trust_years, planted_codes)))

    print(
        f"\nCUSUM threshold sweep (odds ratio {defaults.cusum_odds_ratio:g}); all = funnel + spc + cusum at h, "
        "funnel+cusum = without spc"
    )
    print(HEADER)
    funnel = signals.filter(pl.col("method") == "funnel")
    spc = signals.filter(pl.col("method") == "spc")
    verdicts = []
    for threshold in THRESHOLDS:
        start = time.perf_counter()
        cusum = cusum_signals(files, dataclasses.replace(defaults, cusum_threshold=threshold))
        seconds = time.perf_counter() - start
        for label, frame in (
            (f"cusum ({seconds:.0f} s)", cusum),
            ("funnel+cusum", pl.concat([funnel, cusum])),
            ("all", pl.concat([funnel, spc, cusum])),
        ):
            print(
                row(f"h={threshold:g} {label}", evaluate(frame, planted, measures, normal_trust_years, planted_codes))
            )
            target = evaluate(frame, doubling_median, measures, normal_trust_years, planted_codes)
            name = label.split(" ")[0]
            print(row(f"h={threshold:g} {name}, median ×2", target))
            verdicts.append((threshold, name, target))

    print(
        f"\nTarget — doubling at a median-sized trust: median delay ≤ {TARGET_DELAY_MONTHS:g} months "
        f"with ≤ {TARGET_FALSE_ALARMS:g} false alarm per 100 trust-years"
    )
    for threshold, name, outcome in verdicts:
        met = (
            outcome.median_delay is not None
            and outcome.median_delay <= TARGET_DELAY_MONTHS
            and outcome.per_100_trust_years <= TARGET_FALSE_ALARMS
        )
        delay = f"{outcome.median_delay:.1f}" if outcome.median_delay is not None else "–"
        print(
            f"  h={threshold:g} {name:13} detected {outcome.detected}/{outcome.planted}, "
            f"median delay {delay:>4} months, {outcome.per_100_trust_years:6.2f} false alarms per 100 trust-years "
            f"— {'MET' if met else 'NOT MET'}"
        )
    print(f"\ntotal run time {time.perf_counter() - overall:.0f} s")


if __name__ == "__main__":
    main()
