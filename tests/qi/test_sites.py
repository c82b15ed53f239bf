"""A site project's MatNeo measures count that site's births (issue 13), on the real records store.

Hand-built records at the three sites of R0A (and a few at RJ1): the site series of every
measure add up to the trust series the rest of MatNeo computes, the project's chart says
"Site: NAME", the trust's own staff see the site's figures unsuppressed, and a collaborative
member from another trust sees the small ones suppressed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.measures.definitions import MEASURES
from matneo.measures.results import ResultCache
from matneo.measures.sites import site_series
from matneo.qi import actions, queries
from matneo.qi.core import QiInputError
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy
from rowbuilder import valid_row

from .conftest import MEMBER, OWN

#: Births per (site, month): (births, of whom smoking at delivery). Counted by hand.
BIRTHS = {
    ("R0A02", 1): (12, 3),
    ("R0A02", 2): (10, 1),
    ("R0A07", 1): (9, 2),
    ("R0A07", 2): (3, 0),
    ("R0A66", 1): (1, 1),  # R0A66 has no births in February
}


@pytest.fixture
def loaded(app_store: Settings, hierarchy: OrgHierarchy, tmp_path: Path, write_csv: Callable[..., Path]) -> Settings:
    rows = []
    n = 0
    for (site, month), (births, smokers) in BIRTHS.items():
        for i in range(births):
            n += 1
            when = f"2019-{month:02d}-{1 + i % 27:02d} 10:30:00"
            smoking = "true" if i < smokers else "false"
            rows.append(valid_row([(OWN, site)], n, birth_datetime=when, smoking_at_delivery=smoking))
    other = hierarchy.sites_of(MEMBER)[0].code
    for _ in range(5):
        n += 1
        rows.append(valid_row([(MEMBER, other)], n, birth_datetime="2019-01-10 09:00:00"))
    assert load_files([write_csv(tmp_path / "births.csv", rows)], app_store)
    return app_store


def test_site_series_of_all_sites_add_up_to_the_trust_series(loaded: Settings, hierarchy: OrgHierarchy) -> None:
    results = ResultCache(loaded, hierarchy)
    sites = [s.code for s in hierarchy.sites_of(OWN)]
    assert sorted(sites) == ["R0A02", "R0A07", "R0A66"]
    for measure in MEASURES:
        trust = results.view(None, measure.id, "month", orgs=[OWN]).sort("period_start")
        series = [site_series(results, OWN, s, measure.id, in_scope=True) for s in sites]
        summed = (
            pl.concat(series)
            .group_by("period_start")
            .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
            .sort("period_start")
        )
        assert summed["period_start"].to_list() == trust["period_start"].to_list(), measure.id
        assert summed["numerator"].to_list() == trust["numerator"].to_list(), measure.id
        assert summed["denominator"].to_list() == trust["denominator"].to_list(), measure.id
    # Counted by hand: smoke-free at delivery at R0A02 in January is 9 of 12; R0A66 has a zero February.
    jan, feb = dt.date(2019, 1, 1), dt.date(2019, 2, 1)
    r0a02 = site_series(results, OWN, "R0A02", "smoke_free_at_delivery", in_scope=True)
    assert r0a02.filter(pl.col("period_start") == jan).select("numerator", "denominator").row(0) == (9, 12)
    r0a66 = site_series(results, OWN, "R0A66", "smoke_free_at_delivery", in_scope=True)
    assert r0a66.filter(pl.col("period_start") == feb).select("numerator", "denominator").row(0) == (0, 0)
    # Cached per store version: the same frame comes back without another scan.
    assert site_series(results, OWN, "R0A02", "caesarean_rate", in_scope=False) is not None
    assert results.memo(("site_counts", OWN), lambda: pytest.fail("scanned again")) is not None


def test_site_project_charts_its_site_for_its_trust_and_suppressed_for_others(
    loaded: Settings, hierarchy: OrgHierarchy, people: dict[str, Access]
) -> None:
    url = loaded.database_url
    results = ResultCache(loaded, hierarchy)
    cid = actions.create_collaborative(
        url, people["national"], {"name": "Maternal and neonatal safety", "kind": "national", "org_code": "ENG"}
    )
    actions.add_member(url, people["national"], cid, OWN, None)
    actions.add_member(url, people["national"], cid, MEMBER, None)
    with pytest.raises(QiInputError, match="one of the trust's sites"):
        actions.create_project(
            url, people["trust"], {"trust_code": OWN, "title": "Smoke-free", "site_code": "RJ122"}, [cid]
        )
    pid = actions.create_project(
        url, people["trust"], {"trust_code": OWN, "title": "Smoke-free at delivery", "site_code": "R0A07"}, [cid]
    )
    actions.add_measure(
        url, people["trust"], pid, {"kind": "outcome", "source": "matneo", "matneo_measure": "smoke_free_at_delivery"}
    )
    own = queries.project_view(url, people["trust"], results, pid)
    key = own.key_measure
    assert key is not None and key.site_label == "Site: Wythenshawe Hospital"
    assert "Site: Wythenshawe Hospital" in key.chart_title
    # The site's own births (7 of 9 smoke-free in January), not the trust's (16 of 22).
    assert [(p.numerator, p.denominator) for p in key.points] == [(7, 9), (3, 3)]
    assert own.to_dict()["site_name"] == "Wythenshawe Hospital"
    assert queries.export_rows(key)[0][-1] == "Site: Wythenshawe Hospital"
    # A member trust of the collaborative: small counts suppressed, as for any reader outside the trust.
    other = queries.project_view(url, people["member"], results, pid).key_measure
    assert other is not None and other.site_label == "Site: Wythenshawe Hospital"
    assert all(p.suppressed and p.value is None for p in other.points)
    # The collaborative dashboard's small multiple uses the site series too.
    board = queries.collaborative_view(url, people["trust"], results, cid)
    shown = next(p for p in board.projects if p.id == pid).key_measure
    assert shown is not None and [(p.numerator, p.denominator) for p in shown.points] == [(7, 9), (3, 3)]
    # Back to the whole trust: the measure counts every site again.
    actions.update_project(url, people["trust"], pid, {"title": "Smoke-free at delivery", "site_code": ""})
    whole = queries.project_view(url, people["trust"], results, pid).key_measure
    assert whole is not None and whole.site_label is None
    assert [(p.numerator, p.denominator) for p in whole.points] == [(16, 22), (12, 13)]
