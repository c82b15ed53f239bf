"""The organisation hierarchy: the packaged snapshot, navigation, strict validation, user extracts."""

from __future__ import annotations

import json
import os
import pickle
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pytest

from matneo.config import Settings
from matneo.records.schema import NEONATAL_UNIT_LEVELS as SCHEMA_UNIT_LEVELS
from matneo.reference.organisations import (
    LEVELS,
    NEONATAL_UNIT_LEVELS,
    Organisation,
    OrgHierarchy,
    ReferenceDataError,
    Site,
    install_user_extract,
    load_hierarchy,
)

REGIONS = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}

SMALL_ORGS = """code,name,level,parent_code
ENG,England,england,
Y56,London,region,ENG
QKK,South East London LMNS,lmns,Y56
RJ1,Guy's and St Thomas' NHS Foundation Trust,trust,QKK
RJ2,Lewisham and Greenwich NHS Trust,trust,QKK
"""
SMALL_SITES = """code,name,trust_code,neonatal_unit_level
RJ122,St Thomas' Hospital,RJ1,NICU
RJ224,University Hospital Lewisham,RJ2,LNU
"""


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A MATNEO_HOME with no user extract, so a developer's own ~/.matneo cannot leak in."""
    home = tmp_path / "home"
    monkeypatch.setenv("MATNEO_HOME", str(home))
    return home


@pytest.fixture
def packaged() -> OrgHierarchy:
    return load_hierarchy()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under a directory with its bytes, to show that nothing changed."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# -- the packaged snapshot -------------------------------------------------------------------
def test_packaged_has_one_england_and_the_seven_regions(packaged: OrgHierarchy) -> None:
    [england] = packaged.at_level("england")
    assert (england.code, england.name, england.parent_code) == ("ENG", "England", None)
    regions = packaged.at_level("region")
    assert {r.code: r.name for r in regions} == REGIONS
    assert all(r.parent_code == "ENG" for r in regions)


def test_packaged_counts_are_national_scale(packaged: OrgHierarchy) -> None:
    assert 40 <= len(packaged.at_level("lmns")) <= 44
    assert 110 <= len(packaged.trusts()) <= 130
    assert all(packaged.children(lmns.code) for lmns in packaged.at_level("lmns")), "every LMNS has a trust"


def test_packaged_codes_look_like_ods_codes(packaged: OrgHierarchy) -> None:
    for trust in packaged.trusts():
        assert len(trust.code) == 3 and trust.code.startswith("R"), trust
        assert trust.name != trust.name.upper(), f"{trust.code} name should be title case"
    for lmns in packaged.at_level("lmns"):
        assert len(lmns.code) == 3 and lmns.code.startswith("Q"), lmns
        assert lmns.name.endswith(" LMNS")
    for site in packaged.sites.values():
        assert len(site.code) == 5 and site.code.isalnum(), site


def test_every_trust_reaches_england_through_an_lmns_and_a_region(packaged: OrgHierarchy) -> None:
    for trust in packaged.trusts():
        assert [a.level for a in packaged.ancestors(trust.code)] == ["lmns", "region", "england"]
        assert packaged.ancestors(trust.code)[-1].code == "ENG"


def test_every_trust_has_a_site_with_a_known_unit_level(packaged: OrgHierarchy) -> None:
    for trust in packaged.trusts():
        assert packaged.sites_of(trust.code), f"{trust.code} has no site"
    assert {s.neonatal_unit_level for s in packaged.sites.values()} <= set(NEONATAL_UNIT_LEVELS)


def test_unit_levels_match_the_birth_record_schema() -> None:
    assert NEONATAL_UNIT_LEVELS == SCHEMA_UNIT_LEVELS


def test_nicu_share_is_plausible_and_most_others_are_lnu(packaged: OrgHierarchy) -> None:
    trusts = packaged.trusts()
    with_nicu = [t for t in trusts if any(s.neonatal_unit_level == "NICU" for s in packaged.sites_of(t.code))]
    assert 0.2 <= len(with_nicu) / len(trusts) <= 0.4
    levels = Counter(s.neonatal_unit_level for s in packaged.sites.values())
    assert levels["LNU"] > levels["SCU"] > levels["none"] > 0


def test_manifest_matches_the_packaged_files(packaged: OrgHierarchy) -> None:
    manifest = json.loads(resources.files("matneo.reference").joinpath("data", "manifest.json").read_text())
    assert packaged.version == manifest["organisations"]["version"]
    rows = manifest["organisations"]["rows"]
    assert rows == {level: len(packaged.at_level(level)) for level in ("england", "region", "lmns", "trust")}
    levels = Counter(s.neonatal_unit_level for s in packaged.sites.values())
    assert manifest["sites"]["rows"] == {"sites": len(packaged.sites), **{k: levels[k] for k in NEONATAL_UNIT_LEVELS}}
    for entry in manifest.values():
        assert entry["source"] and "Open Government Licence" in entry["licence"]


# -- navigation -----------------------------------------------------------------------------
def test_get_unknown_code_names_the_code(packaged: OrgHierarchy) -> None:
    with pytest.raises(KeyError, match="ZZZ"):
        packaged.get("ZZZ")


def test_at_level_is_sorted_and_rejects_unknown_levels(packaged: OrgHierarchy) -> None:
    codes = [t.code for t in packaged.trusts()]
    assert codes == sorted(codes)
    with pytest.raises(ValueError, match="icb"):
        packaged.at_level("icb")


def test_children_ancestors_and_ancestor_at(packaged: OrgHierarchy) -> None:
    assert [o.code for o in packaged.ancestors("RJ1")] == ["QKK", "Y56", "ENG"]
    assert packaged.ancestors("ENG") == []
    assert packaged.ancestor_at("RJ1", "lmns").code == "QKK"
    assert packaged.ancestor_at("RJ1", "region").code == "Y56"
    assert packaged.ancestor_at("RJ1", "trust").code == "RJ1"
    assert packaged.ancestor_at("QKK", "england").code == "ENG"
    with pytest.raises(ValueError, match="not above"):
        packaged.ancestor_at("QKK", "trust")
    children = packaged.children("Y56")
    assert {c.level for c in children} == {"lmns"} and [c.code for c in children] == sorted(c.code for c in children)
    assert packaged.children("RJ1") == []
    assert {c.code for c in packaged.children("ENG")} == set(REGIONS)


def test_trusts_under_partitions_the_trusts(packaged: OrgHierarchy) -> None:
    all_trusts = packaged.trusts()
    assert packaged.trusts_under("ENG") == all_trusts
    by_region = [t for region in packaged.at_level("region") for t in packaged.trusts_under(region.code)]
    assert sorted(by_region, key=lambda t: t.code) == all_trusts
    by_lmns = [t for lmns in packaged.at_level("lmns") for t in packaged.trusts_under(lmns.code)]
    assert len(by_lmns) == len(all_trusts)
    assert packaged.trusts_under("RJ1") == [packaged.get("RJ1")]


def test_sites_of_only_trusts(packaged: OrgHierarchy) -> None:
    assert "RJ122" in [s.code for s in packaged.sites_of("RJ1")]
    with pytest.raises(ValueError, match="not a trust"):
        packaged.sites_of("QKK")
    with pytest.raises(KeyError):
        packaged.sites_of("ZZZ")


def test_sites_keep_their_code_when_their_trust_merges(packaged: OrgHierarchy) -> None:
    """Always use trust_code: after a merger a site's code need not start with its trust's."""
    assert packaged.sites["RAPNM"].trust_code == "RAL"
    assert any(not s.code.startswith(s.trust_code) for s in packaged.sites.values())


def test_trust_lookup_joins_each_trust_to_its_lmns_and_region(packaged: OrgHierarchy) -> None:
    table = packaged.trust_lookup()
    assert table.schema == pa.schema(
        [
            (name, pa.string())
            for name in ("trust_code", "trust_name", "lmns_code", "lmns_name", "region_code", "region_name")
        ]
    )
    rows = table.to_pylist()
    assert [r["trust_code"] for r in rows] == [t.code for t in packaged.trusts()]
    for row in rows:
        lmns = packaged.ancestor_at(row["trust_code"], "lmns")
        region = packaged.ancestor_at(row["trust_code"], "region")
        assert (row["lmns_code"], row["lmns_name"]) == (lmns.code, lmns.name)
        assert (row["region_code"], row["region_name"]) == (region.code, region.name)


def test_callers_get_independent_copies(packaged: OrgHierarchy) -> None:
    packaged.organisations.pop("RJ1")
    assert "RJ1" in load_hierarchy().organisations


def test_in_memory_hierarchy_is_validated_too() -> None:
    england = Organisation("ENG", "England", "england", None)
    trust = Organisation("RJ1", "A trust", "trust", "QKK")
    with pytest.raises(ReferenceDataError, match="'QKK', which is not a code"):
        OrgHierarchy({"ENG": england, "RJ1": trust}, {}, "test")
    with pytest.raises(ReferenceDataError, match="stored under"):
        OrgHierarchy({"X": england}, {}, "test")
    region = Organisation("Y56", "London", "region", "ENG")
    site = Site("Y5601", "A site", "Y56", "NICU")
    with pytest.raises(ReferenceDataError, match="which is a region, not a trust"):
        OrgHierarchy({"ENG": england, "Y56": region}, {"Y5601": site}, "test")


# -- loading files ---------------------------------------------------------------------------
def test_small_extract_loads_with_a_content_version(tmp_path: Path) -> None:
    orgs, sites = write(tmp_path / "o.csv", SMALL_ORGS), write(tmp_path / "s.csv", SMALL_SITES)
    hierarchy = load_hierarchy(orgs, sites)
    assert [t.code for t in hierarchy.trusts()] == ["RJ1", "RJ2"]
    assert hierarchy.version.startswith("user-")
    assert load_hierarchy(orgs).sites == {}, "a user's organisations are never paired with packaged sites"


def test_bom_blank_lines_extra_columns_and_padding_are_tolerated(tmp_path: Path) -> None:
    text = (
        "code, name ,level,parent_code,note\n"
        + "\n".join(line + ",x" for line in SMALL_ORGS.splitlines()[1:]).replace("RJ2,", " RJ2 ,")
        + "\n\n"
    )
    hierarchy = load_hierarchy(write(tmp_path / "o.csv", text, encoding="utf-8-sig"))
    assert "RJ2" in hierarchy.organisations


def test_cache_notices_an_edited_file(tmp_path: Path) -> None:
    orgs = write(tmp_path / "o.csv", SMALL_ORGS)
    first = load_hierarchy(orgs)
    write(orgs, SMALL_ORGS.replace("Lewisham and Greenwich NHS Trust", "Renamed"))
    os.utime(orgs, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    second = load_hierarchy(orgs)
    assert second.get("RJ2").name == "Renamed" and second.version != first.version


def instance(home: Path) -> Settings:
    return Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")


def test_user_extract_in_matneo_home_replaces_the_packaged_one(isolated_home: Path) -> None:
    reference = isolated_home / "reference"
    write(reference / "organisations.csv", SMALL_ORGS)
    hierarchy = load_hierarchy(settings=instance(isolated_home))
    assert len(hierarchy.trusts()) == 2 and hierarchy.sites == {}
    write(reference / "sites.csv", SMALL_SITES)
    assert set(load_hierarchy(settings=instance(isolated_home)).sites) == {"RJ122", "RJ224"}


def test_the_environment_is_not_read_behind_the_callers_back(isolated_home: Path) -> None:
    """MATNEO_HOME points at an instance with its own extract; only a caller passing its settings gets it."""
    write(isolated_home / "reference" / "organisations.csv", SMALL_ORGS)
    assert len(load_hierarchy().trusts()) > 2, "without settings: the packaged snapshot, whatever MATNEO_HOME says"
    elsewhere = instance(isolated_home.parent / "other")
    assert len(load_hierarchy(settings=elsewhere).trusts()) > 2, "another instance's settings: its own (none)"


ORG_ERRORS = [
    pytest.param("", 1, "is empty", id="empty-file"),
    pytest.param("code,name,level\nENG,England,england\n", 1, "missing column(s) parent_code", id="missing-column"),
    pytest.param(SMALL_ORGS + ",Nameless,trust,QKK\n", 7, "code is empty", id="empty-code"),
    pytest.param(SMALL_ORGS + "RJ6,,trust,QKK\n", 7, "name is empty for code 'RJ6'", id="empty-name"),
    pytest.param(
        SMALL_ORGS + "RJ2,Again,trust,QKK\n", 7, "'RJ2' appears more than once (first seen on line 6)", id="dup"
    ),
    pytest.param(SMALL_ORGS + "QWE,SW London,icb,Y56\n", 7, "level 'icb' for code 'QWE' is not one of", id="bad-level"),
    pytest.param(SMALL_ORGS + "RJ6,Croydon,trust,QWE\n", 7, "parent_code 'QWE', which is not a code", id="no-parent"),
    pytest.param(
        SMALL_ORGS + "RJ6,Croydon,trust,Y56\n", 7, "parent 'Y56', which is a region; the parent of a trust", id="level"
    ),
    pytest.param(SMALL_ORGS + "UK,United Kingdom,england,\n", 7, "more than one england row", id="two-englands"),
    pytest.param(
        SMALL_ORGS.replace(",england,", ",england,Y56"), 2, "must have an empty parent_code", id="root-parent"
    ),
    pytest.param(SMALL_ORGS + "RJ6,Croydon,trust,\n", 7, "trust 'RJ6' has no parent_code", id="orphan"),
    pytest.param(SMALL_ORGS + "RJ6,Croydon, London,trust,QWE\n", 7, "more values than the header", id="unquoted-comma"),
]


@pytest.mark.parametrize(("text", "line", "problem"), ORG_ERRORS)
def test_bad_organisations_file_is_refused_with_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path / "bad_orgs.csv", text)
    with pytest.raises(ReferenceDataError) as caught:
        load_hierarchy(path)
    assert caught.value.line == line
    message = str(caught.value)
    assert str(path) in message and f"line {line}" in message and problem in message


def test_file_without_an_england_row_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "\n".join(SMALL_ORGS.splitlines()[:1] + SMALL_ORGS.splitlines()[2:]))
    with pytest.raises(ReferenceDataError, match="no england row"):
        load_hierarchy(path)


def test_missing_file_is_a_reference_data_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="cannot be read"):
        load_hierarchy(tmp_path / "nope.csv")


def test_reference_data_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ReferenceDataError("orgs.csv", "code is empty", 3)))
    assert (str(error), error.line, error.problem) == ("orgs.csv, line 3: code is empty", 3, "code is empty")


SITE_ERRORS = [
    pytest.param("code,name,trust_code\nRJ122,St Thomas',RJ1\n", 1, "missing column(s) neonatal_unit_level", id="col"),
    pytest.param(
        SMALL_SITES + "RJ699,Croydon,RJ6,LNU\n", 4, "trust_code 'RJ6', which is not an organisation", id="trust"
    ),
    pytest.param(SMALL_SITES + "QKK01,Somewhere,QKK,LNU\n", 4, "which is an lmns, not a trust", id="not-a-trust"),
    pytest.param(SMALL_SITES + "RJ101,Guy's,RJ1,level 3\n", 4, "neonatal_unit_level 'level 3'", id="unit-level"),
    pytest.param(SMALL_SITES + "RJ122,Again,RJ1,NICU\n", 4, "'RJ122' appears more than once", id="dup"),
    pytest.param(SMALL_SITES + "RJ101,,RJ1,NICU\n", 4, "name is empty for site 'RJ101'", id="empty-name"),
    pytest.param(SMALL_SITES + "RJ101,Guy's,,NICU\n", 4, "trust_code is empty", id="empty-trust"),
]


@pytest.mark.parametrize(("text", "line", "problem"), SITE_ERRORS)
def test_bad_sites_file_is_refused_with_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    orgs = write(tmp_path / "orgs.csv", SMALL_ORGS)
    path = write(tmp_path / "bad_sites.csv", text)
    with pytest.raises(ReferenceDataError) as caught:
        load_hierarchy(orgs, path)
    message = str(caught.value)
    assert str(path) in message and f"line {line}" in message and problem in message


# -- installing a user extract ----------------------------------------------------------------
def test_install_refuses_a_bad_file_and_creates_nothing(tmp_path: Path, isolated_home: Path) -> None:
    bad = write(tmp_path / "bad.csv", SMALL_ORGS + "RJ6,Croydon,trust,QWE\n")
    with pytest.raises(ReferenceDataError, match="line 7"):
        install_user_extract(bad, None, isolated_home)
    assert not isolated_home.exists()


@pytest.mark.parametrize("broken", ["organisations", "sites"])
def test_install_leaves_a_previous_extract_untouched_when_the_new_one_is_bad(
    tmp_path: Path, isolated_home: Path, broken: str
) -> None:
    install_user_extract(write(tmp_path / "o.csv", SMALL_ORGS), write(tmp_path / "s.csv", SMALL_SITES), isolated_home)
    before = snapshot(isolated_home)
    new_orgs = write(tmp_path / "o2.csv", SMALL_ORGS + "RJ6,Croydon Health Services NHS Trust,trust,QKK\n")
    new_sites = write(tmp_path / "s2.csv", SMALL_SITES + "RJ611,Croydon University Hospital,RJ6,LNU\n")
    if broken == "organisations":
        write(new_orgs, SMALL_ORGS + "RJ6,Croydon,trust,NOPE\n")
    else:
        write(new_sites, SMALL_SITES + "RJ611,Croydon University Hospital,RJ6,level 2\n")
    with pytest.raises(ReferenceDataError):
        install_user_extract(new_orgs, new_sites, isolated_home)
    assert snapshot(isolated_home) == before
    assert "RJ6" not in load_hierarchy(settings=instance(isolated_home)).organisations


def test_install_replaces_a_good_extract_and_load_hierarchy_uses_it(tmp_path: Path, isolated_home: Path) -> None:
    install_user_extract(write(tmp_path / "o.csv", SMALL_ORGS), write(tmp_path / "s.csv", SMALL_SITES), isolated_home)
    new_orgs = write(tmp_path / "o2.csv", SMALL_ORGS + "RJ6,Croydon Health Services NHS Trust,trust,QKK\n")
    new_sites = write(tmp_path / "s2.csv", SMALL_SITES + "RJ611,Croydon University Hospital,RJ6,LNU\n")
    installed = install_user_extract(new_orgs, new_sites, isolated_home)
    assert "RJ6" in installed.organisations and installed.sites["RJ611"].trust_code == "RJ6"
    assert (isolated_home / "reference" / "organisations.csv").read_bytes() == new_orgs.read_bytes()
    assert sorted(p.name for p in (isolated_home / "reference").iterdir()) == ["organisations.csv", "sites.csv"]
    loaded = load_hierarchy(settings=instance(isolated_home))
    assert loaded.version == installed.version and "RJ611" in loaded.sites


def test_install_without_sites_removes_the_old_sites(tmp_path: Path, isolated_home: Path) -> None:
    install_user_extract(write(tmp_path / "o.csv", SMALL_ORGS), write(tmp_path / "s.csv", SMALL_SITES), isolated_home)
    installed = install_user_extract(tmp_path / "o.csv", None, isolated_home)
    assert installed.sites == {}
    assert not (isolated_home / "reference" / "sites.csv").exists()
    assert load_hierarchy(settings=instance(isolated_home)).sites == {}


def test_levels_constant_is_ordered_bottom_up() -> None:
    assert LEVELS == ("trust", "lmns", "region", "england")
