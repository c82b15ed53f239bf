"""Evidence that fills itself: a requirement's live figure from MatNeo's own data.

Where a requirement is measurable from what MatNeo holds, its evidence is the figure itself,
refreshed with every load (measure tables are per store version) or every harm-portal change:

* an item with a ``measure`` shows that measure's latest 12 months for the trust with England;
* ``early_notification`` (CNST MIS: "reported 100% of qualifying incidents under NHS
  Resolution's Early Notification scheme") counts the trust's harm reports routed to Early
  Notification: reported, still due, overdue.

A framework's own threshold is shown only where its source gives one: none is confirmed in the
framework data yet, so none is invented here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from matneo.assurance.frameworks import Item
from matneo.db.models import HarmCase, HarmRoute
from matneo.db.session import transaction
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.results import ResultCache

__all__ = ["LiveFigure", "live_figure"]


@dataclass(frozen=True)
class LiveFigure:
    text: str  # one plain sentence, e.g. "Smoke-free at delivery: 91.3% in the 12 months to Dec 2023 (England 90.1%)."
    link: str | None  # where the detail is (the measure on the organisation page, the harm queue)


def _measure_figure(results: ResultCache, scope: Collection[str] | None, trust: str, measure_id: str) -> LiveFigure:
    measure = MEASURES_BY_ID[measure_id]
    # only the latest period is shown: find it in the unsuppressed table, suppress just that one
    raw = results.measure_table(measure_id, "rolling_12m").filter(
        pl.col("org_code").is_in([trust, "ENG"]) & (pl.col("months") == 12)
    )
    latest_start = raw["period_start"].max() if raw.height else None
    since = latest_start if isinstance(latest_start, dt.date) else None
    rows = results.view(scope, measure_id, "rolling_12m", orgs=[trust, "ENG"], since=since).filter(
        pl.col("months") == 12
    )
    link = f"/organisations/{trust}?measure={measure_id}"
    if rows.is_empty():
        return LiveFigure(f"{measure.title}: no data loaded yet.", link)
    latest = rows.filter(pl.col("period_end") == rows["period_end"].max())
    own = latest.filter(pl.col("org_code") == trust)
    eng = latest.filter(pl.col("org_code") == "ENG")
    unit = "%" if measure.unit == "percent" else f" per {measure.multiplier:,}"

    def show(frame: pl.DataFrame) -> str | None:
        value = frame["value"][0] if frame.height else None
        return None if value is None else f"{value:.1f}{unit}"

    mine, england = show(own), show(eng)
    period = own["period"][0] if own.height else latest["period"][0]
    text = f"{measure.title}: {mine or 'no figure'} in the {period}" + (f" (England {england})." if england else ".")
    return LiveFigure(text, link)


def _early_notification(url: str, trust: str, today: dt.date) -> LiveFigure:
    with transaction(url) as session:
        rows = session.execute(
            select(HarmRoute.status, HarmRoute.next_due)
            .join(HarmCase, HarmCase.id == HarmRoute.report_id)
            .where(HarmCase.trust_code == trust, HarmCase.status == "submitted", HarmRoute.route_id == "NHSR_EN")
        ).all()
    qualifying = [r for r in rows if r.status != "not_applicable"]
    done = sum(r.status == "done" for r in qualifying)
    overdue = sum(r.status == "due" and r.next_due is not None and r.next_due < today for r in qualifying)
    if not qualifying:
        return LiveFigure("No harm reports have needed NHS Resolution Early Notification.", "/harm")
    share = f" ({100 * done / len(qualifying):.0f}%)"
    tail = f"; {overdue} overdue." if overdue else "; none overdue."
    return LiveFigure(
        f"{done} of {len(qualifying)} reports needing NHS Resolution Early Notification reported{share}{tail}",
        "/harm",
    )


def _pmrt_timeliness(url: str, trust: str, today: dt.date) -> LiveFigure:
    from matneo.reviews.models import Review, ReviewMeeting
    from matneo.reviews.queries import stage_rows

    wanted = ("notified", "started", "draft_report")
    on_time = dict.fromkeys(wanted, 0)
    overdue = 0
    with transaction(url) as session:
        reviews = session.scalars(select(Review).where(Review.trust_code == trust)).all()
        firsts: dict[int, dt.date] = {}
        for rid, held in session.execute(
            select(ReviewMeeting.review_id, ReviewMeeting.held_on).where(
                ReviewMeeting.review_id.in_([r.id for r in reviews])
            )
        ):
            firsts[rid] = min(held, firsts.get(rid, held))
        for review in reviews:
            for stage in stage_rows(review, firsts.get(review.id), today):
                if stage["stage"] in on_time and stage["status"] == "done":
                    on_time[stage["stage"]] += 1
                overdue += stage["status"] == "overdue"
    if not reviews:
        return LiveFigure("No perinatal mortality reviews recorded in MatNeo yet.", "/reviews")
    n = len(reviews)
    return LiveFigure(
        f"Of {n} perinatal mortality review{'s' if n != 1 else ''}: {on_time['notified']} notified, "
        f"{on_time['started']} started and {on_time['draft_report']} with a draft report by the deadline; "
        f"{overdue} stage{'s' if overdue != 1 else ''} overdue now. Deadlines need local confirmation.",
        "/reviews",
    )


def live_figure(
    requirement: Item,
    *,
    results: ResultCache,
    scope: Collection[str] | None,
    url: str,
    trust: str,
    today: dt.date,
) -> LiveFigure | None:
    """The requirement's live evidence for ``trust`` as a reader with ``scope`` sees it, or None."""
    if requirement.measure is not None:
        return _measure_figure(results, scope, trust, requirement.measure)
    if requirement.figure == "early_notification":
        return _early_notification(url, trust, today)
    if requirement.figure == "pmrt_timeliness":
        return _pmrt_timeliness(url, trust, today)
    return None
