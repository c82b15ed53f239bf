"""Operating characteristics of each signal method, as measured by the validation benchmark.

``benchmarks/bench_signals.py`` simulates every CUSUM stream on the national patient mix
(``matneo.signals.cusum.simulate_run_lengths``) and writes ``data/operating.json``: for each
(method, stream, threshold) the in-control average run length in births (how many births pass,
on average, before a false alarm) and the run length under a doubling of the odds (its median
and 80th centile in births), with the run date and settings. Run lengths in births do not
depend on a trust's size; a trust's births per year turn them into its own words:

* false alarms per 100 trust-years = 100 × births per year / in-control ARL (births);
* a doubling "is usually found within N months": N = 80th centile of the run length under a
  doubling (births) / births per month — four times in five the chart signals by then.

Why shown next to each signal: a threshold means nothing to a reader; "about 1 false alarm per
100 trust-years" and "within 9 months" say how much weight the signal bears and how late it can
be (issue 16; Steiner et al. 2000, section 3, choose CUSUM thresholds by run lengths).
The run lengths are from a chart starting at 0 (zero-state); a chart already part-way up when a
rise starts finds it sooner. Re-run the benchmark when thresholds or the risk model change.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["false_alarms_per_100_trust_years", "months_to_find", "operating_characteristics", "operating_words"]

OPERATING_FILE = "operating.json"


@cache
def operating_characteristics() -> dict[str, Any]:
    """The benchmark's stored operating characteristics (empty if it has not been run)."""
    path = resources.files("matneo.signals") / "data" / OPERATING_FILE
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _entry(operating: dict[str, Any], method: str, stream: str, threshold: float) -> dict[str, Any] | None:
    found = operating.get("streams", {}).get(f"{method}:{stream}", {}).get("thresholds", {}).get(f"{threshold:g}")
    return found if isinstance(found, dict) else None


def false_alarms_per_100_trust_years(arl0_births: float, births_per_year: float) -> float:
    """False alarms per 100 trust-years of a chart with in-control ARL ``arl0_births`` at a trust of this size.

    By hand: ARL0 = 500,000 births at 5,000 births a year is one false alarm per 100 years.
    """
    if arl0_births <= 0 or births_per_year <= 0:
        raise ValueError("the run length and births per year must be positive")
    return 100.0 * births_per_year / arl0_births


def months_to_find(run_length_births: float, births_per_year: float) -> float:
    """A run length in births as months at a trust of this size (births per month = births per year / 12)."""
    if run_length_births < 0 or births_per_year <= 0:
        raise ValueError("the run length must be ≥ 0 and births per year positive")
    return run_length_births / (births_per_year / 12.0)


def _rate_text(rate: float) -> str:
    if rate < 0.05:
        return "fewer than 0.1 false alarms"
    number = f"{rate:.1f}" if rate < 10 else f"{rate:.0f}"
    return f"about {number} false alarm{'' if number in ('1', '1.0') else 's'}"


def operating_words(
    operating: dict[str, Any], method: str, stream: str, threshold: float, births_per_year: float
) -> str:
    """The sentence shown with a signal, e.g. "At this threshold, about 0.9 false alarms per 100
    trust-years at a trust of this size (5,300 births a year); a doubling is usually found within
    9 months." Empty when the benchmark has not measured this stream and threshold.
    """
    entry = _entry(operating, method, stream, threshold)
    if entry is None or births_per_year <= 0:
        return ""
    rate = false_alarms_per_100_trust_years(float(entry["arl0_births"]), births_per_year)
    months = months_to_find(float(entry["doubling_p80_births"]), births_per_year)
    found = f"within {math.ceil(months)} month{'' if math.ceil(months) == 1 else 's'}"
    return (
        f"At this threshold, {_rate_text(rate)} per 100 trust-years at a trust of this size "
        f"({births_per_year:,.0f} births a year); a doubling is usually (4 times in 5) found {found}"
    )
