"""Produce a board pack end to end: build, render, print, archive — one path for the CLI and the web."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from matneo.board.archive import ArchivedPack, archive
from matneo.board.pack import BoardPack, SignalLine, build_pack
from matneo.board.render import render_html, render_pdf
from matneo.config import Settings
from matneo.dates import day_text
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.results import ResultCache
from matneo.reference.organisations import OrgHierarchy
from matneo.reviews.board import pack_reviews
from matneo.signals import register
from matneo.signals.detect import METHOD_LABELS, SignalSettings

__all__ = ["Produced", "pack_signals", "produce"]


@dataclass(frozen=True)
class Produced:
    pack: BoardPack
    html: str
    pdf: bytes | None
    archived: ArchivedPack | None


def pack_signals(
    settings: Settings, hierarchy: OrgHierarchy, code: str, month_end: dt.date, *, comments: bool
) -> list[SignalLine]:
    """Signals open at the organisation's trusts that had begun by the end of the pack's month.

    The acknowledgement comment is the trust's own free text: ``comments`` only for the trust's
    own staff (or the command line); anyone else's pack says when a signal was acknowledged, not
    what was written.
    """
    trusts = [t.code for t in hierarchy.trusts_under(code)]
    own = comments and hierarchy.get(code).level == "trust"
    lines = []
    quiet_months = SignalSettings.of(settings).quiet_months
    for s in register.current(settings.database_url, trusts=trusts, quiet_months=quiet_months):
        since = dt.date.fromisoformat(s["since"])
        if since > month_end:
            continue
        acks = [e for e in s["history"] if e["action"] == "acknowledged"]
        done = None
        if acks:
            when = dt.date.fromisoformat(acks[-1]["at"][:10])
            comment = acks[-1]["comment"] if own else None
            done = f"Acknowledged {day_text(when)}" + (f": {comment}" if comment else "")
        measure = MEASURES_BY_ID.get(s["measure"])
        lines.append(
            SignalLine(
                trust_name=hierarchy.get(s["trust_code"]).name,
                measure_title=measure.title if measure else s["measure"],
                method=METHOD_LABELS.get(s["method"], s["method"]),
                since=since,
                summary=s["summary"],
                acknowledged=done,
            )
        )
    return lines


def produce(
    settings: Settings,
    results: ResultCache,
    hierarchy: OrgHierarchy,
    code: str,
    month: dt.date,
    *,
    scope: Collection[str] | None,
    actor: str,
    pdf: bool = True,
    keep: bool = True,
    comments: bool = True,
    now: dt.datetime | None = None,
) -> Produced:
    """Build the pack of ``code`` for ``month`` as ``scope`` sees it, render it, and (``keep``) archive it.

    ``comments``: whether the reader may see the trust's own free-text signal comments.

    Raises ValueError (no such month's data, England), KeyError (unknown organisation) and
    :class:`matneo.board.render.PdfUnavailable` when a PDF is asked for and cannot be printed.
    """
    month = month.replace(day=1)
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    pack = build_pack(
        results,
        hierarchy,
        settings.database_url,
        code,
        month,
        scope=scope,
        signals=pack_signals(settings, hierarchy, code, following - dt.timedelta(days=1), comments=comments),
        generated_at=now or dt.datetime.now(dt.UTC).replace(microsecond=0),
        reviews=pack_reviews(
            settings, [t.code for t in hierarchy.trusts_under(code)], following - dt.timedelta(days=1)
        ),
    )
    html = render_html(pack)
    printed = render_pdf(html, settings.chromium) if pdf else None
    kept = archive(settings, pack, html, printed, actor) if keep else None
    return Produced(pack, html, printed, kept)
