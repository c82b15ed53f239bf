"""The results cache: bounded by size, keyed on the store version another process can change, and
suppressing only the periods asked for with the same result as the whole table (issues 10, 11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.definitions import MEASURES
from matneo.measures.results import ResultCache, one_version, size_of
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy
from matneo.synth import write_dataset


def test_the_cache_is_bounded_by_size_and_drops_the_least_recently_used(
    sqlite_settings: Settings, hierarchy: OrgHierarchy
) -> None:
    budget = 20_000
    results = ResultCache(sqlite_settings, hierarchy, max_bytes=budget)
    one = size_of("x" * 1000)
    results.memo(("page", 0), lambda: "x" * 1000)
    for i in range(1, 200):  # e.g. one entry per distinct query string
        results.memo(("page", i), lambda: "x" * 1000)
        results.memo(("page", 0), lambda: pytest.fail("entry 0 was dropped although it is used every time"))
    assert results.entries.nbytes <= budget
    assert len(results.entries) == budget // one
    assert (None, "memo", "page", 0) in results.entries  # used most recently: kept
    assert (None, "memo", "page", 199) in results.entries
    assert (None, "memo", "page", 1) not in results.entries  # least recently used: gone
    too_big = results.memo(("huge",), lambda: "y" * (2 * budget))
    assert len(too_big) == 2 * budget and (None, "memo", "huge") not in results.entries


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, hierarchy: OrgHierarchy) -> tuple[Settings, list[Path]]:
    home = tmp_path_factory.mktemp("result-cache")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, hierarchy)  # loading checks the schema; upgrading is explicit
    files = write_dataset(home / "synth", [2022, 2023], scale=0.05, seed=5, hierarchy=hierarchy)
    load_files([f for f in files if "2022" in f.name], settings, hierarchy)
    return settings, [f for f in files if "2023" in f.name]


def test_suppressing_only_the_latest_period_gives_what_the_whole_table_gives(
    small: tuple[Settings, list[Path]], hierarchy: OrgHierarchy
) -> None:
    settings, _ = small
    scope = Access(SignedInUser(1, "t@test.invalid", "trust_staff", "R0A", "x"), hierarchy).scope
    whole, latest_only = ResultCache(settings, hierarchy), ResultCache(settings, hierarchy)
    for period in ("month", "rolling_12m"):
        latest = whole.latest_start("stillbirth_rate", period)
        assert latest is not None
        everything = pl.concat([whole.published(m.id, period, known=frozenset(scope)) for m in MEASURES])
        for m in MEASURES:
            shown = latest_only.view(scope, m.id, period, since=latest)
            expected = everything.filter((pl.col("measure") == m.id) & (pl.col("period_start") >= latest))
            outside = ~pl.col("org_code").is_in(list(scope))
            assert_frame_equal(shown.filter(outside), expected.filter(outside))
        hidden = [key for key in list(latest_only.entries._items) if key[1] == "hidden" and key[2] == period]
        # only the latest period was suppressed: for the public (every reader starts from it) and the reader
        assert sorted((key[4], key[5]) for key in hidden) == [(frozenset(), latest), (frozenset(scope), latest)]
    assert everything["suppressed"].any(), "the comparison covers suppressed cells"


def test_a_load_by_another_process_is_seen_and_replaces_the_cached_tables(
    small: tuple[Settings, list[Path]], hierarchy: OrgHierarchy
) -> None:
    settings, later_files = small
    results = ResultCache(settings, hierarchy)
    before = results.version()
    births = results.measure_table("stillbirth_rate", "year").filter(pl.col("level") == "england")
    assert births["period_start"].dt.year().to_list() == [2022]
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from matneo.config import Settings
        from matneo.records.load import load_files
        settings = Settings(home=Path({str(settings.home)!r}), database_url={settings.database_url!r})
        load_files([Path(p) for p in {[str(f) for f in later_files]!r}], settings)
        """
    )
    with one_version():  # as the web server wraps each request: one version for the whole page
        assert results.version() == before
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
        assert results.version() == before
    assert results.version() != before
    assert all(key[0] != before for key in results.entries._items), "the old version's entries are gone"
    births = results.measure_table("stillbirth_rate", "year").filter(pl.col("level") == "england")
    assert births["period_start"].dt.year().to_list() == [2022, 2023]


def test_the_server_serves_the_previous_version_until_the_new_one_is_warm(
    tmp_path: Path, hierarchy: OrgHierarchy
) -> None:
    """Issue 10: right after a load, first views waited for the new version's tables (1.1–18 s).
    The server keeps serving the warm version until a background thread has warmed the new one."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, hierarchy)
    files = write_dataset(tmp_path / "synth", [2022, 2023], scale=0.03, seed=6, hierarchy=hierarchy)
    load_files([f for f in files if "2022" in f.name], settings, hierarchy)
    results = ResultCache(settings, hierarchy)
    release, built = threading.Event(), []

    def warm() -> None:  # what Services.warm does: build the tables, here for the version being warmed
        built.append((results.version(), england_years()))
        release.wait(60)

    def england_years() -> list[int]:
        table = results.measure_table("stillbirth_rate", "year").filter(pl.col("level") == "england")
        return table["period_start"].dt.year().to_list()

    results.hold_previous_until_warm(warm)
    before = results.version()
    assert before is not None and england_years() == [2022]
    load_files([f for f in files if "2023" in f.name], settings, hierarchy)
    assert results.store_version() == before + 1
    assert results.version() == before, "the warm version is served while the new one warms"
    assert england_years() == [2022]
    deadline = time.monotonic() + 60
    while not built and time.monotonic() < deadline:
        time.sleep(0.05)
    assert built == [(before + 1, [2022, 2023])], "the warm thread builds from the new version's records"
    assert results.version() == before and england_years() == [2022]
    release.set()
    while results.version() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert results.version() == before + 1
    assert england_years() == [2022, 2023]
    assert all(key[0] == before + 1 for key in results.entries._items), "the old version's entries are gone"


def test_an_lmns_of_one_trust_is_that_trusts_own_figures_for_its_staff(
    small: tuple[Settings, list[Path]], hierarchy: OrgHierarchy
) -> None:
    """QNQ (Frimley) has one trust, RDU: RDU's staff know QNQ's figures exactly (they are RDU's),
    so suppression treats them as known. It used to try to hide QNQ's small counts from them: a
    protection that cannot exist, searched for 196 s of CPU on ten national years before the
    periods were hidden whole (issue 10, first view of an organisation page)."""
    from matneo.measures.results import derivable

    assert [t.code for t in hierarchy.trusts_under("QNQ")] == ["RDU"]
    rdu = Access(SignedInUser(1, "t@test.invalid", "trust_staff", "RDU", "x"), hierarchy).scope
    assert derivable(hierarchy, rdu) == rdu | {"QNQ"}, "the region is not: its other LMNSs are unknown"
    r0a = Access(SignedInUser(1, "t@test.invalid", "trust_staff", "R0A", "x"), hierarchy).scope
    assert derivable(hierarchy, r0a) == r0a
    settings, _ = small
    results = ResultCache(settings, hierarchy)
    for period in ("month", "rolling_12m", "year"):
        for m in MEASURES:
            rows = results.view(rdu, m.id, period, orgs=["RDU", "QNQ"])
            by_org = {org: part.drop("org_code", "level", "parent_code", strict=False) for (org,), part in
                      rows.sort("period_start").partition_by("org_code", as_dict=True).items()}  # fmt: skip
            shown = ["numerator", "denominator", "suppressed"]
            assert by_org["QNQ"].select(shown).equals(by_org["RDU"].select(shown)), (period, m.id)
            assert not by_org["QNQ"]["suppressed"].any(), (period, m.id)
