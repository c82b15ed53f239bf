"""Board packs: how long one pack takes, and a month of packs for every trust.

    .venv/bin/python benchmarks/bench_board.py                       # 2021-2023, scale 1.0
    .venv/bin/python benchmarks/bench_board.py --scale 0.2 --pdf-sample 3

Generates synthetic national data, loads it into a temporary MatNeo home, then times:

* the first pack (cold: the measure tables are computed from the count cube) and a warm pack;
* HTML packs for every trust for the latest month (build + render + archive);
* PDF printing by headless Chromium for a sample of trusts, extrapolated to every trust.

Targets (issue "Assurance and the board"): a pack in ≤ 5 s; every trust's pack for a month in
≤ 10 min on this machine. The peer for the figures is MatNeo's own measure tables (raced
against one DuckDB query in bench_measures.py); a pack adds no data access of its own beyond
the reader's view of those tables, so this benchmark times the rest: SPC, rendering, printing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from matneo.board.service import produce
from matneo.config import Settings
from matneo.db.session import dispose_all_engines, prepare
from matneo.measures.results import ResultCache
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
from matneo.synth import write_dataset

TARGET_PACK_S = 5.0
TARGET_ALL_TRUSTS_S = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="2021-2023")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--pdf-sample", type=int, default=5, help="trusts whose PDF is printed and timed")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    first, last = (int(y) for y in args.years.split("-"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="matneo-bench-board-"))
    try:
        settings = Settings(home=work / "home", database_url=f"sqlite:///{work / 'home' / 'matneo.db'}")
        settings.ensure_dirs()
        prepare(settings.database_url)
        hierarchy = load_hierarchy()
        started = time.perf_counter()
        files = write_dataset(work / "synthetic", range(first, last + 1), scale=args.scale, seed=7)
        load_files(files, settings, hierarchy)
        elapsed = time.perf_counter() - started
        print(f"data: {first}-{last} at scale {args.scale}, generated and loaded in {elapsed:.1f} s")
        results = ResultCache(settings, hierarchy)
        month = dt.date(last, 12, 1)
        trusts = [t.code for t in hierarchy.trusts()]

        def pack(code: str, pdf: bool) -> float:
            t = time.perf_counter()
            produce(settings, results, hierarchy, code, month, scope=None, actor="bench", pdf=pdf)
            return time.perf_counter() - t

        cold = pack(trusts[0], pdf=False)
        warm = pack(trusts[1], pdf=False)
        print(f"first pack (cold, HTML): {cold:.2f} s · next pack (warm, HTML): {warm:.3f} s")
        html_times = [pack(code, pdf=False) for code in trusts]
        html_total = sum(html_times)
        print(
            f"HTML packs for all {len(trusts)} trusts, {month:%b %Y}: {html_total:.1f} s "
            f"(median {statistics.median(html_times):.3f} s, max {max(html_times):.3f} s)"
        )
        sample = trusts[: max(1, args.pdf_sample)]
        pdf_times = [pack(code, pdf=True) for code in sample]
        per_pdf = statistics.median(pdf_times)
        all_pdf = per_pdf * len(trusts)
        print(f"pack with PDF (median of {len(sample)}): {per_pdf:.2f} s; all trusts with PDFs ≈ {all_pdf:.0f} s")
        print(
            f"targets: a pack ≤ {TARGET_PACK_S:.0f} s — cold {cold:.2f} s, with PDF {per_pdf:.2f} s "
            f"({'met' if max(cold, per_pdf) <= TARGET_PACK_S else 'NOT met'}); all trusts ≤ "
            f"{TARGET_ALL_TRUSTS_S / 60:.0f} min — ≈ {all_pdf / 60:.1f} min "
            f"({'met' if all_pdf <= TARGET_ALL_TRUSTS_S else 'NOT met'})"
        )
    finally:
        dispose_all_engines()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
