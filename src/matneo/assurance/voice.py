"""Family and staff voice: survey results as aggregate figures per trust and period.

Boards and LMNS are asked to hear families and staff beside the outcome figures (the Perinatal
Quality Surveillance Model's triangulation: NHS England, *Implementing a revised perinatal
quality surveillance model*, December 2020,
https://www.england.nhs.uk/publication/implementing-a-revised-perinatal-quality-surveillance-model/).
MatNeo takes what the surveys publish — Friends and Family Test, CQC maternity survey, NHS Staff
Survey, a safety culture survey — as one figure per trust, period and measure from a CSV whose
layout is documented and configurable (``data/voice_layouts.json``; the publishers' own file
layouts could not be confirmed here, so column names are settings: needs local confirmation).

Maternity and Neonatal Voices Partnership feedback comes as themes, not scores (what families
raised, how often, how they felt, what was done): :func:`import_themes` and :func:`latest_themes`,
with their own configurable layout (the "themes" section of the same file).

Only aggregates are stored: there is no column for a person's answer. Safety culture results
stay with the trust: the SCORE survey's providers say its results are for the team and are
not for benchmarking or performance management, so a source with ``shown_above_trust`` false is
never shown to the LMNS or region, nor read by the triangulation they see.

A concern (for :mod:`matneo.triangulation.sources`) uses no threshold: a measure is a concern when
its latest value is the worst of the trust's own recent periods (the last 12 months for a
monthly source with at least 6 of them present; for a yearly one, worse than the year before).
That rule is MatNeo's starting point and needs local confirmation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select

from matneo.auth.users import audit
from matneo.db.models import VoiceFigure, utcnow
from matneo.db.session import transaction

__all__ = [
    "ImportResult",
    "Layout",
    "Measure",
    "ThemeLayout",
    "ThemeLine",
    "ThemeSet",
    "VoiceLine",
    "concern_lines",
    "import_csv",
    "import_themes",
    "latest",
    "latest_themes",
    "layouts",
    "period_words",
    "theme_concern_lines",
    "theme_layouts",
]

MAX_PROBLEMS_SHOWN = 20
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
YEAR = re.compile(r"^\d{4}$")
COLUMN_KEYS = ("org_code", "period", "measure", "value", "responses")


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    unit: str  # percent | score
    higher_is_better: bool


@dataclass(frozen=True)
class Layout:
    id: str
    title: str
    frequency: str  # month | year
    publisher: str
    shown_above_trust: bool
    columns: Mapping[str, str]
    measures: Mapping[str, Measure]
    needs_local_confirmation: bool

    @property
    def period_example(self) -> str:
        return "2026-03" if self.frequency == "month" else "2026"


@cache
def _load(text: str) -> tuple[Layout, ...]:
    found = []
    for key, raw in json.loads(text)["sources"].items():
        columns = dict(raw["columns"])
        if set(columns) != set(COLUMN_KEYS) or raw["frequency"] not in ("month", "year"):
            names = ", ".join(COLUMN_KEYS)
            raise ValueError(f"voice layout {key!r}: columns must name {names}; frequency month or year")
        measures = {
            m: Measure(m, v["title"], v["unit"], bool(v["higher_is_better"])) for m, v in raw["measures"].items()
        }
        found.append(Layout(key, raw["title"], raw["frequency"], raw["publisher"], bool(raw["shown_above_trust"]),
                            columns, measures, bool(raw.get("needs_local_confirmation", True))))  # fmt: skip
    return tuple(found)


def layouts(path: Path | None = None) -> dict[str, Layout]:
    """The layouts from ``path`` (``Settings.voice_layouts``) or the packaged ones; checked."""
    text = (
        path.read_text("utf-8")
        if path
        else resources.files("matneo.assurance").joinpath("data/voice_layouts.json").read_text("utf-8")
    )
    return {layout.id: layout for layout in _load(text)}


def period_words(period: str) -> str:
    """ "2026-03" as "Mar 2026"; a year as itself."""
    if MONTH.match(period):
        return dt.date(int(period[:4]), int(period[5:]), 1).strftime("%b %Y")
    return period


@dataclass
class ImportResult:
    source: str
    rows_read: int = 0
    rows_stored: int = 0
    trusts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "Row 4: ..." (the first MAX_PROBLEMS_SHOWN)
    problem_count: int = 0


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def import_csv(
    url: str,
    layout: Layout,
    data: bytes,
    *,
    allowed_trusts: Collection[str],
    actor: str,
) -> ImportResult:
    """Store the file's figures for ``allowed_trusts`` (a later import of the same trust, period
    and measure replaces the figure); rows that cannot be stored are listed, not guessed at.

    Everything stored is written with its audit event in one transaction. ValueError when the
    file is not UTF-8 CSV or lacks a column the layout names.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text: save it as CSV (UTF-8).") from None
    reader = csv.DictReader(io.StringIO(text))
    headings = [h.strip() for h in reader.fieldnames or []]
    missing = [c for k, c in layout.columns.items() if k != "responses" and c not in headings]
    if missing:
        raise ValueError(f"The file has no column {', '.join(missing)} (the {layout.title} layout).")
    result = ImportResult(layout.id)
    pattern = MONTH if layout.frequency == "month" else YEAR
    cols = layout.columns
    good: dict[tuple[str, str, str], tuple[float, int | None]] = {}
    for number, raw in enumerate(reader, start=2):
        result.rows_read += 1
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        org, period, measure = row.get(cols["org_code"], ""), row.get(cols["period"], ""), row.get(cols["measure"], "")
        value = _number(row.get(cols["value"], ""))
        responses_text = row.get(cols["responses"], "")
        problem = None
        if org not in allowed_trusts:
            problem = f"{org or 'no organisation'} is not a trust you can import figures for"
        elif not pattern.match(period):
            problem = f"the period must look like {layout.period_example}"
        elif measure not in layout.measures:
            problem = f"{measure or 'no measure'} is not a measure of the {layout.title} layout"
        elif value is None or value < 0 or (layout.measures[measure].unit == "percent" and value > 100):
            problem = "the value must be a number (a percentage between 0 and 100)"
        elif responses_text and not responses_text.isdigit():
            problem = "responses must be a whole number"
        if problem:
            result.problem_count += 1
            if len(result.problems) < MAX_PROBLEMS_SHOWN:
                result.problems.append(f"Row {number}: {problem}.")
            continue
        assert value is not None
        good[(org, period, measure)] = (value, int(responses_text) if responses_text else None)
    now = utcnow()
    with transaction(url) as session:
        trusts = sorted({k[0] for k in good})
        existing = {
            (r.trust_code, r.period, r.measure): r
            for r in session.scalars(
                select(VoiceFigure).where(VoiceFigure.source == layout.id, VoiceFigure.trust_code.in_(trusts))
            )
        }
        for (org, period, measure), (value, responses) in good.items():
            figure = existing.get((org, period, measure))
            if figure is None:
                figure = VoiceFigure(trust_code=org, source=layout.id, period=period, measure=measure)
                session.add(figure)
            figure.value, figure.responses, figure.imported_by, figure.imported_at = value, responses, actor, now
        result.rows_stored, result.trusts = len(good), trusts
        audit(session, actor, "voice.imported", "voice", layout.id, trusts=trusts, rows_loaded=len(good),
              rows_rejected=result.problem_count)  # fmt: skip
    return result


@dataclass(frozen=True)
class VoiceLine:
    layout: Layout
    measure: Measure
    period: str
    value: float
    responses: int | None
    previous_period: str | None
    previous_value: float | None
    worst_recently: bool  # the concern rule (module docstring)

    @property
    def value_text(self) -> str:
        return f"{self.value:.1f}%" if self.measure.unit == "percent" else f"{self.value:.1f}"

    @property
    def previous_text(self) -> str:
        if self.previous_value is None or self.previous_period is None:
            return "–"
        shown = f"{self.previous_value:.1f}%" if self.measure.unit == "percent" else f"{self.previous_value:.1f}"
        return f"{shown} ({period_words(self.previous_period)})"


def _window(layout: Layout) -> tuple[int, int]:
    """(periods looked at, periods needed) for the concern rule: needs local confirmation."""
    return (12, 6) if layout.frequency == "month" else (2, 2)


def latest(
    url: str, trusts: Collection[str], known: Mapping[str, Layout], *, above_trust: bool, as_of: dt.date | None = None
) -> dict[str, list[VoiceLine]]:
    """Each trust's latest figure per source and measure, with the one before it.

    ``above_trust``: the reader is not the trust's own staff, so sources kept to the trust are left out.
    ``as_of``: only periods that had ended by then (a board pack shows what was known at its month's end).
    """
    wanted = [s for s, layout in known.items() if layout.shown_above_trust or not above_trust]
    series: dict[tuple[str, str, str], list[VoiceFigure]] = defaultdict(list)
    with transaction(url) as session:
        for row in session.scalars(
            select(VoiceFigure)
            .where(VoiceFigure.trust_code.in_(list(trusts)), VoiceFigure.source.in_(wanted))
            .order_by(VoiceFigure.period)
        ):
            if as_of is None or period_day(row.period) <= as_of:
                series[(row.trust_code, row.source, row.measure)].append(row)
    found: dict[str, list[VoiceLine]] = {t: [] for t in trusts}
    for (trust, source, measure_id), rows in sorted(series.items()):
        layout = known[source]
        measure = layout.measures.get(measure_id)
        if measure is None:  # a measure no longer in the layout
            continue
        look, need = _window(layout)
        recent = rows[-look:]
        last, before = rows[-1], (rows[-2] if len(rows) > 1 else None)
        values = [r.value for r in recent]
        worst = min(values) if measure.higher_is_better else max(values)
        is_worst = len(recent) >= need and last.value == worst and values.count(worst) == 1
        found[trust].append(
            VoiceLine(layout, measure, last.period, last.value, last.responses,
                      before.period if before else None, before.value if before else None, is_worst)
        )  # fmt: skip
    return found


def concern_lines(url: str, trusts: Collection[str], known: Mapping[str, Layout]) -> list[tuple[str, str, str]]:
    """(trust, period, words) for each measure whose latest value is the worst of its recent
    periods; only sources shown above the trust (the triangulation is read by LMNS and region)."""
    lines = []
    for trust, found in latest(url, trusts, known, above_trust=True).items():
        for line in found:
            if line.worst_recently:
                look, _ = _window(line.layout)
                span = "the last 12 months" if line.layout.frequency == "month" else "the year before"
                words = "lowest" if line.measure.higher_is_better else "highest"
                compare = f"{words} of {span}" if look > 2 else f"worse than {span}"
                lines.append((trust, line.period, f"{line.layout.title}: {line.measure.title} {line.value_text} "
                                                  f"in {period_words(line.period)}, {compare}"))  # fmt: skip
    return lines


def period_day(period: str) -> dt.date:
    """The last day a period covers (a concern is dated when its period ended)."""
    if MONTH.match(period):
        year, month = int(period[:4]), int(period[5:])
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(int(period), 12, 31)


def layout_rows(known: Mapping[str, Layout]) -> list[dict[str, Any]]:
    """The documented layout per source, for the page and the docs: columns and measures."""
    return [
        {"source": layout.title, "frequency": layout.frequency, "columns": dict(layout.columns),
         "measures": {m.id: m.title for m in layout.measures.values()}}
        for layout in known.values()
    ]  # fmt: skip


# -- Maternity and Neonatal Voices Partnership feedback themes -----------------------------------
#
# An MNVP "listens to the experiences of women and families" and feeds them to the trust and the
# LMNS (NHS England, *Maternity and neonatal voices partnership guidance*, November 2023, §1.5,
# https://www.england.nhs.uk/long-read/maternity-and-neonatal-voices-partnership-guidance/). It
# reports themes — what came up, how often, how people felt, what the service did — not a survey
# score, and no national file layout is published, so the layout is a setting (the "themes"
# section of ``data/voice_layouts.json``; needs local confirmation).

THEME_COLUMNS = ("org_code", "period", "theme", "mentions", "sentiment", "heard", "did")
THEME_REQUIRED = ("org_code", "period", "theme", "mentions")
SENTIMENTS = {"positive": "Positive", "mixed": "Mixed", "negative": "Negative"}
MAX_THEME = 200


@dataclass(frozen=True)
class ThemeLayout:
    id: str
    title: str
    publisher: str
    period_months: int  # each period is this many months, ending in the month written
    shown_above_trust: bool
    columns: Mapping[str, str]
    sentiments: Mapping[str, str]  # the file's word (lower case) → positive | mixed | negative
    needs_local_confirmation: bool

    @property
    def period_example(self) -> str:
        return "2026-03"

    def period_words(self, period: str) -> str:
        """ "2026-03" as "Jan–Mar 2026" for a three-month period (the months it covers), "Mar 2026" for one."""
        end = dt.date(int(period[:4]), int(period[5:]), 1)
        if self.period_months <= 1:
            return end.strftime("%b %Y")
        back = end.year * 12 + end.month - 1 - (self.period_months - 1)
        start = dt.date(back // 12, back % 12 + 1, 1)
        if start.year == end.year:
            return f"{start:%b}–{end:%b %Y}"
        return f"{start:%b %Y}–{end:%b %Y}"


@cache
def _load_themes(text: str) -> tuple[ThemeLayout, ...]:
    found = []
    for key, raw in json.loads(text).get("themes", {}).items():
        columns = dict(raw["columns"])
        if not set(THEME_REQUIRED) <= set(columns) or not set(columns) <= set(THEME_COLUMNS):
            raise ValueError(f"voice themes layout {key!r}: columns must name {', '.join(THEME_REQUIRED)} "
                             f"and may name {', '.join(THEME_COLUMNS[4:])}")  # fmt: skip
        sentiments = {str(k).strip().lower(): str(v) for k, v in raw.get("sentiments", {}).items()}
        if not set(sentiments.values()) <= set(SENTIMENTS):
            raise ValueError(f"voice themes layout {key!r}: sentiments map to {', '.join(SENTIMENTS)}")
        months = int(raw.get("period_months", 1))
        if not 1 <= months <= 12:
            raise ValueError(f"voice themes layout {key!r}: period_months must be 1 to 12")
        found.append(ThemeLayout(key, raw["title"], raw["publisher"], months, bool(raw["shown_above_trust"]),
                                 columns, sentiments, bool(raw.get("needs_local_confirmation", True))))  # fmt: skip
    return tuple(found)


def theme_layouts(path: Path | None = None) -> dict[str, ThemeLayout]:
    """The feedback-theme layouts of ``path`` (``Settings.voice_layouts``), or the packaged ones when
    it has no "themes" section (a layouts file written before themes existed keeps working)."""
    packaged = resources.files("matneo.assurance").joinpath("data/voice_layouts.json").read_text("utf-8")
    text = path.read_text("utf-8") if path else packaged
    if "themes" not in json.loads(text):
        text = packaged
    return {layout.id: layout for layout in _load_themes(text)}


def import_themes(
    url: str, layout: ThemeLayout, data: bytes, *, allowed_trusts: Collection[str], actor: str
) -> ImportResult:
    """Store the file's feedback themes for ``allowed_trusts``; rows that cannot be stored are listed.

    A trust and period in the file replaces every theme held for that trust and period (a report
    re-issued without a theme no longer shows it). Written with its audit event in one
    transaction; ValueError when the file is not UTF-8 CSV or lacks a required column."""
    from matneo.db.models import VoiceTheme

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text: save it as CSV (UTF-8).") from None
    reader = csv.DictReader(io.StringIO(text))
    headings = [h.strip() for h in reader.fieldnames or []]
    cols = layout.columns
    missing = [cols[k] for k in THEME_REQUIRED if cols[k] not in headings]
    if missing:
        raise ValueError(f"The file has no column {', '.join(missing)} (the {layout.title} layout).")
    result = ImportResult(layout.id)
    good: dict[tuple[str, str, str], tuple[int, str | None, str | None, str | None]] = {}
    for number, raw in enumerate(reader, start=2):
        result.rows_read += 1
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}

        def cell(name: str, row: dict[str, str] = row) -> str:
            return row.get(cols[name], "") if name in cols else ""

        org, period, theme = cell("org_code"), cell("period"), " ".join(cell("theme").split())
        mentions, feeling = cell("mentions"), cell("sentiment").lower()
        heard, did = cell("heard") or None, cell("did") or None
        problem = None
        if org not in allowed_trusts:
            problem = f"{org or 'no organisation'} is not a trust you can import feedback for"
        elif not MONTH.match(period):
            problem = f"the period must be the last month it covers, like {layout.period_example}"
        elif not theme or len(theme) > MAX_THEME:
            problem = f"each row needs a theme of at most {MAX_THEME} characters"
        elif not mentions.isdigit():
            problem = "mentions must be a whole number"
        elif feeling and feeling not in layout.sentiments:
            problem = f"sentiment must be one of {', '.join(layout.sentiments)} (or left empty)"
        elif any(len(t or "") > 2000 for t in (heard, did)):
            problem = "keep what was heard and what was done to 2000 characters each"
        if problem:
            result.problem_count += 1
            if len(result.problems) < MAX_PROBLEMS_SHOWN:
                result.problems.append(f"Row {number}: {problem}.")
            continue
        good[(org, period, theme)] = (int(mentions), layout.sentiments.get(feeling) if feeling else None, heard, did)
    now = utcnow()
    with transaction(url) as session:
        periods = sorted({(k[0], k[1]) for k in good})
        for org, period in periods:
            held = select(VoiceTheme).where(
                VoiceTheme.trust_code == org, VoiceTheme.source == layout.id, VoiceTheme.period == period
            )
            for old in session.scalars(held):
                session.delete(old)
        session.flush()
        for (org, period, theme), (count, sentiment, said, done) in good.items():
            session.add(VoiceTheme(trust_code=org, source=layout.id, period=period, theme=theme, mentions=count,
                                   sentiment=sentiment, heard=said, did=done, imported_by=actor,
                                   imported_at=now))  # fmt: skip
        result.rows_stored, result.trusts = len(good), sorted({k[0] for k in good})
        audit(session, actor, "voice.themes_imported", "voice", layout.id, trusts=result.trusts,
              periods=[p for _, p in periods], rows_loaded=len(good), rows_rejected=result.problem_count)  # fmt: skip
    return result


@dataclass(frozen=True)
class ThemeLine:
    theme: str
    mentions: int
    sentiment: str | None
    heard: str | None
    did: str | None
    before: int | None  # mentions in the period before (None: that period had no report; 0: not raised)
    rising_concern: bool  # the concern rule (:func:`latest_themes`)

    @property
    def sentiment_label(self) -> str:
        return SENTIMENTS.get(self.sentiment or "", "–")


@dataclass(frozen=True)
class ThemeSet:
    """A trust's latest MNVP report: its period and themes, most mentioned first."""

    layout: ThemeLayout
    period: str
    previous_period: str | None
    themes: list[ThemeLine]

    @property
    def period_text(self) -> str:
        return self.layout.period_words(self.period)


#: How many earlier reports the concern rule looks back over (a year of quarterly reports):
#: MatNeo's starting point, needs local confirmation.
THEME_LOOK_BACK = 3


def latest_themes(
    url: str, trusts: Collection[str], known: Mapping[str, ThemeLayout], *, above_trust: bool,
    as_of: dt.date | None = None,
) -> dict[str, list[ThemeSet]]:  # fmt: skip
    """Each trust's latest report per feedback-theme source, with each theme's mentions the period before.

    A theme is a *rising concern* when its sentiment is negative and it was mentioned more often
    than in any of the trust's previous ``THEME_LOOK_BACK`` reports (a theme not raised before
    counts as none), with at least one earlier report on record — no threshold, the trust
    compared with itself (needs local confirmation). ``above_trust`` leaves out sources kept to
    the trust; ``as_of`` keeps only periods that had ended by then (a board pack's month end)."""
    from matneo.db.models import VoiceTheme

    wanted = [s for s, layout in known.items() if layout.shown_above_trust or not above_trust]
    reports: dict[tuple[str, str], dict[str, dict[str, VoiceTheme]]] = defaultdict(lambda: defaultdict(dict))
    with transaction(url) as session:
        for row in session.scalars(
            select(VoiceTheme).where(VoiceTheme.trust_code.in_(list(trusts)), VoiceTheme.source.in_(wanted))
        ):
            if as_of is None or period_day(row.period) <= as_of:
                session.expunge(row)
                reports[(row.trust_code, row.source)][row.period][row.theme] = row
    found: dict[str, list[ThemeSet]] = {t: [] for t in trusts}
    for (trust, source), by_period in sorted(reports.items()):
        periods = sorted(by_period)
        last, earlier = periods[-1], periods[:-1][-THEME_LOOK_BACK:]
        lines = []
        for theme, row in by_period[last].items():
            past = [by_period[p][theme].mentions if theme in by_period[p] else 0 for p in earlier]
            before = past[-1] if past else None
            rising = row.sentiment == "negative" and bool(past) and row.mentions > max(past)
            lines.append(ThemeLine(theme, row.mentions, row.sentiment, row.heard, row.did, before, rising))
        lines.sort(key=lambda line: (-line.mentions, line.theme))
        found[trust].append(ThemeSet(known[source], last, earlier[-1] if earlier else None, lines))
    return found


def theme_concern_lines(
    url: str, trusts: Collection[str], known: Mapping[str, ThemeLayout]
) -> list[tuple[str, str, str]]:
    """(trust, period, words) for each rising concern of the trusts' latest MNVP reports; only
    sources shown above the trust (the triangulation is read by LMNS and region)."""
    lines = []
    for trust, sets in latest_themes(url, trusts, known, above_trust=True).items():
        for found in sets:
            for line in found.themes:
                if line.rising_concern:
                    lines.append((trust, found.period, f"{found.layout.title}: \"{line.theme}\" raised {line.mentions} "
                                  f"time{'s' if line.mentions != 1 else ''} in {found.period_text}, negative, more "
                                  f"than in any of the reports before"))  # fmt: skip
    return lines
