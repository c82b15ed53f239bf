"""Data-quality page of an organisation: the same :class:`~matneo.quality.report.QualityReport`
as ``matneo quality``, as HTML and JSON (``/api/v1/organisations/{code}/data-quality``).

The scope rule (ADR 0005) decides the detail: staff of the organisation (or above it) see every
month, site (or trust), load and count; anyone else sees aggregates — percentages only, nothing
for a population under the suppression threshold. Asking for one site's detail outside one's
scope is refused (403), not quietly answered with aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from matneo.auth.access import Access, Forbidden
from matneo.quality import cached_cube, report_for
from matneo.quality.cube import NO_SITE
from matneo.quality.report import QualityReport
from matneo.web.pages.funnel import FUNNEL_LEVELS
from matneo.web.services import BadRequest, NotFound, Services

__all__ = ["DataQualityPage", "build", "cube"]


@dataclass
class DataQualityPage:
    code: str
    name: str
    level: str
    in_scope: bool
    breadcrumbs: list[tuple[str, str]]
    report: QualityReport
    sites: list[tuple[str, str]]

    @property
    def title(self) -> str:
        return f"Data quality: {self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"unsuppressed": self.in_scope, **self.report.to_dict()}


def cube(services: Services) -> pl.DataFrame:
    """The quality cube of the live store version, built once per version for the whole app."""
    return cached_cube(services.settings, services.results)


def build(services: Services, access: Access, code: str, site: str | None = None) -> DataQualityPage:
    org = services.organisation(code)
    if org.level not in (*FUNNEL_LEVELS, "england"):  # pragma: no cover - every level has one
        raise BadRequest("Data-quality pages are for trusts, LMNS, regions and England.")
    detail = access.in_scope(org.code)
    sites = [(s.code, s.name) for s in services.hierarchy.sites_of(org.code)] if org.level == "trust" else []
    if site is not None:
        if not detail:
            raise Forbidden(f"Site detail is shown only to {org.name} and the organisations above it.")
        if org.level != "trust":
            raise BadRequest("Choose a site on its trust's data-quality page.")
        if site not in {c for c, _ in sites} | {NO_SITE}:
            raise NotFound(f"{org.name} has no site with code {site!r}.")
    report = report_for(services.settings, services.hierarchy, org.code, detail=detail, site=site, cube=cube(services))
    ancestors = [a for a in reversed(services.hierarchy.ancestors(org.code)) if a.level != "england"]
    return DataQualityPage(
        code=org.code,
        name=org.name,
        level=org.level,
        in_scope=detail,
        breadcrumbs=[(a.code, a.name) for a in ancestors],
        report=report,
        sites=sites if detail else [],
    )
