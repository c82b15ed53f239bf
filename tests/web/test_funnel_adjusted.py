"""The funnel page's case-mix adjusted view is the signals' adjusted funnel: one computation.

``matneo.signals.detect.adjusted_ratios`` gives each trust-year's observed and expected events;
the page plots exactly those for the latest complete year, and every trust-year the funnel
signals flag is above the same limit on the page (issue 11: no funnel building in the web layer).
"""

from __future__ import annotations

import polars as pl

from matneo.records.store import RecordStore
from matneo.signals.detect import SignalSettings, adjusted_ratios, funnel_signals

from .conftest import WebInstance


def test_the_adjusted_funnel_page_plots_the_signals_ratios(web: WebInstance) -> None:
    files = RecordStore(web.settings.records_dir).partition_files()
    response = web.client("national").get(
        "/api/v1/funnel",
        params={"measure": "stillbirth_rate", "level": "trust", "period": "year", "adjustment": "adjusted"},
    )
    assert response.status_code == 200, response.text
    page = response.json()
    year = int(page["period"][:4]) if page["period"][:4].isdigit() else int(page["period"][-4:])
    ratios = adjusted_ratios(files, ["stillbirth_rate"]).filter(pl.col("year") == year)
    expected = {r["trust_code"]: (r["observed"], round(r["expected"], 6)) for r in ratios.iter_rows(named=True)}
    plotted = {p["org_code"]: (p["numerator"], round(p["denominator"], 6)) for p in page["points"]}
    assert plotted and plotted == expected
    flagged = funnel_signals(files, SignalSettings(measures=("stillbirth_rate",)))
    flagged_codes = set(flagged.filter(pl.col("signal_date").dt.year() == year)["trust_code"])
    above = {p["org_code"] for p in page["points"] if p["position"] == "above_998"}
    assert flagged_codes == above
