"""Board pack page: produce this month's pack for an organisation and open the archived ones.

Who: anyone whose scope includes the organisation (its own staff, and the LMNS and region above
it). The figures are the reader's view, as on the organisation page; the trust's free-text
signal comments appear only in packs its own staff produce.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from matneo.auth.access import Access
from matneo.board.archive import ArchivedPack, archived_packs, read_archived
from matneo.board.render import PdfUnavailable
from matneo.board.service import Produced, produce
from matneo.dates import moment_text, month_text
from matneo.web.pages.funnel import FUNNEL_LEVELS
from matneo.web.services import BadRequest, NotFound, Services

__all__ = ["BoardPage", "archived_file", "build", "make"]

#: Months offered in the form: the latest two years with data.
MONTH_CHOICES = 24


@dataclass
class BoardPage:
    code: str
    name: str
    months: list[tuple[str, str]]  # (YYYY-MM, "Jun 2022"), newest first
    packs: list[ArchivedPack]

    @property
    def title(self) -> str:
        return f"Board packs: {self.name}"

    def pack_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": p.id,
                "month": month_text(p.month),
                "produced": moment_text(p.generated_at),
                "by": p.generated_by,
                "has_pdf": p.pdf_sha256 is not None,
                "sha256": p.html_sha256,
            }
            for p in self.packs
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "months": [m for m, _ in self.months],
            "packs": [
                {**row, "html": f"/organisations/{self.code}/board-packs/{row['id']}.html"} for row in self.pack_rows()
            ],
        }


def _organisation(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if org.level not in FUNNEL_LEVELS:
        raise BadRequest("Board packs are for trusts, LMNS and regions.")
    if not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    return org


def build(services: Services, access: Access, code: str) -> BoardPage:
    org = _organisation(services, access, code)
    monthly = services.results.view(access.scope if not access.sees_everything else None, "stillbirth_rate", "month",
                                    orgs=[org.code])  # fmt: skip
    starts = sorted(set(monthly["period_start"].to_list()), reverse=True)[:MONTH_CHOICES] if monthly.height else []
    return BoardPage(
        code=org.code,
        name=org.name,
        months=[(f"{m:%Y-%m}", month_text(m)) for m in starts],
        packs=archived_packs(services.settings.database_url, [org.code]),
    )


def make(services: Services, access: Access, code: str, month: str) -> Produced:
    """Produce and archive the pack (HTML and PDF); ValueError in words for a bad month or no data."""
    org = _organisation(services, access, code)
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValueError("Choose the month the pack is for.") from None
    try:
        return produce(
            services.settings,
            services.results,
            services.hierarchy,
            org.code,
            first,
            scope=None if access.sees_everything else access.scope,
            actor=access.user.email,
            comments=access.user.org_code == org.code,
        )
    except PdfUnavailable as error:
        raise ValueError(str(error)) from None


def archived_file(services: Services, access: Access, code: str, pack_id: int, kind: str) -> bytes:
    org = _organisation(services, access, code)
    try:
        return read_archived(services.settings, pack_id, kind, {org.code})
    except LookupError:
        raise NotFound(f"There is no board pack {pack_id} for {org.name}.") from None
