"""Several files in one upload on the Data page: one plan, one load, one store version, one revert.

Trusts send a month as several files: CSV or Parquet files, FHIR Bundles, or an MSDS extract's
table files. Chosen together, they are planned, confirmed, loaded, put in the ledger and reverted
as one load, against the session's real server over real HTTP. A file of the wrong kind, files of
different kinds, a file the loader cannot read or too many bytes over all the files refuse the
upload by the file's name, load nothing and keep nothing. (The browser test of choosing two files
in the real page is ``test_browser.py``'s upload test.)
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import polars as pl
import pytest
from sqlalchemy import func, select

from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.records.schema import FIELD_NAMES
from matneo.records.store import RecordStore
from matneo.web.pages import data

from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance
from .test_upload_formats import (
    audit_count,
    birth_rows,
    bundle_file,
    month_count,
    msds_tables,
    newest_load,
    uploads_left,
    write_rows,
    zip_file,
)

Files = list[tuple[str, bytes]]


def post_files(client: httpx.Client, files: Files, mode: str = "resubmit") -> httpx.Response:
    """The upload form with several files in its one file field, as a browser sends ``multiple``."""
    return client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": mode},
        files=[("file", (name, content, "application/octet-stream")) for name, content in files],
    )


def token_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    found = re.search(r'action="/data/uploads/([0-9a-f]{32})/confirm"', response.text)
    assert found, "no confirmation form"
    return found.group(1)


def confirm(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(f"/data/uploads/{token}/confirm", data={"csrf_token": client.headers["X-CSRF-Token"]})


def plan_files(response: httpx.Response) -> list[str]:
    listed = re.search(r"<ul[^>]*data-plan-files>(.*?)</ul>", response.text, re.S)
    assert listed, "the plan does not list the files"
    return [html.unescape(name) for name in re.findall(r"<li>(.*?)</li>", listed.group(1))]


def error_summary(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert '<h1 class="nhsuk-heading-xl">Data</h1>' in response.text
    summary = re.search(r'class="nhsuk-error-summary".*?<p>(.*?)</p>', response.text, re.S)
    assert summary, "no error summary"
    return html.unescape(summary.group(1))


def ledger(web: WebInstance) -> tuple[int | None, int]:
    """(store version, ledger rows)."""
    with transaction(web.settings.database_url) as session:
        rows = session.scalar(select(func.count(Load.id))) or 0
    return RecordStore(web.settings.records_dir).current_version(), rows


def csv_bytes(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> tuple[str, bytes]:
    return name, write_rows(tmp_path / name, rows).read_bytes()


def parquet_bytes(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> tuple[str, bytes]:
    path = tmp_path / name
    pl.DataFrame({column: [row[column] for row in rows] for column in FIELD_NAMES}).write_parquet(path)
    return name, path.read_bytes()


def revert(client: httpx.Client, load_id: int) -> httpx.Response:
    form = {"csrf_token": client.headers["X-CSRF-Token"], "confirm": "yes"}
    return client.post(f"/data/loads/{load_id}/revert", data=form)


# -- one load -----------------------------------------------------------------------------------------
def test_csv_and_parquet_files_are_one_plan_one_load_and_one_revert(web: WebInstance, tmp_path: Path) -> None:
    january, february = "2016-01", "2016-02"
    files = [
        csv_bytes(tmp_path, "site-a-january.csv", birth_rows(web, OWN_TRUST, january, 3, bad=1)),
        csv_bytes(tmp_path, "site-a-february.csv", birth_rows(web, OWN_TRUST, february, 2)),
        parquet_bytes(tmp_path, "site-b-january.parquet", birth_rows(web, OWN_TRUST, january, 2)),
    ]
    names = [name for name, _ in files]
    client = web.client("trust")
    before = ledger(web)
    planned = post_files(client, files)
    token = token_of(planned)
    assert plan_files(planned) == names
    assert 'data-plan-format="csv+parquet"' in planned.text
    assert '<a href="/guides/birth-record" data-format-guide>' in planned.text  # what such files must hold
    assert f'data-plan-row="{OWN_TRUST}-{january}"' in planned.text
    assert f'data-plan-row="{OWN_TRUST}-{february}"' in planned.text
    assert "Rows in the files" in planned.text and "7: 6 to load, 1 rejected" in planned.text
    assert sorted(p.name for p in uploads_left(web)) == sorted([token, *names, "plan.json"])
    assert ledger(web) == before and month_count(web, january) == 0  # nothing loaded by the plan

    loaded = confirm(client, token)
    assert 'data-upload-result="loaded"' in loaded.text, loaded.text
    assert "Loaded 6 rows (6 added, 0 replaced)" in loaded.text
    version, rows = before
    assert ledger(web) == ((version or 0) + 1, rows + 1)  # one store version, one ledger row
    assert (month_count(web, january), month_count(web, february)) == (4, 2)
    load = newest_load(web)
    assert (load.file_name, load.file_format, load.rows_loaded) == (", ".join(names), "csv+parquet", 6)
    assert f'<td class="nhsuk-table__cell">{", ".join(names)}</td>' in client.get("/data").text
    report = client.get(f"/data/loads/{load.id}/rejections.csv").text
    assert '"site-a-january.csv",4,"gestation_weeks","61"' in report  # the file and its own row
    assert uploads_left(web) == []

    again = post_files(client, list(reversed(files)))  # the same files, in another order: loaded before
    assert 'data-upload-result="duplicate"' in again.text
    assert f"These files were loaded before (load {load.id}); nothing changed." in again.text
    assert uploads_left(web) == [] and ledger(web)[1] == rows + 1

    reverted = revert(client, load.id)
    assert 'data-upload-result="reverted"' in reverted.text, reverted.text
    assert (month_count(web, january), month_count(web, february)) == (0, 0)


def test_a_months_fhir_bundles_are_one_load_with_every_bundles_births(web: WebInstance, tmp_path: Path) -> None:
    """In a full resubmission each Bundle is part of the month: the second does not replace the first."""
    month = "2016-03"
    bundles = [
        (f"bundle-{i}.json", bundle_file(tmp_path / f"bundle-{i}.json", birth_rows(web, OWN_TRUST, month, 2)))
        for i in range(3)
    ]
    bad = bundle_file(tmp_path / "bundle-bad.json", birth_rows(web, OWN_TRUST, month, 1, bad=1))
    files = [(name, path.read_bytes()) for name, path in bundles] + [("bundle-bad.json", bad.read_bytes())]
    client = web.client("trust")
    version, rows = ledger(web)
    planned = post_files(client, files)
    assert 'data-plan-format="fhir"' in planned.text
    assert plan_files(planned) == [name for name, _ in files]
    loaded = confirm(client, token_of(planned))
    assert "Loaded 6 rows (6 added, 0 replaced); 0 earlier rows removed; 1 row rejected." in loaded.text
    assert ledger(web) == ((version or 0) + 1, rows + 1)
    assert month_count(web, month) == 6
    load = newest_load(web)
    assert (load.file_format, load.mode) == ("fhir", "resubmit")
    report = client.get(f"/data/loads/{load.id}/rejections.csv").text
    assert '"bundle-bad.json"' in report and "Observation" in report  # the Bundle and its element


def test_an_msds_extracts_table_files_without_a_zip_are_one_load(web: WebInstance, tmp_path: Path) -> None:
    month = "2016-04"
    tables = msds_tables(tmp_path, birth_rows(web, OWN_TRUST, month, 3))
    client = web.client("trust")
    version, rows = ledger(web)
    planned = post_files(client, list(tables.items()), mode="upsert")
    assert 'data-plan-format="msds-tables"' in planned.text
    assert '<a href="/guides/msds" data-format-guide>' in planned.text
    assert sorted(plan_files(planned)) == sorted(tables)
    loaded = confirm(client, token_of(planned))
    assert "Loaded 3 rows (3 added, 0 replaced)" in loaded.text, loaded.text
    assert ledger(web) == ((version or 0) + 1, rows + 1)
    load = newest_load(web)
    assert load.file_format == "msds" and Path(load.file_name).name.startswith("MSD001")
    assert uploads_left(web) == []
    assert 'data-upload-result="duplicate"' in post_files(client, list(tables.items()), mode="upsert").text
    assert 'data-upload-result="reverted"' in revert(client, load.id).text
    assert month_count(web, month) == 0


def test_a_plan_of_many_files_lists_them_folded_and_cancelling_keeps_nothing(web: WebInstance, tmp_path: Path) -> None:
    files = [csv_bytes(tmp_path, f"week-{i:02d}.csv", birth_rows(web, OWN_TRUST, "2016-07", 1)) for i in range(12)]
    client = web.client("trust")
    planned = post_files(client, files, mode="upsert")
    token = token_of(planned)
    assert "This is what loading these 12 files, as one load, would do." in planned.text
    assert '<span class="nhsuk-details__summary-text">The 12 files</span>' in planned.text
    assert plan_files(planned) == [name for name, _ in files]
    client.post(f"/data/uploads/{token}/cancel", data={"csrf_token": client.headers["X-CSRF-Token"]})
    assert uploads_left(web) == [] and month_count(web, "2016-07") == 0


# -- refused by name --------------------------------------------------------------------------------
def good(web: WebInstance, tmp_path: Path, name: str = "good.csv") -> tuple[str, bytes]:
    return csv_bytes(tmp_path, name, birth_rows(web, OWN_TRUST, "2016-05"))


REFUSALS = {
    "a file of no kind the page reads": (
        lambda web, tmp: [good(web, tmp), ("notes.txt", b"some notes\n")],
        "Nothing was loaded: notes.txt is not a file of a kind this page reads. Each file must be a CSV",
        400,
    ),
    "an excel workbook": (
        lambda web, tmp: [
            good(web, tmp),
            ("births.xlsx", zip_file(tmp / "b.xlsx", {"[Content_Types].xml": b"<T/>"}).read_bytes()),
        ],
        "Nothing was loaded: births.xlsx is an Excel workbook",
        400,
    ),
    "files of different kinds": (
        lambda web, tmp: [
            good(web, tmp),
            ("bundle.json", bundle_file(tmp / "bundle.json", birth_rows(web, OWN_TRUST, "2016-05")).read_bytes()),
        ],
        "the files are of different kinds (Birth-record CSV: good.csv; FHIR R4 Bundle (JSON): bundle.json)",
        400,
    ),
    "two zips": (
        lambda web, tmp: [
            (
                f"{n}.zip",
                zip_file(tmp / f"{n}.zip", msds_tables(tmp, birth_rows(web, OWN_TRUST, "2016-05"))).read_bytes(),
            )
            for n in ("one", "two")
        ],
        "one.zip, two.zip are all zips",
        400,
    ),
    "a file without a required column": (
        lambda web, tmp: [
            good(web, tmp),
            (
                "broken.csv",
                pl.read_csv(write_rows(tmp / "b.csv", birth_rows(web, OWN_TRUST, "2016-05")), infer_schema=False)
                .drop("outcome")
                .write_csv()
                .encode(),
            ),
        ],
        "The files were not loaded: broken.csv is missing required columns: outcome.",
        400,
    ),
    "an empty file": (lambda web, tmp: [good(web, tmp), ("empty.csv", b"")], "The file empty.csv is empty.", 400),
    "two files of one name": (
        lambda web, tmp: [good(web, tmp), good(web, tmp)],
        "Two of the files have the same name, good.csv.",
        400,
    ),
    "another trust in one of the files": (
        lambda web, tmp: [good(web, tmp), csv_bytes(tmp, "other.csv", birth_rows(web, OTHER_TRUST, "2016-05"))],
        f"The files have records of 1 trust outside your organisation ({OTHER_TRUST}). Nothing was loaded.",
        403,
    ),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_upload_names_the_file_loads_nothing_and_keeps_nothing(
    refusal: str, web: WebInstance, tmp_path: Path
) -> None:
    build, words, status = REFUSALS[refusal]
    before = ledger(web)[0], month_count(web, "2016-05")
    refused_before = audit_count(web, "records.load_refused")
    assert words in error_summary(post_files(web.client("trust"), build(web, tmp_path)), status)
    assert (ledger(web)[0], month_count(web, "2016-05")) == before
    assert uploads_left(web) == []
    if status == 403:
        assert audit_count(web, "records.load_refused") == refused_before + 1


def test_an_unreadable_file_is_in_the_ledger_by_its_name_with_its_audit_event(web: WebInstance, tmp_path: Path) -> None:
    name = "latin-1.csv"
    response = post_files(web.client("trust"), [good(web, tmp_path), (name, b"record_id,trust_code\n1,R\xe9\n")])
    assert f"The files were not loaded: {name} is not UTF-8 text" in error_summary(response, 400)
    with transaction(web.settings.database_url) as session:
        load = session.scalars(select(Load).order_by(Load.id.desc()).limit(1)).one()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "records.upload_failed").order_by(AuditEvent.id.desc())
        ).first()
    assert (Path(load.file_name).name, load.status) == (name, "failed")
    assert event is not None and event.target_id == name


def test_the_size_limit_is_over_all_the_files(
    web: WebInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file within the limit, the two together over it: stopped while they are read, nothing kept."""
    monkeypatch.setattr(data, "MAX_UPLOAD_BYTES", 20_000)
    rows = write_rows(tmp_path / "rows.csv", birth_rows(web, OWN_TRUST, "2016-06")).read_text()
    padded = (rows + "#" * 12_000).encode()
    before = ledger(web)
    message = error_summary(post_files(web.client("trust"), [("one.csv", padded), ("two.csv", padded)]), 413)
    assert message.startswith("The files are larger than") and "MB together. Upload fewer at a time" in message
    assert ledger(web) == before and uploads_left(web) == []


def test_no_file_chosen_says_so(web: WebInstance) -> None:
    client = web.client("trust")
    response = post_files(client, [("", b"")])  # what a browser sends when no file was chosen
    assert error_summary(response, 400) == "Choose a file to upload."


def test_more_files_than_the_limit_are_refused_in_the_page_before_any_is_kept(
    web: WebInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "MAX_UPLOAD_FILES", 2)
    files = [(f"f{i}.csv", b"x\n") for i in range(3)]
    assert error_summary(post_files(web.client("trust"), files), 400) == "Choose at most 2 files at a time."
    assert uploads_left(web) == []
