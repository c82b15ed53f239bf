"""Funnel plot explorer: one measure, one level, the latest complete period, crude or case-mix
adjusted; each point links to its organisation's page.

Crude funnels compare each organisation's rate with England's rate for the same period
(limits: :func:`matneo.stats.funnel`, PHE method, 95% and 99.8%). Adjusted funnels compare
observed with expected events after indirect standardisation for case mix (trusts, calendar
years; :mod:`matneo.signals.casemix`), the ratio funnel the signals use. Organisations whose
counts are suppressed for this user are left off, and the page says how many.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import polars as pl

from matneo.auth.access import Access
from matneo.measures.compute import org_lookup
from matneo.measures.definitions import MEASURES, MEASURES_BY_ID, Measure
from matneo.measures.disclosure import SUPPRESSION_THRESHOLD
from matneo.quality import cached_cube
from matneo.quality.caveat import caveat_sums, table_caveats
from matneo.quality.rules import rules_from
from matneo.signals.casemix import STRATA_BY_MEASURE
from matneo.signals.detect import adjusted_ratios
from matneo.stats import funnel
from matneo.web import charts
from matneo.web.services import BadRequest, Chart, Services, draw, json_float, measure_or_error, unit_label

FUNNEL_LEVELS = ("trust", "lmns", "region")
FUNNEL_PERIODS = ("year", "financial_year", "rolling_12m", "rolling_3y")
FULL_MONTHS = {"year": 12, "financial_year": 12, "rolling_12m": 12, "rolling_3y": 36}
LEVEL_LABELS = {"trust": "Trusts", "lmns": "LMNS", "region": "Regions"}
PERIOD_LABELS = {
    "year": "Calendar year",
    "financial_year": "Financial year",
    "rolling_12m": "Rolling 12 months",
    "rolling_3y": "Rolling 3 years",
}


@dataclass
class FunnelPoint:
    org_code: str
    org_name: str
    numerator: float
    denominator: float
    value: float | None
    position: str
    href: str
    #: ``better_998``, ``better_95``, ``within``, ``worse_95``, ``worse_998`` or ``not_applicable``
    #: (:func:`matneo.web.charts.funnel_judgement`, from the measure's direction).
    judgement: str
    #: The judgement in words with the limit as the detail: "Worse than expected (above the 99.8% limit)".
    position_label: str
    #: Data-quality caveats of the point's figure (:func:`matneo.quality.caveat.table_caveats`):
    #: a position resting on poorly recorded inputs says so (issue 15).
    caveats: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        """The NHS.UK tag colour class for the judgement (the words carry the meaning too)."""
        return charts.FUNNEL_JUDGEMENTS[self.judgement][3]

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_code": self.org_code,
            "org_name": self.org_name,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "position": self.position,
            "judgement": self.judgement,
            "position_label": self.position_label,
            "href": self.href,
            "caveats": self.caveats,
        }


@dataclass
class FunnelData:
    measure: str
    level: str
    period_type: str
    period: str | None
    adjustment: str
    baseline: float | None
    points: list[FunnelPoint]
    hidden: int
    curve: list[dict[str, Any]] = field(default_factory=list)

    def point_of(self, org_code: str) -> FunnelPoint | None:
        return next((p for p in self.points if p.org_code == org_code), None)


@dataclass
class FunnelPage:
    title: str
    measure: str
    measure_title: str
    level: str
    period_type: str
    adjustment: str
    period: str | None
    baseline: float | None
    y_label: str
    hidden: int
    adjustable: bool
    chart: Chart
    points: list[FunnelPoint]
    options: dict[str, list[tuple[str, str]]]
    curve: list[dict[str, Any]]
    direction: str = "lower_is_better"

    @property
    def direction_text(self) -> str:
        return (
            "for this measure, higher is better"
            if self.direction == "higher_is_better"
            else ("for this measure, lower is better")
        )

    def charts(self) -> list[Chart]:
        return [self.chart]

    def csv_link(self, chart_id: str) -> str:
        query = f"measure={self.measure}&level={self.level}&period={self.period_type}&adjustment={self.adjustment}"
        return f"/funnel?{query}&format=csv&chart={chart_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "measure": self.measure,
            "level": self.level,
            "period_type": self.period_type,
            "direction": self.direction,
            "adjustment": self.adjustment,
            "period": self.period,
            "baseline": self.baseline,
            "y_label": self.y_label,
            "hidden_as_suppressed": self.hidden,
            "points": [p.to_dict() for p in self.points],
            "limits": self.curve,
        }


def _scope(access: Access) -> frozenset[str] | None:
    return None if access.sees_everything else access.scope


def _statistic(measure: Measure) -> str:
    return "proportion" if measure.unit == "percent" else "rate"


def funnel_data(
    services: Services, access: Access, measure: Measure, level: str, period_type: str, adjustment: str = "crude"
) -> FunnelData:
    """Points, limits and positions for the latest complete period, as this user may see them."""
    if level not in FUNNEL_LEVELS:
        raise BadRequest(f"level must be one of {', '.join(FUNNEL_LEVELS)}")
    if period_type not in FUNNEL_PERIODS:
        raise BadRequest(f"period must be one of {', '.join(FUNNEL_PERIODS)}")
    if adjustment not in ("crude", "adjusted"):
        raise BadRequest("adjustment must be crude or adjusted")
    latest = services.results.latest_start(measure.id, period_type, FULL_MONTHS[period_type])
    table = services.results.view(_scope(access), measure.id, period_type, since=latest).filter(
        pl.col("months") == FULL_MONTHS[period_type]
    )
    if adjustment == "adjusted" and (measure.id not in STRATA_BY_MEASURE or level != "trust" or period_type != "year"):
        raise BadRequest("Case-mix adjusted funnels are available for trusts by calendar year, for outcome measures")
    if table.is_empty():
        return FunnelData(measure.id, level, period_type, None, adjustment, None, [], 0)
    latest = cast(dt.date, table["period_start"].max())
    period_rows = table.filter(pl.col("period_start") == latest)
    england = period_rows.filter(pl.col("level") == "england")
    peers = period_rows.filter(pl.col("level") == level).sort("org_code")
    period_label = str(peers["period"][0]) if peers.height else None
    visible = peers.filter(pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null())
    hidden = peers.height - visible.height
    if visible.is_empty():
        return FunnelData(measure.id, level, period_type, period_label, adjustment, None, [], hidden)
    if adjustment == "crude":
        baseline = json_float(england["value"][0]) if england.height else None
        result = funnel(
            visible["numerator"].to_numpy().astype(float),
            visible["denominator"].to_numpy().astype(float),
            statistic=_statistic(measure),  # type: ignore[arg-type]
            multiplier=measure.multiplier,
            labels=visible["org_code"].to_list(),
            baseline=baseline,
        )
        names = dict(zip(visible["org_code"], visible["org_name"], strict=True))
    else:
        ratios = _adjusted(services, measure.id, latest.year).join(
            visible.select(pl.col("org_code").alias("trust_code"), "org_name"), on="trust_code", how="inner"
        )
        ratios = ratios.sort("trust_code")
        if ratios.is_empty():
            return FunnelData(measure.id, level, period_type, period_label, adjustment, None, [], hidden)
        result = funnel(
            ratios["observed"].to_numpy().astype(float),
            ratios["expected"].to_numpy().astype(float),
            statistic="ratio",
            labels=ratios["trust_code"].to_list(),
        )
        names = dict(zip(ratios["trust_code"], ratios["org_name"], strict=True))
    points = [
        FunnelPoint(
            org_code=r["label"],
            org_name=names[r["label"]],
            numerator=r["numerator"],
            denominator=r["denominator"],
            value=r["value"],
            position=r["position"],
            href=f"/organisations/{r['label']}?measure={measure.id}",
            judgement=charts.funnel_judgement(r["position"], measure.direction),
            position_label=charts.funnel_position_text(r["position"], measure.direction),
        )
        for r in result.to_records()
    ]
    caveats = _caveats(services, access, measure.id, level, period_type, latest)
    for point in points:
        point.caveats = caveats.get(point.org_code, [])
    curve = [
        {
            "denominator": c["denominator"],
            "centre": c["baseline"],
            "lower95": c["lower_95"],
            "upper95": c["upper_95"],
            "lower998": c["lower_998"],
            "upper998": c["upper_998"],
        }
        for c in result.curve(60).to_records()
        if np.isfinite(c["lower_998"]) and np.isfinite(c["upper_998"])
    ]
    return FunnelData(
        measure.id, level, period_type, period_label, adjustment, json_float(result.baseline), points, hidden, curve
    )


def _caveats(
    services: Services, access: Access, measure_id: str, level: str, period_type: str, start: dt.date
) -> dict[str, list[str]]:
    """Each organisation's data-quality caveats for the funnel's period (the one caveat function;
    outside the reader's scope none resting on fewer records than the suppression threshold)."""

    def build() -> dict[str, list[str]]:
        cube = cached_cube(services.settings, services.results)
        lookup = org_lookup(services.hierarchy, level)
        # The counts for every measure at once, kept: an organisation page asks for the funnel
        # of each of its 19 measures, and summing the quality cube once per measure was most of
        # a first view (1.3 s of a region's page, issue 10).
        sums = services.results.memo(
            ("funnel-caveat-sums", level, period_type, start),
            lambda: caveat_sums(cube, lookup, period_type, [start], [m.id for m in MEASURES]),
        )
        table = table_caveats(
            cube,
            measure_id,
            lookup,
            period_type,
            rules_from(services.settings),
            lambda code: 0 if access.in_scope(code) else SUPPRESSION_THRESHOLD,
            starts=[start],
            sums=sums,
        )
        return {code: list(words) for code, words in table.select("org_code", "caveats").iter_rows() if words}

    # The caveats differ between readers only in which of the funnel's organisations are theirs:
    # every trust user reading an LMNS funnel shares one entry (issue 10: a reader's first view).
    own = frozenset(org.code for org in services.hierarchy.at_level(level) if access.in_scope(org.code))
    key = ("funnel-caveats", own, measure_id, level, period_type, start)
    return services.results.memo(key, build)


def _adjusted(services: Services, measure_id: str, year: int) -> pl.DataFrame:
    """Observed and expected events per trust in ``year`` (indirect standardisation, cached)."""
    table = adjusted_table(services)
    return table.filter((pl.col("measure") == measure_id) & (pl.col("year") == year))


def adjusted_table(services: Services) -> pl.DataFrame:
    """Observed and expected events per trust and year for every case-mix adjusted measure: one scan
    of the records per store version, warmed after each load (:meth:`Services.warm`), because the
    first adjusted funnel otherwise waits for it (10–25 s on ten national years, issue 10)."""

    def build() -> pl.DataFrame:
        return adjusted_ratios(services.results.partition_files(), list(STRATA_BY_MEASURE))

    return services.results.memo(("adjusted",), build)  # type: ignore[no-any-return]


def build(
    services: Services,
    access: Access,
    measure_id: str = "stillbirth_rate",
    level: str = "trust",
    period_type: str = "rolling_12m",
    adjustment: str = "crude",
    highlight: str | None = None,
) -> FunnelPage:
    measure = measure_or_error(measure_id)
    scope_key = "*" if access.sees_everything else access.scope_key
    if highlight not in services.hierarchy.organisations:
        # Only an organisation can be ringed; anything else would just be another cache entry.
        highlight = None
    key = ("funnel", scope_key, measure.id, level, period_type, adjustment, highlight)
    return services.results.memo(
        key, lambda: _page(services, access, measure, level, period_type, adjustment, highlight)
    )


def _page(
    services: Services,
    access: Access,
    measure: Measure,
    level: str,
    period_type: str,
    adjustment: str,
    highlight: str | None,
) -> FunnelPage:
    data = funnel_data(services, access, measure, level, period_type, adjustment)
    adjusted = adjustment == "adjusted"
    y_label = "Observed / expected (1 = as expected)" if adjusted else f"{measure.title} ({unit_label(measure)})"
    x_label = "Expected events" if adjusted else "Denominator"
    title = f"{measure.title}: {LEVEL_LABELS[level].lower()}, {data.period or PERIOD_LABELS[period_type].lower()}"
    spec = draw(
        charts.funnel_chart,
        [p.to_dict() for p in data.points],
        data.curve,
        unit_label="O/E" if adjusted else unit_label(measure),
        title=title,
        direction=measure.direction,
        highlight=highlight,
        denominator_label=x_label,
    )
    chart = Chart(
        id="funnel",
        title=title,
        spec=spec,
        columns=[
            "Code",
            "Organisation",
            "Numerator" if not adjusted else "Observed",
            x_label,
            y_label,
            "Compared with expected",
        ],
        rows=[[p.org_code, p.org_name, p.numerator, p.denominator, p.value, p.position_label] for p in data.points],
        notes=[f"{data.hidden} organisations are not shown because their counts are suppressed (small numbers)."]
        if data.hidden
        else [],
    )
    options = {
        "measure": [(m.id, m.title) for m in MEASURES_BY_ID.values()],
        "level": [(k, v) for k, v in LEVEL_LABELS.items()],
        "period": [(k, v) for k, v in PERIOD_LABELS.items()],
        "adjustment": [("crude", "Crude (not adjusted)"), ("adjusted", "Case-mix adjusted (trusts, calendar year)")],
    }
    return FunnelPage(
        title="Funnel plot explorer",
        measure=measure.id,
        measure_title=measure.title,
        level=level,
        period_type=period_type,
        adjustment=adjustment,
        period=data.period,
        baseline=data.baseline,
        y_label=y_label,
        hidden=data.hidden,
        adjustable=measure.id in STRATA_BY_MEASURE,
        chart=chart,
        points=data.points,
        options=options,
        curve=data.curve,
        direction=measure.direction,
    )
