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
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.counts import load_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.signals.cusum import simulate_run_lengths
from matneo.signals.detect import (
    COMPOSITES,
    METHODS,
    SignalSettings,
    cusum_signals,
    cusum_streams,
    detect,
    risk_frame,
    stream_arrays,
)
from matneo.synth import Struggling, generate_year, write_dataset

SIZES = {"small": 0.20, "median": 0.50, "large": 0.85}  # centile of trust births in the first year
FACTORS = (1.5, 2.0)
THRESHOLDS = (4.0, 5.0, 6.0, 7.0, 7.5, 8.0, 9.0)
#: Thresholds whose operating characteristics are simulated and stored (operating.json).
SIM_THRESHOLDS = (5.0, 6.0, 7.0, 8.0)
SIM_RUNS_IN_CONTROL = 50  # runs per stream to the highest threshold: relative SE of the ARL ≈ 1/√50 = 14%
SIM_RUNS_DOUBLING = 400
SIM_PATIENT_MIX = 200_000  # babies sampled (seeded) from the loaded data as each stream's patient mix
FIND_WITHIN_MONTHS = 6.0
TARGET_FOUND = 0.8  # share of doublings at median-sized trusts found within six months
OPERATING_PATH = Path(__file__).resolve().parents[1] / "src" / "matneo" / "signals" / "data" / "operating.json"
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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def found_within(signals: pl.DataFrame, planted: list[Planted], months: float) -> tuple[int, int]:
    """Planted trusts with any signal (any stream) dated from the start month to ``months`` after it."""
    found = 0
    for p in planted:
        dates = signals.filter((pl.col("trust_code") == p.trust_code) & (pl.col("signal_date") >= p.start))
        first = dates.get_column("signal_date").min()
        if isinstance(first, dt.date) and (first - p.start).days / DAYS_PER_MONTH <= months:
            found += 1
    return found, len(planted)


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
    parser.add_argument(
        "--no-operating", action="store_true", help="do not simulate or write src/matneo/signals/data/operating.json"
    )
    parser.add_argument(
        "--defaults-only",
        action="store_true",
        help="with --workdir of an earlier run: simulate only the register's default streams at their default "
        "thresholds on its loaded data and add them to operating.json (keeps the other entries)",
    )
    args = parser.parse_args()
    years = parse_years(args.years)
    if args.defaults_only:
        if args.workdir is None:
            raise SystemExit("--defaults-only needs the --workdir of an earlier run")
        simulate_defaults(args.workdir, args.seed)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="matneo-bench-signals-"))
    try:
        run(years, args.scale, args.seed, workdir, not args.no_operating)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run(years: list[int], scale: float, seed: int, workdir: Path, operating: bool = True) -> None:
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
    start, cpu = time.perf_counter(), cpu_seconds()
    register_signals = detect(files, cube, defaults)
    print(
        f"detect (defaults: {', '.join(defaults.methods)}): {time.perf_counter() - start:.1f} s wall, "
        f"{cpu_seconds() - cpu:.1f} s CPU, {register_signals.height:,} signals"
    )
    every = dataclasses.replace(defaults, methods=("funnel", "spc", "rare_spc", "cusum", "leading_cusum"))
    start, cpu = time.perf_counter(), cpu_seconds()
    signals = detect(files, cube, every)
    print(f"detect (every method): {time.perf_counter() - start:.1f} s wall, {cpu_seconds() - cpu:.1f} s CPU")
    signals = signals.filter(
        (pl.col("method") != "cusum") | pl.col("measure").is_in(list(defaults.measures))
    )  # the by-method table keeps the three single outcomes, as before

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
    outcomes = signals.filter(pl.col("method").is_in(["funnel", "spc", "cusum"]))
    print(row("combined (funnel+spc+cusum)", evaluate(outcomes, planted, measures, normal_trust_years, planted_codes)))

    print("\nCombined, by planted size and factor")
    print(HEADER)
    for size in SIZES:
        for factor in FACTORS:
            group = [p for p in planted if p.size == size and p.factor == factor]
            print(row(f"{size} ×{factor:g}", evaluate(outcomes, group, measures, normal_trust_years, planted_codes)))

    print(
        f"\nCUSUM threshold sweep (odds ratio {defaults.cusum_odds_ratio:g}); all = funnel + spc + cusum at h, "
        "funnel+cusum = without spc"
    )
    print(HEADER)
    funnel = signals.filter(pl.col("method") == "funnel")
    spc = signals.filter(pl.col("method") == "spc")
    start, cpu = time.perf_counter(), cpu_seconds()
    risks = risk_frame(files, every)
    wall = time.perf_counter() - start
    print(f"(per-baby risks for every stream: {wall:.1f} s wall, {cpu_seconds() - cpu:.1f} s CPU)")
    composites = tuple(COMPOSITES)
    singles_at: dict[float, pl.DataFrame] = {}
    composites_at: dict[float, pl.DataFrame] = {}
    leading_at: dict[float, pl.DataFrame] = {}
    for threshold in THRESHOLDS:
        start = time.perf_counter()
        only = dataclasses.replace(defaults, methods=("cusum",), cusum_threshold=threshold, composites=())
        cusum = singles_at[threshold] = cusum_signals(files, only, risks)
        seconds = time.perf_counter() - start
        both = dataclasses.replace(defaults, methods=("cusum",), measures=(), composite_threshold=threshold)
        composites_at[threshold] = cusum_signals(files, both, risks)
        lead = dataclasses.replace(defaults, methods=("leading_cusum",), leading_threshold=threshold)
        leading_at[threshold] = cusum_signals(files, lead, risks)
        for label, frame in (
            (f"cusum ({seconds:.0f} s)", cusum),
            ("funnel+cusum", pl.concat([funnel, cusum])),
            ("all", pl.concat([funnel, spc, cusum])),
        ):
            print(
                row(f"h={threshold:g} {label}", evaluate(frame, planted, measures, normal_trust_years, planted_codes))
            )
        print(
            row(
                f"h={threshold:g} composites",
                evaluate(composites_at[threshold], planted, composites, normal_trust_years, planted_codes),
            )
        )

    print("\nLeading indicators (not planted: false alarms only; they feed triangulation, not the register's outcomes)")
    for threshold in THRESHOLDS:
        lead = leading_at[threshold]
        normal = lead.filter(~pl.col("trust_code").is_in(list(planted_codes)))
        by_measure = ", ".join(
            f"{m} {100 * n / normal_trust_years:.1f}"
            for m, n in normal.group_by("measure").len().sort("measure").iter_rows()
        )
        print(f"  h={threshold:g}: {100 * normal.height / normal_trust_years:6.1f} per 100 trust-years ({by_measure})")

    print(
        f"\nTarget — doublings at median-sized trusts: ≥ {100 * TARGET_FOUND:.0f}% found within "
        f"{FIND_WITHIN_MONTHS:g} months of onset (any register signal) with ≤ {TARGET_FALSE_ALARMS:g} false alarm "
        "per 100 trust-years (every register signal episode at a normal trust)"
    )
    doublings = {size: [p for p in planted if p.size == size and p.factor == 2.0] for size in SIZES}
    print(f"{'register = funnel +':34} {'median ×2':>10} {'all ×2':>8} {'FA/100ty':>9}")
    for single_h in (None, 7.0, 8.0, 9.0):
        for composite_h in (None, *THRESHOLDS):
            if single_h is None and composite_h is None:
                continue
            parts = [funnel]
            if single_h is not None:
                parts.append(singles_at[single_h])
            if composite_h is not None:
                parts.append(composites_at[composite_h])
            frame = pl.concat(parts)
            found, total = found_within(frame, doublings["median"], FIND_WITHIN_MONTHS)
            all_found, all_total = found_within(
                frame, [p for group in doublings.values() for p in group], FIND_WITHIN_MONTHS
            )
            fa = 100 * frame.filter(~pl.col("trust_code").is_in(list(planted_codes))).height / normal_trust_years
            met = found / total >= TARGET_FOUND and fa <= TARGET_FALSE_ALARMS
            label = (f"singles h={single_h:g}" if single_h is not None else "no singles") + (
                f", composites h={composite_h:g}" if composite_h is not None else ", no composites"
            )
            verdict = "MET" if met else "NOT MET"
            print(f"{label:34} {found:>4}/{total:<5} {all_found:>3}/{all_total:<4} {fa:9.2f}  {verdict}")

    if operating:
        sizes = {size: statistics.median([p.births for p in planted if p.size == size]) for size in SIZES}
        simulate_operating(risks, every, sizes, years, scale, seed)
    print(f"\ntotal run time {time.perf_counter() - overall:.0f} s")


def target_by_simulation(
    by_default: dict[tuple[str, str], tuple[float, np.ndarray, np.ndarray]], median_births: float
) -> None:
    """The target for the register's default streams and thresholds, by simulation, at a median trust.

    False alarms: the register's CUSUM streams together, Σ 100 × births a year / in-control ARL
    (each stream's false alarms add up; the funnel at 99.8% raised none on the planted data).
    Found within six months: the share of simulated doublings each outcome stream finds within
    six months of births at a median trust; any register stream counts, so the best stream's
    share is a lower bound of the register's.
    """
    outcome = {key: value for key, value in by_default.items() if key[0] == "cusum"}
    if not outcome:
        return
    within = FIND_WITHIN_MONTHS * median_births / 12
    print(
        f"\nTarget by simulation — the register's defaults at a median trust ({median_births:,.0f} births a year): "
        f"≥ {100 * TARGET_FOUND:.0f}% of doublings found within {FIND_WITHIN_MONTHS:g} months at ≤ "
        f"{TARGET_FALSE_ALARMS:g} false alarm per 100 trust-years"
    )
    total_fa, best = 0.0, 0.0
    for (_, stream), (h, in_control, doubling) in sorted(outcome.items()):
        fa = 100 * median_births / float(in_control.mean())
        se = fa * float(in_control.std(ddof=1)) / float(in_control.mean()) / len(in_control) ** 0.5
        found = float((doubling <= within).mean())
        total_fa, best = total_fa + fa, max(best, found)
        print(
            f"  {stream:28} h = {h:g}: {fa:5.2f} ± {se:4.2f} FA/100 ty; doublings found ≤ 6 months {100 * found:5.1f}%"
        )
    met = best >= TARGET_FOUND and total_fa <= TARGET_FALSE_ALARMS
    print(
        f"  register: {total_fa:.2f} FA/100 ty; ≥ {100 * best:.1f}% of doublings found within "
        f"{FIND_WITHIN_MONTHS:g} months: {'MET' if met else 'NOT MET'}"
    )
    if not met:
        limit = "false alarms" if total_fa > TARGET_FALSE_ALARMS else "events a month (delay)"
        print(f"  what stops it: {limit}")


def simulate_defaults(workdir: Path, seed: int) -> None:
    """Simulate the register's default streams at their default thresholds on an earlier run's
    loaded data, add them to operating.json and check the target by simulation."""
    home = workdir / "home"
    store = RecordStore(Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}").records_dir)
    defaults = SignalSettings()
    babies = risk_frame(store.partition_files(), defaults)
    stored = json.loads(OPERATING_PATH.read_text(encoding="utf-8"))
    sizes = stored["run"]["settings"]["trust_sizes_births_per_year"]
    rng = np.random.default_rng(seed)
    by_default: dict[tuple[str, str], tuple[float, np.ndarray, np.ndarray]] = {}
    started = time.perf_counter()
    for method, stream, components, h in cusum_streams(defaults):
        if method != "cusum":
            continue
        _, observed, mix, _ = stream_arrays(babies, components)
        mix = mix[rng.integers(0, mix.size, size=min(SIM_PATIENT_MIX, mix.size))]
        odds = defaults.cusum_odds_ratio
        cap = 2_000_000_000
        in_control = simulate_run_lengths(
            mix, odds, thresholds=[h], n_sim=SIM_RUNS_IN_CONTROL, seed=seed, max_run_length=cap
        )[h]
        doubling = simulate_run_lengths(
            mix, odds, thresholds=[h], true_odds_ratio=2.0, n_sim=SIM_RUNS_DOUBLING, seed=seed + 1, max_run_length=cap
        )[h]
        by_default[method, stream] = (h, in_control, doubling)
        entry = stored["streams"].setdefault(
            f"{method}:{stream}", {"events_per_birth": float(observed.mean()), "thresholds": {}}
        )
        entry["thresholds"][f"{h:g}"] = {
            "arl0_births": round(float(in_control.mean())),
            "arl0_standard_error": round(float(in_control.std(ddof=1)) / SIM_RUNS_IN_CONTROL**0.5),
            "doubling_p50_births": round(float(np.percentile(doubling, 50))),
            "doubling_p80_births": round(float(np.percentile(doubling, 80))),
        }
        per_month = sizes["median"] / 12
        print(
            f"{method}:{stream} h = {h:g}: ARL0 {in_control.mean():,.0f} births, doubling found in "
            f"{np.percentile(doubling, 50) / per_month:.1f} / {np.percentile(doubling, 80) / per_month:.1f} months "
            f"(median / 80th centile) at a median trust ({time.perf_counter() - started:.0f} s)"
        )
    stored["run"]["defaults_added"] = {
        "date": dt.date.today().isoformat(),
        "how": "benchmarks/bench_signals.py --defaults-only on the loaded data of the run above (same years, scale "
        "and seed); the register's default threshold of each outcome stream",
    }
    OPERATING_PATH.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OPERATING_PATH}")
    target_by_simulation(by_default, float(sizes["median"]))


def simulate_operating(
    risks: pl.DataFrame,
    settings: SignalSettings,
    sizes: dict[str, float],
    years: list[int],
    scale: float,
    seed: int,
) -> None:
    """Simulate each CUSUM stream's run lengths on the national patient mix; print and store them.

    In control (true odds ratio 1) the mean run length in births gives the false-alarm rate at
    any trust size; under a doubling (true odds ratio 2) the median and 80th centile give the
    delay. Also prints what limits the delay: the stream's expected events a month at a
    median-sized trust and the events a doubling adds before the chart can reach h.
    """
    print(
        f"\nOperating characteristics by simulation (odds ratio {settings.cusum_odds_ratio:g}; {SIM_RUNS_IN_CONTROL} "
        f"in-control and {SIM_RUNS_DOUBLING} doubling runs per stream on {SIM_PATIENT_MIX:,} sampled babies)"
    )
    median_births = sizes["median"]
    print(
        f"{'stream':44} {'h':>3} {'ARL0 births':>12} {'FA/100ty small/median/large':>28} "
        f"{'p50/p80 months at median':>25} {'events/month (median)':>22}"
    )
    streams: dict[str, dict[str, object]] = {}
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    register = {(method, stream): h for method, stream, _, h in cusum_streams(SignalSettings())}
    by_default: dict[tuple[str, str], tuple[float, np.ndarray, np.ndarray]] = {}
    for method, stream, components, _ in cusum_streams(settings):
        _, observed, mix, _ = stream_arrays(risks, components)
        rate = float(observed.mean()) if observed.size else 0.0
        mix = mix[rng.integers(0, mix.size, size=min(SIM_PATIENT_MIX, mix.size))]
        # The stored thresholds, and the register's default for this stream whatever it is, so
        # the words shown next to each signal are simulated for exactly the threshold in use.
        thresholds = sorted({*SIM_THRESHOLDS, *([register[method, stream]] if (method, stream) in register else [])})
        in_control = simulate_run_lengths(
            mix,
            settings.cusum_odds_ratio,
            thresholds=thresholds,
            n_sim=SIM_RUNS_IN_CONTROL,
            seed=seed,
            max_run_length=2_000_000_000,  # neonatal death at h = 9: some runs pass 10⁸ births
        )
        doubling = simulate_run_lengths(
            mix,
            settings.cusum_odds_ratio,
            thresholds=thresholds,
            true_odds_ratio=2.0,
            n_sim=SIM_RUNS_DOUBLING,
            seed=seed + 1,
        )
        if (method, stream) in register:
            h = register[method, stream]
            by_default[method, stream] = (h, in_control[h], doubling[h])
        entries = {}
        for h in thresholds:
            arl0 = float(in_control[h].mean())
            p50, p80 = (float(np.percentile(doubling[h], q)) for q in (50, 80))
            entries[f"{h:g}"] = {
                "arl0_births": round(arl0),
                "arl0_standard_error": round(float(in_control[h].std(ddof=1)) / SIM_RUNS_IN_CONTROL**0.5),
                "doubling_p50_births": round(p50),
                "doubling_p80_births": round(p80),
            }
            fa = "/".join(f"{100 * b / arl0:.2f}" for b in sizes.values())
            per_month = median_births / 12
            print(
                f"{method + ':' + stream:44} {h:3g} {arl0:12,.0f} {fa:>28} "
                f"{p50 / per_month:11.1f}/{p80 / per_month:<13.1f} {rate * per_month:22.1f}"
            )
        streams[f"{method}:{stream}"] = {"events_per_birth": rate, "thresholds": entries}
    print(f"(simulation {time.perf_counter() - started:.0f} s)")
    target_by_simulation(by_default, median_births)
    stored = {
        "run": {
            "date": dt.date.today().isoformat(),
            "benchmark": "benchmarks/bench_signals.py",
            "settings": {
                "years": f"{years[0]}-{years[-1]}",
                "scale": scale,
                "seed": seed,
                "odds_ratio": settings.cusum_odds_ratio,
                "runs_in_control": SIM_RUNS_IN_CONTROL,
                "runs_doubling": SIM_RUNS_DOUBLING,
                "patient_mix": SIM_PATIENT_MIX,
                "trust_sizes_births_per_year": sizes,
            },
            "note": "Run lengths in births of a chart starting at 0 on the national patient mix; in control "
            "(true odds ratio 1) the mean, under a doubling of the odds the median and 80th centile.",
        },
        "streams": streams,
    }
    OPERATING_PATH.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OPERATING_PATH}")


if __name__ == "__main__":
    main()
