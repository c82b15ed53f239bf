"""Organisation page (trust, LMNS or region): every measure's latest value and funnel position,
then one chosen measure in depth: trend against the organisations above it, Making Data
Count SPC chart, inequalities by ethnic group and deprivation, and active signals.

Figures for an organisation outside the user's scope are suppressed aggregates, suppressed
for this reader (:meth:`matneo.measures.results.ResultCache.view`); the page says which.
The figure part of the page is built once per store version and user scope, then reused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from matneo.auth.access import Access
from matneo.measures.compute import IMD_QUINTILE_LABELS
from matneo.measures.definitions import MEASURES, Measure
from matneo.measures.disclosure import SUPPRESSION_THRESHOLD
from matneo.quality.caveat import breakdown_caveats, figure_caveats
from matneo.quality.rules import rules_from
from matneo.reference.codes import ETHNIC_GROUPS
from matneo.stats import spc
from matneo.web import charts
from matneo.web.pages import data_quality
from matneo.web.pages.funnel import FUNNEL_LEVELS, funnel_data
from matneo.web.pages.signals import SignalRow, signal_rows
from matneo.web.services import (
    BadRequest,
    Chart,
    Services,
    draw,
    figure,
    json_float,
    measure_or_error,
    trend_points,
    unit_label,
)

LEVEL_LABELS = {"trust": "NHS trust", "lmns": "Local Maternity and Neonatal System", "region": "NHS England region"}
TREND_DAYS = 5 * 365  # the organisation trend shows five years; England's page goes back to 2010
SPC_MONTHS = 60  # five years of monthly points: enough for limits, short enough to read
VARIATION_LABELS = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation: improvement (higher values)",
    "improvement_low": "Special cause variation: improvement (lower values)",
    "concern_high": "Special cause variation: concern (higher values)",
    "concern_low": "Special cause variation: concern (lower values)",
    "neutral_high": "Special cause variation: higher values (neither better nor worse)",
    "neutral_low": "Special cause variation: lower values (neither better nor worse)",
}
#: Point types as the sentence about an earlier special cause names them.
EARLIER_KINDS = {
    "special_cause_improvement": "improvement",
    "special_cause_concern": "concern",
    "special_cause_neutral_high": "higher values",
    "special_cause_neutral_low": "lower values",
}
#: Every group an inequality chart accounts for, in the order shown (the reference group first).
GROUPS = {
    "ethnic_group": ETHNIC_GROUPS,
    "imd_quintile": tuple(IMD_QUINTILE_LABELS[q] for q in (5, 4, 3, 2, 1, 0)),
}
ASSURANCE_LABELS = {
    "pass": "The process will consistently meet the target",
    "fail": "The process will consistently fail the target",
    "inconsistent": "The process will hit and miss the target",
}


@dataclass
class MeasureSummary:
    measure: str
    title: str
    unit: str
    period: str | None
    value: float | None
    lower95: float | None
    upper95: float | None
    suppressed: bool
    england_value: float | None
    position: str | None
    #: The funnel position in words, judged by the measure's direction (None without a position).
    position_label: str | None = None
    #: ``better_998`` … ``worse_998`` (:func:`matneo.web.charts.funnel_judgement`).
    judgement: str | None = None
    #: Data-quality caveats of this figure (:func:`matneo.quality.caveat.figure_caveats`): an
    #: input recorded for less than its threshold over the figure's trusts and months.
    caveats: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return charts.FUNNEL_JUDGEMENTS[self.judgement][3] if self.judgement else "nhsuk-tag--grey"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Figures:
    """The cached part of the page: depends only on the store version, the scope and the measure."""

    summaries: list[MeasureSummary]
    trend: Chart
    spc: Chart
    variation_icon: str | None
    assurance_icon: str | None
    inequalities: list[Chart]
    #: The month the SPC icons describe (the latest month with a value), e.g. "Dec 2023".
    icon_period: str | None = None
    #: Which special-cause rule marked that month, in words (None for common cause).
    icon_rule: str | None = None
    #: When that month is common cause: the latest earlier special-cause month, in words.
    earlier_special_cause: str | None = None
    #: The chosen measure's data-quality caveats over its latest 12 months (as its summary's).
    caveats: list[str] = field(default_factory=list)


@dataclass
class OrganisationPage:
    code: str
    name: str
    level: str
    level_label: str
    breadcrumbs: list[tuple[str, str]]
    children: list[tuple[str, str]]
    in_scope: bool
    measure: str
    measure_title: str
    measure_description: str
    figures: Figures
    signals: list[SignalRow]
    cache_key: tuple[str, ...]
    measure_options: list[tuple[str, str]] = field(default_factory=list)

    def csv_link(self, chart_id: str) -> str:
        return f"/organisations/{self.code}?measure={self.measure}&format=csv&chart={chart_id}"

    def figures_dict(self) -> dict[str, Any]:
        """The cached part of :meth:`to_dict` (same for every request of this key)."""
        return {
            "summaries": [s.to_dict() for s in self.figures.summaries],
            "trend": self.figures.trend.to_dict(),
            "spc": self.figures.spc.to_dict()
            | {
                "variation_icon": self.figures.variation_icon,
                "assurance_icon": self.figures.assurance_icon,
                "icon_period": self.figures.icon_period,
                "icon_rule": self.figures.icon_rule,
                "earlier_special_cause": self.figures.earlier_special_cause,
            },
            "caveats": self.figures.caveats,
            "inequalities": [c.to_dict() for c in self.figures.inequalities],
        }

    def live_dict(self) -> dict[str, Any]:
        """The part of :meth:`to_dict` that can change between requests (signals)."""
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parents": [{"code": c, "name": n} for c, n in self.breadcrumbs],
            "children": [{"code": c, "name": n} for c, n in self.children],
            "unsuppressed": self.in_scope,
            "measure": self.measure,
            "signals": [s.to_dict() for s in self.signals],
        }

    @property
    def variation_label(self) -> str | None:
        icon = self.figures.variation_icon
        return VARIATION_LABELS.get(icon) if icon else None

    @property
    def assurance_label(self) -> str | None:
        icon = self.figures.assurance_icon
        return ASSURANCE_LABELS.get(icon) if icon else None

    def charts(self) -> list[Chart]:
        return [self.figures.trend, self.figures.spc, *self.figures.inequalities]

    def to_dict(self) -> dict[str, Any]:
        return self.live_dict() | self.figures_dict()


def build(services: Services, access: Access, code: str, measure_id: str = "stillbirth_rate") -> OrganisationPage:
    org = services.organisation(code)
    if org.level not in FUNNEL_LEVELS:
        raise BadRequest("Organisation pages are for trusts, LMNS and regions; England is on the overview page.")
    measure = measure_or_error(measure_id)
    scope = None if access.sees_everything else access.scope
    key = ("organisation", access.scope_key if scope is not None else "*", code, measure.id)
    figures = services.results.memo(key, lambda: _figures(services, access, code, org.level, measure, scope))
    ancestors = [a for a in reversed(services.hierarchy.ancestors(code)) if a.level != "england"]
    return OrganisationPage(
        code=code,
        name=org.name,
        level=org.level,
        level_label=LEVEL_LABELS[org.level],
        breadcrumbs=[(a.code, a.name) for a in ancestors],
        children=[(c.code, c.name) for c in services.hierarchy.children(code)],
        in_scope=access.in_scope(code),
        measure=measure.id,
        measure_title=measure.title,
        measure_description=measure.description,
        figures=figures,
        signals=signal_rows(services, access, include_closed=False, org_code=code),
        cache_key=key,
        measure_options=[(m.id, m.title) for m in MEASURES],
    )


def warm_public_suppression(services: Services, measure_id: str = "stillbirth_rate") -> None:
    """Suppress, for a reader who knows none of the figures, the periods an organisation page shows,
    in the groups the page asks for them (the latest rolling year, the rest of the trend, the SPC
    months, the latest three years by group). Every reader's own suppression starts from these
    (``ResultCache._hidden``) and reuses their systems of sums, so a reader whose scope was not
    warmed waits for a few blocks of sums, not for every period's (issue 10)."""
    results = services.results
    measure = measure_or_error(measure_id)
    latest = _latest(services, measure, "rolling_12m", ["ENG"], 12)
    if latest is None:
        return
    results.published(measure.id, "rolling_12m", since=latest)
    results.published(measure.id, "rolling_12m", since=latest - dt.timedelta(days=TREND_DAYS - 1))
    months = results.measure_table(measure.id, "month").filter(pl.col("org_code") == "ENG")["period_start"]
    first = months.sort().tail(SPC_MONTHS).min() if months.len() else None
    if isinstance(first, dt.date):
        results.published(measure.id, "month", since=first)
    latest_3y = _latest(services, measure, "rolling_3y", ["ENG"], 36)
    for by in ("ethnic_group", "imd_quintile") if latest_3y is not None else ():
        results.published(measure.id, "rolling_3y", by=by, since=latest_3y)


def _figures(
    services: Services, access: Access, code: str, level: str, measure: Measure, scope: frozenset[str] | None
) -> Figures:
    summaries = [_summary(services, access, code, level, m, scope) for m in MEASURES]
    return Figures(
        summaries=summaries,
        trend=_trend(services, code, measure, scope),
        inequalities=[_inequality(services, code, measure, by, scope) for by in ("ethnic_group", "imd_quintile")],
        caveats=next(s.caveats for s in summaries if s.measure == measure.id),
        **_spc(services, code, measure, scope),
    )


def _caveats(
    services: Services, access: Access, code: str, measures: list[str], start: Any, end: Any
) -> dict[str, list[str]]:
    """The data-quality caveats of figures for ``code`` over ``start``–``end`` (one function everywhere);
    outside the reader's scope, none resting on fewer records than the suppression threshold."""
    trusts = [t.code for t in services.hierarchy.trusts_under(code)]
    rules = rules_from(services.settings)
    return figure_caveats(data_quality.cube(services), measures, trusts, start, end, rules, _least(access, code))


def _least(access: Access, code: str) -> int:
    """Smallest population a caveat may rest on for this reader (docs/data-quality.md, "Who sees what")."""
    return 0 if access.in_scope(code) else SUPPRESSION_THRESHOLD


def _summary(
    services: Services, access: Access, code: str, level: str, measure: Measure, scope: frozenset[str] | None
) -> MeasureSummary:
    latest = _latest(services, measure, "rolling_12m", [code, "ENG"], 12)
    rows = services.results.view(scope, measure.id, "rolling_12m", orgs=[code, "ENG"], since=latest).filter(
        pl.col("months") == 12
    )
    if rows.is_empty():
        return MeasureSummary(measure.id, measure.title, unit_label(measure), None, None, None, None, False, None, None)
    newest = rows.filter(pl.col("period_start") == rows["period_start"].max())
    own = newest.filter(pl.col("org_code") == code)
    england = newest.filter(pl.col("org_code") == "ENG")
    r = own.row(0, named=True) if own.height else None
    point = funnel_data(services, access, measure, level, "rolling_12m").point_of(code)
    return MeasureSummary(
        measure=measure.id,
        title=measure.title,
        unit=unit_label(measure),
        period=r["period"] if r else None,
        **figure(r),
        england_value=json_float(england["value"][0]) if england.height else None,
        position=point.position if point else None,
        position_label=point.position_label if point else None,
        judgement=point.judgement if point else None,
        caveats=_caveats(services, access, code, [measure.id], r["period_start"], r["period_end"])[measure.id]
        if r
        else [],
    )


def _latest(services: Services, measure: Measure, period: str, orgs: list[str], months: int) -> dt.date | None:
    """Start of the latest ``months``-month period with a row for any of ``orgs`` (from the
    unsuppressed table: suppression hides values, never rows), so that only the periods a chart
    shows are suppressed for the reader."""
    rows = services.results.measure_table(measure.id, period).filter(
        pl.col("org_code").is_in(orgs) & (pl.col("months") == months)
    )
    return rows["period_start"].max() if rows.height else None  # type: ignore[return-value]


def _trend(services: Services, code: str, measure: Measure, scope: frozenset[str] | None) -> Chart:
    comparators = [code, *[a.code for a in services.hierarchy.ancestors(code)]]
    latest = _latest(services, measure, "rolling_12m", comparators, 12)
    since = latest - dt.timedelta(days=TREND_DAYS - 1) if latest is not None else None
    rows = (
        services.results.view(scope, measure.id, "rolling_12m", orgs=comparators, since=since)
        .filter(pl.col("months") == 12)
        .sort("period_start", "level")
    )
    series = trend_points(rows)
    title = f"{measure.title}: rolling 12 months, by month, last five years"
    return Chart(
        id="trend",
        title=title,
        spec=draw(charts.trend_chart, series, unit_label=unit_label(measure), title=title, period_type="rolling_12m"),
        columns=["Period", "Organisation", f"Value ({unit_label(measure)})", "Lower 95% CI", "Upper 95% CI"],
        rows=[
            [s["period"], s["series"], "suppressed" if s["suppressed"] else s["value"], s["lower95"], s["upper95"]]
            for s in series
        ],
        notes=[
            "Each point is the rate over the 12 months up to and including that month, and is drawn at that "
            "month, so short-term noise is smoothed."
        ],
    )


def _spc(services: Services, code: str, measure: Measure, scope: frozenset[str] | None) -> dict[str, Any]:
    months = services.results.measure_table(measure.id, "month").filter(pl.col("org_code") == code)["period_start"]
    first = months.sort().tail(SPC_MONTHS).min() if months.len() else None
    since = first if isinstance(first, dt.date) else None
    rows = services.results.view(scope, measure.id, "month", orgs=[code], since=since).sort("period_start")
    rows = rows.tail(SPC_MONTHS)
    title = f"{measure.title}: monthly SPC chart (Making Data Count)"
    columns = ["Month", f"Value ({unit_label(measure)})", "Mean", "Lower process limit", "Upper process limit", "Point"]
    empty = {"variation_icon": None, "assurance_icon": None}
    if rows.height < 12:
        return empty | {"spc": Chart("spc", title, None, columns, [], "Fewer than 12 months of data: no SPC chart.")}
    numerators = rows["numerator"].to_numpy().astype(float)
    if np.isnan(numerators).mean() > 0.25:
        message = (
            "Most monthly counts for this organisation are small and suppressed outside it, "
            "so an SPC chart cannot be drawn here."
        )
        return empty | {"spc": Chart("spc", title, None, columns, [], message)}
    denominators = rows["denominator"].to_numpy().astype(float)
    m = measure.multiplier
    result = spc(
        numerators,
        np.nan_to_num(denominators, nan=0.0),
        improvement="decrease" if measure.direction == "lower_is_better" else "increase",
        target=measure.target / m if measure.target is not None else None,  # the chart is of proportions
    )
    points = []
    for r, rec in zip(rows.iter_rows(named=True), result.to_records(), strict=True):
        scaled = {k: (rec[k] * m if rec[k] is not None else None) for k in ("value", "mean", "lpl", "upl")}
        points.append(
            {"period_start": r["period_start"], "period": r["period"], **scaled}
            | {"point_type": rec["point_type"], "special_cause": rec["special_cause"], "rule": rec["rule"]}
        )
    chart = Chart(
        id="spc",
        title=title,
        spec=draw(charts.spc_chart, points, unit_label=unit_label(measure), title=title),
        columns=columns,
        rows=[
            [p["period"], p["value"], p["mean"], p["lpl"], p["upl"], charts.POINT_TYPES[p["point_type"]][0]]
            for p in points
        ],
        notes=list(result.warnings),
    )
    return {"spc": chart, "variation_icon": result.variation_icon, "assurance_icon": result.assurance_icon} | (
        _icon_words(points, result.icon_point)
    )


def _icon_words(points: list[dict[str, Any]], index: int | None) -> dict[str, str | None]:
    """Name the month the icons describe, the rule that marked it, and an earlier special cause.

    The Making Data Count icons describe the latest point only (NHSRplotthedots ``ptd_get_icons``:
    the point with the latest date), so "common cause" can sit over a chart whose earlier points
    are special cause. Saying which month the icon is for, and when the last special cause was,
    keeps the headline and the chart from reading as a contradiction.
    """
    if index is None:
        return {}
    point = points[index]
    words: dict[str, str | None] = {"icon_period": point["period"]}
    if point["special_cause"]:
        words["icon_rule"] = charts.RULE_TEXT[point["rule"]]
        return words
    earlier = next((p for p in reversed(points[:index]) if p["special_cause"] and p["value"] is not None), None)
    if earlier is not None:
        kind = EARLIER_KINDS[earlier["point_type"]]
        rule = charts.RULE_TEXT[earlier["rule"]].lower()
        words["earlier_special_cause"] = f"The most recent special cause was in {earlier['period']}: {kind}, {rule}."
    return words


def _inequality(services: Services, code: str, measure: Measure, by: str, scope: frozenset[str] | None) -> Chart:
    """Rates by group over the organisation's latest complete three years, every group accounted for.

    The period is the latest triennium with all 36 months of data for the organisation as a
    whole: a group with no births in some months still has a valid three-year rate (those
    months add nothing to it), so it is shown, not dropped. A group that cannot be shown —
    suppressed for this reader, or with no births — is listed under the chart with the reason.
    """
    label = "ethnic group" if by == "ethnic_group" else "deprivation (IMD quintile)"
    title = f"{measure.title} by {label}: latest 3 years"
    columns = ["Group", f"Value ({unit_label(measure)})", "Lower 95% CI", "Upper 95% CI", "Ratio to reference"]
    latest = _latest(services, measure, "rolling_3y", [code], 36)
    if latest is None:
        return Chart(f"inequalities-{by}", title, None, columns, [], "No complete 3-year period yet.")
    rows = services.results.view(scope, measure.id, "rolling_3y", by=by, orgs=[code], since=latest).filter(
        (pl.col("period_start") == latest) & pl.col(by).is_not_null()
    )
    found = {r[by]: r for r in rows.iter_rows(named=True)}
    groups = [*GROUPS[by], *sorted(set(found) - set(GROUPS[by]))]
    data: list[dict[str, Any]] = []
    hidden: dict[str, list[str]] = {}
    for group in groups:
        r = found.get(group)
        reason = _hidden_reason(r)
        if reason is not None:
            hidden.setdefault(reason, []).append(group)
            data.append({"group": group, "value": None, "reason": reason})
            continue
        assert r is not None  # a missing row has a reason above
        data.append(
            {
                "group": group,
                "value": json_float(r["value"]),
                "lower95": json_float(r["lower95"]),
                "upper95": json_float(r["upper95"]),
                "rate_ratio": json_float(r.get("ratio")),
                "reference_group": r.get("reference_group"),
            }
        )
    shown = [d for d in data if d["value"] is not None]
    complete = services.results.measure_table(measure.id, "rolling_3y").filter(
        (pl.col("org_code") == code) & (pl.col("period_start") == latest)
    )
    period = str(complete["period"][0])
    breakdown = breakdown_caveats(
        data_quality.cube(services),
        by,
        [t.code for t in services.hierarchy.trusts_under(code)],
        complete["period_start"][0],
        complete["period_end"][0],
        rules_from(services.settings),
        0 if scope is None or code in scope else SUPPRESSION_THRESHOLD,
    )
    return Chart(
        id=f"inequalities-{by}",
        title=f"{title} ({period})",
        spec=draw(charts.inequality_chart, shown, unit_label=unit_label(measure), title=title),
        columns=columns,
        rows=[
            [d["group"], f"not shown: {d['reason']}"] + [None] * 3
            if d["value"] is None
            else [d["group"], d["value"], d["lower95"], d["upper95"], d["rate_ratio"]]
            for d in data
        ],
        empty_message="No group can be shown.",
        notes=[f"Not shown: {', '.join(names)} ({reason})." for reason, names in hidden.items()]
        + [f"Data quality: {text}." for text in breakdown],
    )


def _hidden_reason(row: dict[str, Any] | None) -> str | None:
    """Why a group has no figure to show, in words; None when it has one."""
    if row is None:
        return "no births in these three years"
    if row["suppressed"]:
        return "hidden to protect privacy: small numbers"
    if row["value"] is None or not row["denominator"]:
        return "no births in these three years"
    return None
