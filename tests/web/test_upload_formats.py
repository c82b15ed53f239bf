"""Uploading a FHIR Bundle or an MSDS extract (a zip of its table files) on the Data page.

In a real browser (Debian's Chromium under Playwright, every page checked with axe) against
the session's real server: each format reaches its plan, says what it was read as, loads with
its rejection report, ledger row and audit event, and reverts. Every problem (an unreadable
zip, a file of no format we read, JSON that is not a Bundle, an extract without a table it
needs, another trust's records, a zip-slip member) is in the Data page's NHS.UK error summary,
and the store is as it was. The format is read from the file's first bytes, not its name.
"""

from __future__ import annotations

import csv
import html
import re
import stat
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import polars as pl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from fhirbundles import bundle_of_csv
from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.msds.writer import write_msds
from matneo.records.parse import read_csv
from matneo.records.schema import FIELD_NAMES
from matneo.records.store import RecordStore
from matneo.web.pages import unzip
from rowbuilder import valid_row

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance


# -- files ------------------------------------------------------------------------------------------
def birth_rows(web: WebInstance, trust: str, month: str, n: int = 3, bad: int = 0) -> list[dict[str, str]]:
    """``n`` valid births of ``trust`` in ``month`` (before the session dataset starts), the last
    ``bad`` of them with an impossible gestation; new record ids each time."""
    site = web.hierarchy.sites_of(trust)[0].code
    batch = uuid.uuid4().hex[:8]
    rows = [
        valid_row(
            [(trust, site)],
            i,
            record_id=f"FMT-{batch}-{i}",
            mother_id=f"MFMT-{batch}-{i}",
            birth_datetime=f"{month}-12 09:30:00",
        )
        for i in range(n)
    ]
    for row in rows[n - bad :]:
        row["gestation_weeks"] = "61"
    return rows


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIELD_NAMES))
        writer.writeheader()
        writer.writerows(rows)
    return path


def bundle_file(path: Path, rows: list[dict[str, str]]) -> Path:
    """The FHIR Bundle of these births (as ``matneo synth --format fhir`` writes it)."""
    source = write_rows(path.with_name(path.name + ".source.csv"), rows)
    path.write_text(bundle_of_csv(source), encoding="utf-8")
    return path


def msds_tables(tmp_path: Path, rows: list[dict[str, str]]) -> dict[str, bytes]:
    """The MSDS v2.0 table files of these births, by file name (as ``matneo synth --format msds`` writes them)."""
    source = write_rows(tmp_path / f"msds-source-{uuid.uuid4().hex[:6]}.csv", rows)
    typed: pl.DataFrame = read_csv(source, list(FIELD_NAMES)).typed.drop("_row")
    return {path.name: path.read_bytes() for path in write_msds(typed, tmp_path / f"tables-{uuid.uuid4().hex[:6]}")}


def zip_file(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return path


# -- what the server holds -----------------------------------------------------------------------------
def store_state(web: WebInstance) -> tuple:
    store = RecordStore(web.settings.records_dir)
    counts = store.connect().execute("SELECT trust_code, count(*) FROM births GROUP BY 1 ORDER BY 1").fetchall()
    return store.current_version(), counts


def month_count(web: WebInstance, month: str, trust: str = OWN_TRUST) -> int:
    store = RecordStore(web.settings.records_dir)
    if store.current_version() is None:
        return 0
    sql = "SELECT count(*) FROM births WHERE trust_code = ? AND year = ? AND month = ?"
    return store.connect().execute(sql, [trust, int(month[:4]), int(month[5:])]).fetchone()[0]


def uploads_left(web: WebInstance) -> list[Path]:
    folder = web.settings.home / "uploads"
    return sorted(folder.rglob("*")) if folder.exists() else []


def newest_load(web: WebInstance) -> Load:
    with transaction(web.settings.database_url) as session:
        return session.scalars(select(Load).order_by(Load.id.desc()).limit(1)).one()


def audit_count(web: WebInstance, action: str) -> int:
    with transaction(web.settings.database_url) as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


# -- in the browser --------------------------------------------------------------------------------------
def upload(page: Page, path: Path, mode: str) -> None:
    page.goto("/data")
    page.set_input_files("#file", str(path))
    page.check(f"#mode-{mode}")
    page.click("form[action='/data/upload'] button[type=submit]")


def problem_in_page(page: Page, words: str) -> None:
    """The Data page (not a generic error page) with ``words`` in its NHS.UK error summary."""
    expect(page.locator("h1")).to_have_text("Data")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(words)
    expect(page.locator("#file-error")).to_contain_text(words)
    accessible(page)


def test_a_fhir_bundle_reaches_its_plan_and_loads(
    signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    month = "2017-07"
    path = bundle_file(tmp_path / "births-bundle.json", birth_rows(web, OWN_TRUST, month, 3, bad=1))
    loads_before = audit_count(web, "records.load")
    page = signed_in("trust")
    page.goto("/data")
    accessible(page)
    upload(page, path, "resubmit")
    expect(page.locator("h1")).to_have_text("Check before loading")
    expect(page.locator("[data-plan-format]")).to_have_text("FHIR R4 Bundle (JSON)")
    expect(page.locator("[data-plan-mode]")).to_have_text("Full resubmission of the months in the file")
    expect(page.locator("[data-plan-sentences]")).to_contain_text(f"{OWN_TRUST} July 2017")
    expect(page.locator("[data-rejections]")).to_contain_text("gestation")
    accessible(page)
    assert month_count(web, month) == 0  # nothing loaded by the plan
    page.get_by_role("button", name="Continue and load").click()
    result = page.locator("[data-upload-result=loaded]")
    expect(result).to_contain_text("Loaded 2 rows (2 added, 0 replaced); 0 earlier rows removed; 1 row rejected.")
    expect(page.locator("[data-upload-format]")).to_have_text("Read as: FHIR R4 Bundle (JSON)")
    accessible(page)
    assert month_count(web, month) == 2
    load = newest_load(web)
    assert (Path(load.file_name).name, load.file_format, load.actor, load.mode) == (
        "births-bundle.json",
        "fhir",
        web.users["trust"][0],
        "resubmit",
    )
    assert audit_count(web, "records.load") == loads_before + 1
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the rejection report")).click()
    report = Path(download.value.path()).read_text()
    assert "gestation_weeks" in report and "Observation" in report  # the FHIR element, not only the column
    assert str(web.settings.home) not in report
    assert uploads_left(web) == []


def test_an_msds_zip_reaches_its_plan_loads_and_reverts(
    signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    """The tables inside a folder (a zipped folder), beside a Mac's resource files, which are not tables;
    without the optional MatNeo supplement, which the plan and the result say."""
    month = "2017-08"
    tables = msds_tables(tmp_path, birth_rows(web, OWN_TRUST, month, 4, bad=1))
    del tables["MATNEO01Supplement.csv"]
    members = {f"msds_2017_08/{name}": content for name, content in tables.items()}
    members["__MACOSX/msds_2017_08/._MSD401BabyDemographics.csv"] = b"\x00\x05\x16\x07 resource fork"
    path = zip_file(tmp_path / "msds-august.zip", members)
    page = signed_in("trust")
    upload(page, path, "upsert")
    expect(page.locator("h1")).to_have_text("Check before loading")
    expect(page.locator("[data-plan-format]")).to_have_text("MSDS v2.0 extract (zip of table files)")
    expect(page.locator("[data-format-guide]")).to_have_attribute("href", "/guides/msds")
    expect(page.locator("[data-plan-mode]")).to_have_text("Add or correct records")
    expect(page.locator("[data-plan-sentences]")).to_contain_text(f"{OWN_TRUST} August 2017")
    expect(page.locator("[data-notices]")).to_contain_text("there is no MATNEO01Supplement table: brain_injury")
    expect(page.locator("[data-rejections]")).to_contain_text("gestation")
    accessible(page)
    assert month_count(web, month) == 0
    assert [p.name for p in uploads_left(web) if p.parent.parent.name == "uploads"] == ["msds-august.zip", "plan.json"]
    page.get_by_role("button", name="Continue and load").click()
    expect(page.locator("[data-upload-result=loaded]")).to_contain_text("Loaded 3 rows (3 added, 0 replaced)")
    expect(page.locator("[data-upload-format]")).to_have_text("Read as: MSDS v2.0 extract (zip of table files)")
    expect(page.locator("[data-format-guide]")).to_have_text("MSDS extract guide")
    expect(page.locator("[data-notices]")).to_contain_text("there is no MATNEO01Supplement table")
    accessible(page)
    assert month_count(web, month) == 3
    assert uploads_left(web) == []  # the zip and its unpacked tables are gone
    load = newest_load(web)
    assert (Path(load.file_name).name, load.file_format, load.mode) == ("msds-august.zip", "msds", "upsert")
    row = page.locator(f'[data-load="{load.id}"]')
    expect(row).to_contain_text("msds-august.zip")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the rejection report")).click()
    report = Path(download.value.path()).read_text()
    assert '"MSD401BabyDemographics.csv",5,"MSD401BabyDemographics.GestationLengthBirth' in report  # MSDS terms
    assert str(web.settings.home) not in report and "unzipped-" not in report
    row.get_by_role("link", name=re.compile("Revert this load")).click()
    expect(page.locator('table[data-table="revert"]')).to_contain_text("August 2017")
    accessible(page)
    page.get_by_role("button", name=f"Revert load {load.id}").click()
    expect(page.locator("[data-upload-result=reverted]")).to_contain_text(f"Load {load.id} was reverted")
    assert month_count(web, month) == 0


# -- problems ------------------------------------------------------------------------------------------------
def own_msds(web: WebInstance, tmp_path: Path) -> dict[str, bytes]:
    return msds_tables(tmp_path, birth_rows(web, OWN_TRUST, "2017-09"))


def written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def cut_short_zip(web: WebInstance, tmp_path: Path) -> Path:
    """A zip whose end never came (half of a good one)."""
    whole = zip_file(tmp_path / "whole.zip", own_msds(web, tmp_path)).read_bytes()
    return written(tmp_path / "cut-short.zip", whole[: len(whole) // 2])


PROBLEMS: dict[str, tuple[Callable[[WebInstance, Path], Path], str, int]] = {
    "unreadable zip": (cut_short_zip, "is not a zip file that can be read", 400),
    "wrong format": (
        lambda web, tmp: written(tmp / "births.xlsx", b"\xd0\xcf\x11\xe0 an old Excel file"),
        "must be a CSV (.csv) or Parquet (.parquet) file of birth records, a FHIR R4 Bundle (.json) or an MSDS",
        400,
    ),
    "an excel workbook": (
        lambda web, tmp: zip_file(tmp / "births.xlsx", {"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}),
        "is an Excel workbook (or another Office document), not a zip of MSDS table files",
        400,
    ),
    "fhir not a bundle": (
        lambda web, tmp: written(tmp / "patient.json", b'{"resourceType": "Patient", "id": "p"}'),
        "is not a valid FHIR R4 Bundle",
        400,
    ),
    "missing msds table": (
        lambda web, tmp: zip_file(
            tmp / "no-babies.zip",
            {k: v for k, v in own_msds(web, tmp).items() if not k.startswith("MSD401")},
        ),
        "has no MSD401BabyDemographics table",
        400,
    ),
    "msds table missing data items": (
        lambda web, tmp: zip_file(
            tmp / "no-pregnancy-id.zip",
            {
                k: (v.replace(b"UniqPregID", b"PregID", 1) if k.startswith("MSD401") else v)
                for k, v in own_msds(web, tmp).items()
            },
        ),
        "holds MSD401BabyDemographics.csv, which is missing data items: UniqPregID",
        400,
    ),
    "zip slip": (
        lambda web, tmp: zip_file(tmp / "slip.zip", {**own_msds(web, tmp), "../../evil-MSD001.csv": b"x,y\n"}),
        "leads outside the zip",
        400,
    ),
    "another trust in a fhir bundle": (
        lambda web, tmp: bundle_file(
            tmp / "mixed.json", birth_rows(web, OWN_TRUST, "2017-10") + birth_rows(web, OTHER_TRUST, "2017-10")
        ),
        f"records of 1 trust outside your organisation ({OTHER_TRUST})",
        403,
    ),
    "another trust in an msds zip": (
        lambda web, tmp: zip_file(tmp / "other.zip", msds_tables(tmp, birth_rows(web, OTHER_TRUST, "2017-10"))),
        f"records of 1 trust outside your organisation ({OTHER_TRUST})",
        403,
    ),
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_upload_problems_are_in_the_data_page_error_summary(
    problem: str, signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    build, words, status = PROBLEMS[problem]
    path = build(web, tmp_path)
    before = store_state(web)
    refusals = audit_count(web, "records.load_refused")
    page = signed_in("trust")
    page.goto("/data")
    with page.expect_response(lambda r: r.url.endswith("/data/upload")) as answer:
        upload(page, path, "upsert")
    assert answer.value.status == status
    problem_in_page(page, words)
    if status == 403:
        expect(page.locator(".nhsuk-error-summary")).to_contain_text("Nothing was loaded")
        assert audit_count(web, "records.load_refused") == refusals + 1
    assert store_state(web) == before
    assert uploads_left(web) == []
    assert not list(web.settings.home.rglob("evil-MSD001.csv"))


def test_a_failed_zip_is_in_the_ledger_with_its_audit_event(web: WebInstance, tmp_path: Path) -> None:
    """As for an unreadable CSV: the failed load, named by the zip, and its audit event."""
    name = f"slip-{uuid.uuid4().hex[:6]}.zip"
    path = zip_file(tmp_path / name, {"../MSD001MotherDemog.csv": b"a\n"})
    client = web.client("trust")
    response = client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": "upsert"},
        files={"file": (name, path.read_bytes(), "application/zip")},
    )
    assert response.status_code == 400 and "leads outside the zip" in html.unescape(response.text)
    with transaction(web.settings.database_url) as session:
        load = session.scalars(select(Load).where(Load.file_name.endswith(name))).one()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "records.upload_failed", AuditEvent.target_id == name)
        ).one()
    assert load.status == "failed" and "leads outside the zip" in (load.error or "")
    assert event.actor == web.users["trust"][0]


# -- the format is read from the file, not its name ------------------------------------------------
def post(client: httpx.Client, name: str, content: bytes, mode: str = "upsert") -> httpx.Response:
    return client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": mode},
        files={"file": (name, content, "application/octet-stream")},
    )


def test_the_format_is_read_from_the_first_bytes_not_the_name(web: WebInstance, tmp_path: Path) -> None:
    """A Bundle named .csv, a zip named .dat and a CSV: each planned as what it is (then cancelled)."""
    client = web.client("trust")
    rows = birth_rows(web, OWN_TRUST, "2017-11")
    bundle = bundle_file(tmp_path / "b.json", rows).read_bytes()
    extract = zip_file(tmp_path / "x.zip", msds_tables(tmp_path, rows)).read_bytes()
    plain = write_rows(tmp_path / "rows.csv", rows).read_bytes()
    uploads = [("births.csv", b"\n  " + bundle, "fhir"), ("extract.dat", extract, "msds"), ("rows.csv", plain, "csv")]
    for name, content, kind in uploads:
        planned = post(client, name, content)
        assert planned.status_code == 200, planned.text
        assert f'data-plan-format="{kind}"' in planned.text, name
        token = re.search(r'action="/data/uploads/([0-9a-f]{32})/cancel"', planned.text)
        assert token, "no cancel form"
        client.post(f"/data/uploads/{token.group(1)}/cancel", data={"csrf_token": client.headers["X-CSRF-Token"]})
    assert uploads_left(web) == []


def test_the_page_and_the_api_take_bundles_of_the_same_size() -> None:
    from matneo.web import routes_fhir
    from matneo.web.pages import data

    assert data.MAX_BUNDLE_BYTES == routes_fhir.MAX_BUNDLE_BYTES


def test_a_bundle_over_the_api_limit_is_refused_in_the_page(
    web: WebInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matneo.web.pages import data

    monkeypatch.setattr(data, "MAX_BUNDLE_BYTES", 1000)
    bundle = bundle_file(tmp_path / "big.json", birth_rows(web, OWN_TRUST, "2017-12"))
    response = post(web.client("trust"), "big.json", bundle.read_bytes())
    assert response.status_code == 413 and "The FHIR Bundle is larger than" in response.text
    assert uploads_left(web) == []


# -- the unzip helper ------------------------------------------------------------------------------------------
def every_name(name: str) -> bool:
    return True


def empty_folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    "name", ["../a.csv", "a/../../b.csv", "/etc/a.csv", "C:/a.csv", "a\\..\\b.csv", "folder/../a.csv"]
)
def test_a_member_leading_outside_refuses_the_whole_zip(name: str, tmp_path: Path) -> None:
    archive = zip_file(tmp_path / "z.zip", {"good.csv": b"a\n", name: b"b\n"})
    into = empty_folder(tmp_path / "into")
    with pytest.raises(unzip.ZipProblem, match="leads outside"):
        unzip.unpack(archive, into, every_name)
    assert list(into.iterdir()) == []  # nothing written, not even the good member


def test_a_link_member_refuses_the_zip(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        info = zipfile.ZipInfo("MSD001.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(info, "/etc/passwd")
    into = empty_folder(tmp_path / "into")
    with pytest.raises(unzip.ZipProblem, match="link"):
        unzip.unpack(archive, into, every_name)


def test_members_are_written_flat_and_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = zip_file(tmp_path / "z.zip", {"a/one.csv": b"1\n", "b/two.csv": b"22\n", "skip.txt": b"x"})
    into = empty_folder(tmp_path / "flat")
    unpacked = unzip.unpack(archive, into, lambda name: name.endswith(".csv"))
    assert sorted(p.name for p in unpacked) == ["one.csv", "two.csv"]
    assert sorted(p.name for p in into.iterdir()) == ["one.csv", "two.csv"]
    same = zip_file(tmp_path / "same.zip", {"a/one.csv": b"1\n", "b/one.csv": b"2\n"})
    with pytest.raises(unzip.ZipProblem, match=r"two files named one\.csv"):
        unzip.unpack(same, empty_folder(tmp_path / "same"), every_name)
    monkeypatch.setattr(unzip, "MAX_MEMBERS", 2)
    with pytest.raises(unzip.ZipProblem, match="more than 2 files"):
        unzip.unpack(archive, empty_folder(tmp_path / "many"), every_name)
    monkeypatch.setattr(unzip, "MAX_MEMBERS", 500)
    monkeypatch.setattr(unzip, "MAX_UNPACKED_BYTES", 10_000)
    bomb = zip_file(tmp_path / "bomb.zip", {"big.csv": b"0" * 10_000_000})  # deflates to about 10 kB
    assert bomb.stat().st_size < 20_000
    with pytest.raises(unzip.ZipProblem, match="unpacks to more than"):
        unzip.unpack(bomb, empty_folder(tmp_path / "bomb"), every_name)
