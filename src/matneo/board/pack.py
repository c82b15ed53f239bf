"""The monthly board pack: what a trust (or LMNS) board needs to see about maternity safety.

Why one built object: the same :class:`BoardPack` is rendered as an accessible HTML page,
printed to PDF from that page and archived with a hash (:mod:`matneo.board.archive`), and gives
its JSON (:meth:`BoardPack.to_dict`), so what the board saw and what the archive holds cannot differ.

What is in it, and why: a review of seven trusts' board papers found packs inconsistent, large,
missing key national metrics and with too little analysis to show deterioration (Sands and
Tommy's Joint Policy Unit, *Better board oversight needed to save babies' lives*,
https://www.sands.org.uk/cy/node/4067); NHS England's perinatal quality surveillance model
(*Implementing a revised perinatal quality surveillance model*, Dec 2020,
https://www.england.nhs.uk/publication/implementing-a-revised-perinatal-quality-surveillance-model/)
asks boards to see a minimum perinatal data set monthly — its exact content needs local
confirmation, so ``docs/board-pack.md`` lists what the pack shows and why:

* an executive summary on page one: every measure whose latest month is special-cause concern
  or whose 12-month value is significantly worse than England, active signals, overdue
  notifications;
* each National Maternity Safety Ambition and MatNeoSIP measure: the 12 months to the pack's
  month against England, and its Making Data Count SPC chart of monthly values up to that month
  with its variation and assurance icons, a one-line reading and the data table;
* active signals for the organisation's trusts and what was done about them;
* harm reports submitted in the month by route, MNSI referrals and overdue notifications.

Figures are the reader's view (:meth:`matneo.measures.results.ResultCache.view`): a trust's own
pack is unsuppressed; anything outside the reader's scope is suppressed as everywhere else.
Pure apart from the reads it is given: no clock (``generated_at`` is passed in), no writes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

from matneo.dates import add_months, day_text, month_text
from matneo.db.models import HarmCase, HarmRoute
from matneo.db.session import transaction
from matneo.harm.rules import ROUTE_TITLES
from matneo.measures.definitions import MEASURES, Measure
from matneo.measures.results import ResultCache
from matneo.quality.caveat import figure_caveats
from matneo.quality.rules import QualityRules
from matneo.reference.organisations import OrgHierarchy
from matneo.stats import spc

__all__ = ["SPC_MONTHS", "BoardPack", "HarmSummary", "MeasureFigure", "build_pack", "reading"]

#: Months of monthly points on each SPC chart: enough for stable limits, short enough to read.
SPC_MONTHS = 36
#: Making Data Count words for the variation icon (NHS England, Making Data Count, 2019).
VARIATION_WORDS = {
    "common_cause": "common cause variation",
    "improvement_high": "special cause improvement",
    "improvement_low": "special cause improvement",
    "concern_high": "special cause concern",
    "concern_low": "special cause concern",
    "neutral_high": "special cause variation (higher, neither better nor worse)",
    "neutral_low": "special cause variation (lower, neither better nor worse)",
}
ASSURANCE_WORDS = {
    "pass": "will consistently meet the target",
    "fail": "will consistently fail the target",
    "inconsistent": "will hit and miss the target",
}
#: The measure groups a pack shows: the National Maternity Safety Ambition and MatNeoSIP.
PACK_GROUPS = ("ambition", "matneosip")
UNIT_WORDS = {"per_1000": "per 1,000", "per_100000": "per 100,000", "percent": "%"}


@dataclass(frozen=True)
class SpcPoint:
    month: dt.date
    value: float | None
    mean: float | None
    lpl: float | None
    upl: float | None
    point_type: str


@dataclass(frozen=True)
class MeasureFigure:
    """One measure in the pack: the 12 months to the pack's month, and the monthly SPC chart."""

    measure_id: str
    title: str
    group: str
    unit: str
    direction: str
    period: str | None
    value: float | None
    lower95: float | None
    upper95: float | None
    numerator: int | None
    denominator: int | None
    suppressed: bool
    england_value: float | None
    comparison: str | None  # "higher than England" | "lower than England" | "similar to England"
    variation_icon: str | None
    assurance_icon: str | None
    concern_since: dt.date | None
    spc: list[SpcPoint]
    spc_note: str | None
    reading: str
    source: str
    #: Data-quality caveats of the 12-month figure (:func:`matneo.quality.caveat.figure_caveats`).
    caveats: list[str] = field(default_factory=list)

    @property
    def concern(self) -> bool:
        """Special-cause concern in the latest month, or significantly worse than England."""
        worse = "higher" if self.direction == "lower_is_better" else "lower"
        return bool(
            (self.variation_icon or "").startswith("concern")
            or (self.comparison is not None and self.comparison.startswith(worse))
        )


@dataclass(frozen=True)
class HarmSummary:
    """Harm reports submitted in the month, by route, and the notifications overdue at the month's end."""

    submitted: int
    by_route: list[tuple[str, int]]
    mnsi_referrals: int
    overdue: list[tuple[str, int, dt.date]]  # (route title, report number, was due)


@dataclass(frozen=True)
class SignalLine:
    trust_name: str
    measure_title: str
    method: str
    since: dt.date
    summary: str
    acknowledged: str | None
    #: Data-quality caveats: the measure's inputs at the trust over the 12 months to its latest signal.
    caveats: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AssuranceLine:
    """One framework's requirements across the organisation's trusts, by RAG, and those that are red."""

    framework: str
    counts: dict[str, int]  # green / amber / red / grey
    red: list[tuple[str, str, str, dt.date | None]]  # (trust name, section, title, due)


@dataclass(frozen=True)
class ReviewsSummary:
    """Perinatal mortality reviews at the month's end (counts only, no patient details): deaths waiting for a
    review, open reviews and those overdue by stage, the grades of care by area, and the review actions."""

    waiting: int
    open: int
    overdue_by_stage: list[tuple[str, int]]  # (stage label, open reviews past that stage's deadline)
    grades: list[tuple[str, list[int]]]  # (area of care, counts of grades A, B, C, D)
    grade_letters: list[str]
    actions_open: int
    actions_overdue: int
    actions_done: int


@dataclass(frozen=True)
class VoiceEntry:
    """One family or staff survey figure in the pack (aggregate; never a safety culture survey)."""

    trust: str
    survey: str
    measure: str
    period: str  # in words: "Oct 2026", "2025"
    value: str
    before: str
    worst_recently: bool


@dataclass(frozen=True)
class ThemeEntry:
    """One theme of a trust's latest Maternity and Neonatal Voices Partnership report in the pack."""

    trust: str
    period: str  # in words: "Jul–Sep 2026"
    theme: str
    mentions: int
    before: str  # mentions in the report before, or "–"
    sentiment: str
    heard: str | None
    did: str | None
    rising_concern: bool


@dataclass
class BoardPack:
    org_code: str
    org_name: str
    level: str
    month: dt.date  # first day of the pack's month
    generated_at: dt.datetime  # UTC
    store_version: int | None
    measures: list[MeasureFigure]
    harm: HarmSummary
    signals: list[SignalLine]
    assurance: list[AssuranceLine] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    reviews: ReviewsSummary | None = None
    voice: list[VoiceEntry] = field(default_factory=list)
    themes: list[ThemeEntry] = field(default_factory=list)

    @property
    def month_label(self) -> str:
        return month_text(self.month)

    @property
    def month_end(self) -> dt.date:
        return _month_end(self.month)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text (the archive and the API store exactly this)."""
        return json.loads(json.dumps(asdict(self), default=_iso))


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _month_end(month: dt.date) -> dt.date:
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _number(value: float | None, measure: Measure) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}%" if measure.unit == "percent" else f"{value:.2f} {UNIT_WORDS[measure.unit]}"


def reading(figure: MeasureFigure, measure: Measure) -> str:
    """One plain-English line a board member can read aloud.

    e.g. "Stillbirth rate: 4.12 per 1,000 in the 12 months to Oct 2026, higher than England (3.31);
    special cause concern since Mar 2026." Built only from the figure's own fields, so the words
    can never disagree with the numbers beside them.
    """
    if figure.suppressed:
        first = f"{figure.title}: suppressed for {figure.period} (too few to show outside the trust)"
    elif figure.value is None:
        first = f"{figure.title}: no figure for this period"
    else:
        first = f"{figure.title}: {_number(figure.value, measure)} in the {figure.period}"
        if figure.comparison and figure.england_value is not None:
            first += f", {figure.comparison} ({_number(figure.england_value, measure)})"
    parts = [first]
    if figure.variation_icon:
        words = VARIATION_WORDS[figure.variation_icon]
        if figure.concern_since is not None and figure.variation_icon.startswith("concern"):
            words += f" since {month_text(figure.concern_since)}"
        parts.append(words)
    if figure.assurance_icon:
        parts.append(f"the process {ASSURANCE_WORDS[figure.assurance_icon]}")
    return "; ".join(parts) + "."


def _comparison(value: float | None, low: float | None, high: float | None, england: float | None) -> str | None:
    """Higher or lower than England only when England lies outside the 95% interval (else similar)."""
    if value is None or low is None or high is None or england is None:
        return None
    if low > england:
        return "higher than England"
    if high < england:
        return "lower than England"
    return "similar to England"


def _concern_since(points: list[SpcPoint]) -> dt.date | None:
    """The first month of the unbroken run of special-cause concern that ends at the latest point."""
    since = None
    for point in reversed(points):
        if point.value is None:
            continue
        if point.point_type != "special_cause_concern":
            break
        since = point.month
    return since


def _measure_figure(
    results: ResultCache,
    scope: Collection[str] | None,
    code: str,
    month: dt.date,
    measure: Measure,
    caveats: list[str] | None = None,
) -> MeasureFigure:
    end = _month_end(month)
    # only the periods the pack shows are suppressed for this reader (the window ending this month)
    rolling = results.view(scope, measure.id, "rolling_12m", orgs=[code, "ENG"], since=add_months(month, -11)).filter(
        (pl.col("months") == 12) & (pl.col("period_end") == end)
    )
    own = rolling.filter(pl.col("org_code") == code)
    england = rolling.filter(pl.col("org_code") == "ENG")
    row = own.row(0, named=True) if own.height else None
    m = measure.multiplier
    value = _float(row["value"]) if row else None
    low, high = (_float(row["lower95"]), _float(row["upper95"])) if row else (None, None)
    england_value = _float(england["value"][0]) if england.height else None
    suppressed = bool(row and row.get("suppressed"))

    monthly = (
        results.view(scope, measure.id, "month", orgs=[code], since=add_months(month, 1 - SPC_MONTHS))
        .filter(pl.col("period_start") <= month)
        .sort("period_start")
        .tail(SPC_MONTHS)
    )
    points: list[SpcPoint] = []
    variation = assurance = note = None
    numerators = monthly["numerator"].to_numpy().astype(float) if monthly.height else np.array([])
    if monthly.height < 12:
        note = "Fewer than 12 months of data: no SPC chart."
    elif np.isnan(numerators).mean() > 0.25:
        note = "Most monthly counts are suppressed for this reader: no SPC chart."
    else:
        result = spc(
            numerators,
            np.nan_to_num(monthly["denominator"].to_numpy().astype(float), nan=0.0),
            improvement="decrease" if measure.direction == "lower_is_better" else "increase",
            target=measure.target / m if measure.target is not None else None,
        )
        for start, rec in zip(monthly["period_start"].to_list(), result.to_records(), strict=True):
            points.append(
                SpcPoint(
                    month=start,
                    **{k: (rec[k] * m if rec[k] is not None else None) for k in ("value", "mean", "lpl", "upl")},
                    point_type=rec["point_type"],
                )
            )
        variation, assurance = result.variation_icon, result.assurance_icon
        note = "; ".join(result.warnings) or None
    figure = MeasureFigure(
        measure_id=measure.id,
        title=measure.title,
        group=measure.group,
        unit=UNIT_WORDS[measure.unit],
        direction=measure.direction,
        period=row["period"] if row else None,
        value=value,
        lower95=low,
        upper95=high,
        numerator=None if row is None or row["numerator"] is None else int(row["numerator"]),
        denominator=None if row is None or row["denominator"] is None else int(row["denominator"]),
        suppressed=suppressed,
        england_value=england_value,
        comparison=None if suppressed else _comparison(value, low, high, england_value),
        variation_icon=variation,
        assurance_icon=assurance,
        concern_since=_concern_since(points),
        spc=points,
        spc_note=note,
        reading="",
        source="MatNeo birth records; definitions in the MatNeo measures reference",
        caveats=list(caveats or []) if row else [],
    )
    return MeasureFigure(**{**figure.__dict__, "reading": reading(figure, measure)})


def _harm(url: str, trusts: Collection[str], month: dt.date) -> HarmSummary:
    """Reports submitted in the month by route; notifications still due at the month's end and past due."""
    start = dt.datetime.combine(month, dt.time())
    end = dt.datetime.combine(_month_end(month) + dt.timedelta(days=1), dt.time())
    with transaction(url) as session:
        cases = session.scalars(
            select(HarmCase.id).where(
                HarmCase.trust_code.in_(list(trusts)),
                HarmCase.status == "submitted",
                HarmCase.submitted_at >= start,
                HarmCase.submitted_at < end,
            )
        ).all()
        routes = session.execute(select(HarmRoute.route_id).where(HarmRoute.report_id.in_(cases))).scalars().all()
        overdue_rows = session.execute(
            select(HarmRoute.route_id, HarmRoute.report_id, HarmRoute.next_due)
            .join(HarmCase, HarmCase.id == HarmRoute.report_id)
            .where(
                HarmCase.trust_code.in_(list(trusts)),
                HarmRoute.status == "due",
                HarmRoute.next_due.is_not(None),
                HarmRoute.next_due < _month_end(month) + dt.timedelta(days=1),
            )
            .order_by(HarmRoute.next_due)
        ).all()
    counts = Counter(routes)
    return HarmSummary(
        submitted=len(cases),
        by_route=[(ROUTE_TITLES.get(r, r), n) for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
        mnsi_referrals=counts.get("MNSI", 0),
        overdue=[
            (ROUTE_TITLES.get(r, r), report, due)
            for r, report, due in overdue_rows
            if due is not None and due <= _month_end(month)
        ],
    )


def _assurance(url: str, hierarchy: OrgHierarchy, trusts: list[str], month: dt.date) -> list[AssuranceLine]:
    """Each framework's RAG counts (statuses as recorded now, due dates judged at the month's end) and the reds."""
    from matneo.assurance.catalogue import catalogue
    from matneo.assurance.tracker import statuses

    known = catalogue(url, trusts)  # the packaged frameworks and the trusts' and LMNS's own requirements
    views = statuses(url, trusts, _month_end(month), known)
    lines = []
    for fw in known.frameworks:
        counts = {"green": 0, "amber": 0, "red": 0, "grey": 0}
        red = []
        for trust in trusts:
            for item in fw.items:
                if not known.applies(trust, item):
                    continue
                view = views[(trust, item.key)]
                counts[view.rag] += 1
                if view.rag == "red":
                    red.append((hierarchy.get(trust).name, item.section, item.title, view.due))
        lines.append(AssuranceLine(fw.short, counts, red))
    return lines


def _summary(
    pack_measures: list[MeasureFigure],
    harm: HarmSummary,
    signals: list[SignalLine],
    month_label: str,
    assurance: list[AssuranceLine],
    reviews: ReviewsSummary | None = None,
) -> list[str]:
    lines = [f.reading for f in pack_measures if f.concern]
    poor = [f.title for f in pack_measures if f.caveats]
    if poor:
        lines.append(f"Treat with caution, the data behind them is incomplete: {', '.join(poor)} (see each measure).")
    if not lines:
        lines.append("No measure shows special cause concern or is significantly worse than England this month.")
    if signals:
        lines.append(f"{len(signals)} active signal{'s' if len(signals) != 1 else ''} (see Signals).")
    if harm.overdue:
        oldest = harm.overdue[0][2]
        lines.append(
            f"{len(harm.overdue)} notification{'s' if len(harm.overdue) != 1 else ''} overdue, "
            f"the oldest due {day_text(oldest)}."
        )
    if reviews is not None and (reviews.waiting or reviews.overdue_by_stage):
        late = sum(n for _, n in reviews.overdue_by_stage)
        lines.append(
            f"Perinatal mortality reviews: {reviews.waiting} death{'s' if reviews.waiting != 1 else ''} waiting for "
            f"a review; {late} review stage{'s' if late != 1 else ''} past {'their' if late != 1 else 'its'} deadline."
        )
    red = sum(a.counts["red"] for a in assurance)
    if red:
        lines.append(f"{red} assurance requirement{'s are' if red != 1 else ' is'} red: not met or overdue.")
    lines.append(
        f"{harm.submitted} harm report{'s' if harm.submitted != 1 else ''} submitted in {month_label}"
        + (f", {harm.mnsi_referrals} referred to MNSI." if harm.mnsi_referrals else ".")
    )
    return lines


def _voice(
    url: str, hierarchy: OrgHierarchy, trusts: list[str], month: dt.date, layouts_file: Path | None
) -> list[VoiceEntry]:
    """The trusts' latest survey figures known at the month's end. Safety culture surveys are
    never in a pack: their providers keep results to the team, not for performance oversight."""
    from matneo.assurance.voice import latest, layouts, period_words

    found = latest(url, trusts, layouts(layouts_file), above_trust=True, as_of=_month_end(month))
    return [
        VoiceEntry(hierarchy.get(trust).name, line.layout.title, line.measure.title, period_words(line.period),
                   line.value_text, line.previous_text, line.worst_recently)
        for trust in trusts
        for line in found[trust]
    ]  # fmt: skip


def _themes(
    url: str, hierarchy: OrgHierarchy, trusts: list[str], month: dt.date, layouts_file: Path | None
) -> list[ThemeEntry]:
    """The trusts' latest MNVP feedback themes known at the month's end, most mentioned first."""
    from matneo.assurance.voice import latest_themes, theme_layouts

    found = latest_themes(url, trusts, theme_layouts(layouts_file), above_trust=True, as_of=_month_end(month))
    return [
        ThemeEntry(hierarchy.get(trust).name, report.period_text, line.theme, line.mentions,
                   "–" if line.before is None else str(line.before), line.sentiment_label, line.heard, line.did,
                   line.rising_concern)
        for trust in trusts
        for report in found[trust]
        for line in report.themes
    ]  # fmt: skip


def build_pack(
    results: ResultCache,
    hierarchy: OrgHierarchy,
    url: str,
    code: str,
    month: dt.date,
    *,
    scope: Collection[str] | None,
    signals: list[SignalLine],
    generated_at: dt.datetime,
    reviews: ReviewsSummary | None = None,
    voice_layouts: Path | None = None,
    quality: pl.DataFrame | None = None,
    rules: QualityRules | None = None,
) -> BoardPack:
    """The board pack of organisation ``code`` for ``month`` as a reader with ``scope`` sees it.

    ``signals``: the active signals for the organisation's trusts (read by the caller from the
    register); ``reviews``: the reviews summary (:func:`matneo.reviews.board.pack_reviews`, which needs
    the birth records for the deaths waiting); ``quality``: the quality cube (:mod:`matneo.quality.cube`);
    with it, each figure carries the data-quality caveats of its 12 months (``rules``: the instance's
    thresholds). Raises KeyError for an unknown organisation and ValueError for England (the national
    picture is the overview) or a month with no data.
    """
    org = hierarchy.get(code)
    if org.level == "england":
        raise ValueError("Board packs are for a trust, LMNS or region; England's figures are on the overview.")
    month = month.replace(day=1)
    trusts = [t.code for t in hierarchy.trusts_under(code)]
    shown = [m for m in MEASURES if m.group in PACK_GROUPS]
    caveats = (
        figure_caveats(quality, [m.id for m in shown], trusts, add_months(month, -11), month, rules or QualityRules())
        if quality is not None
        else {}
    )
    measures = [_measure_figure(results, scope, code, month, m, caveats.get(m.id)) for m in shown]
    if all(f.value is None and not f.suppressed and not f.spc for f in measures):
        raise ValueError(f"There are no figures for {org.name} up to {month_text(month)}.")
    harm = _harm(url, trusts, month)
    assurance = _assurance(url, hierarchy, trusts, month)
    return BoardPack(
        org_code=code,
        org_name=org.name,
        level=org.level,
        month=month,
        generated_at=generated_at,
        store_version=results.version(),
        measures=measures,
        harm=harm,
        signals=signals,
        assurance=assurance,
        summary=_summary(measures, harm, signals, month_text(month), assurance, reviews),
        reviews=reviews,
        voice=_voice(url, hierarchy, trusts, month, voice_layouts),
        themes=_themes(url, hierarchy, trusts, month, voice_layouts),
    )
