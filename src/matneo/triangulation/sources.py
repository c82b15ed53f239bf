"""Concerns from every module that owns one, per trust: the evidence the concern rules read.

Each source is read by the module that owns the data (signals register, harm portal, assurance
tracker, perinatal mortality reviews, record store, imported survey figures); this module only
turns what they hold into dated :class:`Concern` lines with aggregate words — no patient detail ever
reaches a concern, so the same lines can be shown to the LMNS and region above the trust. An ongoing
concern (an open signal, an overdue notification, a red requirement, an overdue review stage, a
missing month) is dated ``today``: it is a concern now.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import polars as pl
from sqlalchemy import select

from matneo.assurance.tracker import statuses
from matneo.assurance.voice import concern_lines, layouts, period_day, theme_concern_lines, theme_layouts
from matneo.dates import day_text, month_text, months_after
from matneo.db.models import HarmCase, HarmRoute, Signal
from matneo.db.session import transaction
from matneo.measures.results import ResultCache
from matneo.signals.detect import METHOD_LABELS, stream_title
from matneo.triangulation.rules import Concern

__all__ = ["NOT_YET_AVAILABLE", "concerns"]

#: The signals register's method for leading-indicator streams (``matneo.signals.detect``).
LEADING_METHOD = "leading_cusum"

#: Sources the safety picture does not show, and why (said on the page, never silently missing).
NOT_YET_AVAILABLE = {
    "Safety culture survey results": "kept to the trust alone, as the survey providers ask",
}


def _signals(url: str, trusts: list[str], today: dt.date, since: dt.date) -> list[Concern]:
    with transaction(url) as session:
        rows = session.scalars(
            select(Signal).where(
                Signal.trust_code.in_(trusts), (Signal.status != "closed") | (Signal.last_signal_date >= since)
            )
        ).all()
        found = []
        for s in rows:
            title = stream_title(s.measure)
            method = METHOD_LABELS.get(s.method, s.method)
            # Leading indicators (term admissions, low Apgar, PPH, severe tears) are a source of
            # their own: they add to the picture but never count as an outcome signal.
            source = "leading_indicator" if s.method == LEADING_METHOD else "outcome_signal"
            if s.status == "closed":
                text = f"{title}: {method} signal (closed), last {day_text(s.last_signal_date)}"
                found.append(Concern(s.trust_code, source, s.last_signal_date, text))
            else:
                text = f"{title}: {method} signal since {month_text(s.first_signal_date)}"
                found.append(Concern(s.trust_code, source, today, text))
        return found


def _harm(url: str, trusts: list[str], today: dt.date, since: dt.date) -> list[Concern]:
    with transaction(url) as session:
        mnsi = session.execute(
            select(HarmCase.trust_code, HarmCase.submitted_at)
            .join(HarmRoute, HarmRoute.report_id == HarmCase.id)
            .where(
                HarmCase.trust_code.in_(trusts),
                HarmCase.status == "submitted",
                HarmRoute.route_id == "MNSI",
                HarmRoute.status != "not_applicable",
                HarmCase.submitted_at >= dt.datetime.combine(since, dt.time()),
            )
        ).all()
        overdue = session.execute(
            select(HarmCase.trust_code, HarmRoute.next_due)
            .join(HarmRoute, HarmRoute.report_id == HarmCase.id)
            .where(
                HarmCase.trust_code.in_(trusts),
                HarmCase.status == "submitted",
                HarmRoute.status == "due",
                HarmRoute.next_due < today,
            )
        ).all()
    found = [
        Concern(trust, "harm", submitted.date(), f"Harm report referred to MNSI ({day_text(submitted.date())})")
        for trust, submitted in mnsi
        if submitted is not None
    ]
    late: dict[str, list[dt.date]] = defaultdict(list)
    for trust, due in overdue:
        if due is not None:
            late[trust].append(due)
    for trust, dues in late.items():
        n = len(dues)
        text = f"{n} national notification{'s' if n != 1 else ''} overdue, the oldest due {day_text(min(dues))}"
        found.append(Concern(trust, "notifications", today, text))
    return found


def _assurance(url: str, trusts: list[str], today: dt.date) -> list[Concern]:
    views = statuses(url, trusts, today)
    red: dict[str, list[str]] = defaultdict(list)
    for (trust, _), view in views.items():
        if view.rag == "red":
            red[trust].append(view.item.section)
    return [
        Concern(trust, "assurance", today, f"{len(items)} assurance requirement{'s' if len(items) != 1 else ''} "
                f"red ({', '.join(items[:3])}{', …' if len(items) > 3 else ''})")
        for trust, items in red.items()
    ]  # fmt: skip


def _reviews(url: str, trusts: list[str], today: dt.date, since: dt.date) -> list[Concern]:
    """Perinatal mortality reviews: open reviews past a stage's deadline (ongoing: dated today), and reviews
    that graded an area of care C or D, dated by the latest such grading within the window. Counts only.

    C and D are the lower two of the PMRT's four grades; their wording needs local confirmation
    (docs/reviews.md), so the concern names the letters, not a meaning.
    """
    from matneo.reviews.models import Review, ReviewChange, ReviewGrade, ReviewMeeting
    from matneo.reviews.queries import stage_rows

    found: list[Concern] = []
    with transaction(url) as session:
        reviews = session.scalars(select(Review).where(Review.trust_code.in_(trusts), Review.status == "open")).all()
        firsts: dict[int, dt.date] = {}
        for rid, held in session.execute(
            select(ReviewMeeting.review_id, ReviewMeeting.held_on).where(
                ReviewMeeting.review_id.in_([r.id for r in reviews])
            )
        ):
            firsts[rid] = min(held, firsts.get(rid, held))
        late: dict[str, list[dt.date]] = defaultdict(list)
        for review in reviews:
            dues = [
                dt.date.fromisoformat(st["due"])
                for st in stage_rows(review, firsts.get(review.id), today)
                if st["status"] == "overdue"
            ]
            if dues:
                late[review.trust_code].append(min(dues))
        graded = session.execute(
            select(Review.trust_code, Review.id)
            .join(ReviewGrade, ReviewGrade.review_id == Review.id)
            .where(Review.trust_code.in_(trusts), ReviewGrade.grade.in_(("C", "D")))
            .distinct()
        ).all()
        when: dict[int, dt.date] = {}
        for rid, at in session.execute(
            select(ReviewChange.review_id, ReviewChange.at).where(
                ReviewChange.review_id.in_([rid for _, rid in graded]), ReviewChange.action == "grade.set"
            )
        ):
            when[rid] = max(at.date(), when.get(rid, at.date()))
    for trust, dues in late.items():
        n = len(dues)
        found.append(
            Concern(
                trust,
                "reviews",
                today,
                f"{n} perinatal mortality review{'s' if n != 1 else ''} past a stage's deadline, "
                f"the oldest due {day_text(min(dues))}",
            )
        )
    low: dict[str, list[dt.date]] = defaultdict(list)
    for trust, rid in graded:
        day = when.get(rid)
        if day is not None and day >= since:
            low[trust].append(day)
    for trust, days in low.items():
        n = len(days)
        text = (
            f"{n} perinatal mortality review{'s' if n != 1 else ''} graded an area of care C or D "
            f"since {month_text(since)}"
        )
        found.append(Concern(trust, "reviews", max(days), text))
    return found


def _voice(url: str, trusts: list[str], today: dt.date, since: dt.date, layouts_file: Path | None) -> list[Concern]:
    """A survey measure whose latest figure is the worst of the trust's recent periods
    (:func:`matneo.assurance.voice.concern_lines`; culture surveys kept to the trust are never read),
    and a Maternity and Neonatal Voices Partnership theme, negative, raised more than in the reports
    before (:func:`matneo.assurance.voice.theme_concern_lines`)."""
    found = []
    lines = concern_lines(url, trusts, layouts(layouts_file))
    lines += theme_concern_lines(url, trusts, theme_layouts(layouts_file))
    for trust, period, text in lines:
        day = min(period_day(period), today)
        if day >= since:
            found.append(Concern(trust, "voice", day, text))
    return found


def _data_quality(results: ResultCache, trusts: list[str], today: dt.date) -> list[Concern]:
    """A trust with no birth records in the latest month loaded for England: its figures are going stale."""
    monthly = results.measure_table("stillbirth_rate", "month")
    if monthly.is_empty():
        return []
    latest = monthly["period_start"].max()
    if not isinstance(latest, dt.date):
        return []
    present = set(
        monthly.filter((pl.col("period_start") == latest) & (pl.col("denominator") > 0))["org_code"].to_list()
    )
    return [
        Concern(t, "data_quality", today, f"No birth records for {month_text(latest)}, the latest month loaded")
        for t in trusts
        if t not in present
    ]


def concerns(
    url: str,
    results: ResultCache,
    trusts: Collection[str],
    today: dt.date,
    window_months: int = 12,
    voice_layouts: Path | None = None,
) -> dict[str, list[Concern]]:
    """Every trust's concerns dated within ``window_months`` of ``today`` (ongoing ones dated today), newest first."""
    wanted = sorted(trusts)
    since = months_after(today, -window_months)
    found: dict[str, list[Concern]] = {t: [] for t in wanted}
    for concern in (
        *_signals(url, wanted, today, since),
        *_harm(url, wanted, today, since),
        *_assurance(url, wanted, today),
        *_reviews(url, wanted, today, since),
        *_data_quality(results, wanted, today),
        *_voice(url, wanted, today, since, voice_layouts),
    ):
        found[concern.trust_code].append(concern)
    for items in found.values():
        items.sort(key=lambda c: (c.day, c.source), reverse=True)
    return found
