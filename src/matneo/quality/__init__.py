"""Data quality in plain sight: completeness and validity of every field a measure uses, per
trust, site and month; rejections, late and missing months, records sent again; and the one
caveat every figure resting on poorly recorded inputs carries. See docs/data-quality.md.

:func:`report_for` is the service the command line and the web app share.
"""

from __future__ import annotations

import polars as pl

from matneo.config import Settings
from matneo.measures.results import ResultCache
from matneo.quality.cube import load_quality_cube
from matneo.quality.report import QualityReport, ledger_facts, quality_report
from matneo.quality.rules import rules_from
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy


def quality_cube(settings: Settings) -> pl.DataFrame:
    """The live store version's quality cube (cached under ``$MATNEO_HOME/cache``)."""
    return load_quality_cube(
        RecordStore(settings.records_dir), rules_from(settings).birth_weight_fence, settings.home / "cache"
    )


def cached_cube(settings: Settings, results: ResultCache) -> pl.DataFrame:
    """The quality cube, built once per store version and kept with the app's other results."""
    return results.memo(("quality-cube",), lambda: quality_cube(settings))


def report_for(
    settings: Settings,
    hierarchy: OrgHierarchy,
    code: str,
    *,
    detail: bool,
    site: str | None = None,
    cube=None,  # type: ignore[no-untyped-def]
) -> QualityReport:
    """The data-quality report of ``code``; ``detail`` only for a reader whose scope holds it."""
    rules = rules_from(settings)
    cube = quality_cube(settings) if cube is None else cube
    trusts = [t.code for t in hierarchy.trusts_under(code)]
    counts = RecordStore(settings.records_dir).manifest().counts()
    facts = ledger_facts(settings.database_url, trusts)
    return quality_report(cube, counts, facts, hierarchy, code, rules, detail=detail, site=site)
