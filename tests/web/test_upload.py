"""Uploading birth records through the real web app (the session instance, real HTTP).

The scope attack first: a trust's user uploads Parquet files whose ``trust_code`` column names
another trust in an unusual physical type. Every one is refused with 403, the reason is in the
page's NHS.UK error summary, and the store and ledger are exactly as they were.
"""

from __future__ import annotations

import csv
import html
import re
import socket
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from attackfiles import KINDS, attack_file
from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.records.schema import FIELD_NAMES, REQUIRED_FIELDS
from matneo.records.store import RecordStore
from matneo.web.pages import data
from rowbuilder import valid_row

from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance

ATTACKED_MONTH = "2021-03"  # a month of the other trust's records in the session dataset


def store_state(web: WebInstance) -> tuple:
    store = RecordStore(web.settings.records_dir)
    counts = store.connect().execute("SELECT trust_code, count(*) FROM births GROUP BY 1 ORDER BY 1").fetchall()
    with transaction(web.settings.database_url) as session:
        loads = session.scalar(select(func.count(Load.id)))
    return store.current_version(), counts, loads


def post_file(client: httpx.Client, path: Path, mode: str = "resubmit") -> httpx.Response:
    return client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": mode},
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
    )


def plan_token(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert '<h1 class="nhsuk-heading-xl">Check before loading</h1>' in response.text
    found = re.search(r'action="/data/uploads/([0-9a-f]{32})/confirm"', response.text)
    assert found, "no confirmation form"
    return found.group(1)


def confirm(client: httpx.Client, token: str, **form: str) -> httpx.Response:
    return client.post(f"/data/uploads/{token}/confirm", data={"csrf_token": client.headers["X-CSRF-Token"], **form})


@pytest.mark.parametrize("kind", KINDS)
def test_another_trusts_rows_are_refused_whatever_the_column_type(kind: str, web: WebInstance, tmp_path: Path) -> None:
    path = attack_file(tmp_path / f"births-{kind}.parquet", web.hierarchy, kind, month=ATTACKED_MONTH)
    before = store_state(web)
    with transaction(web.settings.database_url) as session:
        refusals = session.scalar(select(func.count()).where(AuditEvent.action == "records.load_refused"))
    response = post_file(web.client("trust"), path)
    assert response.status_code == 403, response.text
    assert 'class="nhsuk-error-summary"' in response.text
    assert "outside your organisation" in response.text or "not a trust in your organisation" in response.text
    assert "Nothing was loaded" in response.text
    if kind in ("binary", "dictionary", "large_string", "whitespace"):
        assert OTHER_TRUST in response.text
    assert "ATTACK-" not in response.text
    assert store_state(web) == before
    with transaction(web.settings.database_url) as session:
        after = session.scalar(select(func.count()).where(AuditEvent.action == "records.load_refused"))
    assert after == refusals + 1
    assert list((web.settings.home / "uploads").glob(f"*{path.name}")) == []


# -- hardening: size, clean-up, malformed files, plain errors ------------------------------------
def own_rows(web: WebInstance, n: int = 2, **changes: str) -> list[dict[str, str]]:
    """Valid rows of the user's own trust in May 2018, before the session dataset starts."""
    site = web.hierarchy.sites_of(OWN_TRUST)[0].code
    batch = uuid.uuid4().hex[:8]  # new content each time: a repeated file would be skipped
    when = {"birth_datetime": "2018-05-10 08:00:00", **changes}
    return [
        valid_row([(OWN_TRUST, site)], i, record_id=f"HARD-{batch}-{i}", mother_id=f"MHARD-{batch}-{i}", **when)
        for i in range(n)
    ]


def csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header or list(FIELD_NAMES)
    lines = [",".join(header)] + [",".join(row[name] for name in FIELD_NAMES) for row in rows]
    return "\n".join(lines) + "\n"


def uploads_left(web: WebInstance) -> list[Path]:
    folder = web.settings.home / "uploads"
    return sorted(folder.rglob("*")) if folder.exists() else []


def in_page_error(response: httpx.Response, status: int) -> str:
    """The message of the page's NHS.UK error summary (the Data page, not a generic error page)."""
    assert response.status_code == status, response.text
    assert '<h1 class="nhsuk-heading-xl">Data</h1>' in response.text
    summary = re.search(r'class="nhsuk-error-summary".*?<p>(.*?)</p>', response.text, re.S)
    assert summary, "no error summary"
    return html.unescape(summary.group(1))


def test_a_file_declared_too_large_is_refused_before_its_body_is_read(web: WebInstance) -> None:
    """600 MB announced, nothing sent: the answer comes at once (the server does not wait to read it)."""
    client = web.client("trust")
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    host, port = web.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                "POST /data/upload HTTP/1.1\r\n"
                f"Host: {host}\r\nCookie: {cookies}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                f"Content-Length: {600 * 1024 * 1024}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"</html>" not in answer:
            chunk = sock.recv(65536)
            assert chunk, "connection closed without a page"
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert "The file is larger than 512 MB" in body.decode()
    assert 'class="nhsuk-error-summary"' in body.decode()


def test_a_file_larger_than_the_limit_is_stopped_while_it_is_read(
    web: WebInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the declared-size allowance but over the limit: the copy stops and nothing is kept."""
    monkeypatch.setattr(data, "MAX_UPLOAD_BYTES", 20_000)
    big = tmp_path / "big.csv"
    big.write_text(csv_text(own_rows(web, 2)) + "#" * 30_000)
    before = store_state(web)
    message = in_page_error(post_file(web.client("trust"), big), 413)
    assert "larger than" in message
    assert store_state(web) == before
    assert uploads_left(web) == []


def test_every_upload_is_deleted_after_its_load(web: WebInstance, tmp_path: Path) -> None:
    client = web.client("trust")
    good = tmp_path / "good.csv"
    good.write_text(csv_text(own_rows(web)))
    token = plan_token(post_file(client, good))
    assert [p.name for p in uploads_left(web)] == [token, "good.csv", "plan.json"]  # kept until confirmed
    assert 'data-upload-result="loaded"' in confirm(client, token).text
    assert uploads_left(web) == []
    again = post_file(client, good)  # skipped as a duplicate, without a plan
    assert 'data-upload-result="duplicate"' in again.text
    broken = tmp_path / "broken.csv"
    broken.write_text(csv_text(own_rows(web), header=[n for n in FIELD_NAMES if n != "outcome"]))
    assert post_file(client, broken).status_code == 400
    assert uploads_left(web) == []


def test_a_header_with_spaces_around_names_loads(web: WebInstance, tmp_path: Path) -> None:
    path = tmp_path / "spaced.csv"
    path.write_text(csv_text(own_rows(web), header=[f" {n}" if n == "record_id" else n for n in FIELD_NAMES]))
    client = web.client("trust")
    response = confirm(client, plan_token(post_file(client, path, mode="upsert")))
    assert response.status_code == 200, response.text
    assert "Loaded 2 rows (2 added, 0 replaced); 0 earlier rows removed; 0 rows rejected." in response.text


def test_a_file_with_only_the_required_columns_loads_and_says_which_are_absent(
    web: WebInstance, tmp_path: Path
) -> None:
    required = list(REQUIRED_FIELDS)
    rows = own_rows(web)
    path = tmp_path / "required-only.csv"
    path.write_text("\n".join([",".join(required)] + [",".join(r[n] for n in required) for r in rows]) + "\n")
    client = web.client("trust")
    planned = post_file(client, path, mode="upsert")
    token = plan_token(planned)
    notice = re.search(r"data-absent-columns>(.*?)</div>", planned.text, re.S)
    assert notice and "site_code, birth_weight_g, sex" in notice.group(1)
    assert "optional" in notice.group(1)
    done = confirm(client, token)
    assert "Loaded 2 rows (2 added, 0 replaced); 0 earlier rows removed; 0 rows rejected." in done.text
    result = re.search(r"data-absent-columns>(.*?)</div>", done.text, re.S)
    assert result and "perineal_tear_degree" in result.group(1)


def test_an_unterminated_quote_is_a_plain_error_without_row_contents(web: WebInstance, tmp_path: Path) -> None:
    rows = own_rows(web, 3)
    rows[1]["record_id"] = '"' + rows[1]["record_id"]
    path = tmp_path / "quote.csv"
    path.write_text(csv_text(rows))
    message = in_page_error(post_file(web.client("trust"), path), 400)
    assert "closing quote" in message
    for row in rows:
        assert row["mother_id"] not in message
    national = web.client("national").get("/data")
    failed = re.search(r'data-load="\d+">.*?quote\.csv.*?</tr>', national.text, re.S)
    assert failed and "closing quote" in failed.group(0)
    assert not any(row["mother_id"] in national.text or row["record_id"] in national.text for row in rows)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("births.xls", b"\xd0\xcf\x11\xe0 not a spreadsheet we read", "must be a CSV (.csv) or Parquet (.parquet)"),
        ("births.xlsx", b"PK\x03\x04 a damaged zip", "is not a zip file that can be read"),
        ("births.txt", b"record_id,trust_code\n", "must be a CSV (.csv) or Parquet (.parquet)"),
        ("empty.csv", b"", "The file is empty"),
        ("header-only.csv", (",".join(FIELD_NAMES) + "\n").encode(), "has no records: only a header row"),
        ("no-outcome.csv", None, "is missing required columns: outcome"),
    ],
)
def test_upload_problems_are_shown_in_the_data_page(
    name: str, content: bytes | None, words: str, web: WebInstance, tmp_path: Path
) -> None:
    path = tmp_path / name
    if content is None:
        path.write_text(csv_text(own_rows(web), header=[n for n in FIELD_NAMES if n != "outcome"]))
    else:
        path.write_bytes(content)
    before = store_state(web)[:2]
    assert words in in_page_error(post_file(web.client("trust"), path), 400)
    assert store_state(web)[:2] == before
    assert uploads_left(web) == []


def failed_uploads(web: WebInstance, file_name: str) -> tuple[list[Load], list[AuditEvent]]:
    """The ledger rows and ``records.upload_failed`` audit events of a failed upload with this name."""
    with transaction(web.settings.database_url) as session:
        loads = session.scalars(select(Load).where(Load.status == "failed")).all()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "records.upload_failed", AuditEvent.target_id == file_name)
        ).all()
        return [load for load in loads if Path(load.file_name).name == file_name], list(events)


def test_an_unreadable_upload_is_in_the_ledger_only_with_its_audit_event(web: WebInstance, tmp_path: Path) -> None:
    """The failed load and its audit event are one transaction: when the audit write fails, no ledger row is kept.

    The audit write is made to fail for real, by a trigger in the instance's database. Before, the
    ledger row was committed first and the audit event second, so this left a failed load nobody
    audited.
    """
    name = f"unreadable-{uuid.uuid4().hex[:8]}.csv"
    path = tmp_path / name
    path.write_bytes(b"record_id,trust_code\n1,R\xe9\n")
    database = sqlite3.connect(web.settings.home / "matneo.db")
    try:
        database.execute(
            "CREATE TRIGGER refuse_upload_failed BEFORE INSERT ON audit_events "
            "WHEN NEW.action = 'records.upload_failed' BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )
        database.commit()
        response = post_file(web.client("trust"), path)
        assert response.status_code == 500
        assert failed_uploads(web, name) == ([], [])
        assert uploads_left(web) == []
    finally:
        database.execute("DROP TRIGGER IF EXISTS refuse_upload_failed")
        database.commit()
        database.close()
    assert "is not UTF-8 text" in in_page_error(post_file(web.client("trust"), path), 400)
    loads, events = failed_uploads(web, name)
    assert len(loads) == 1 and len(events) == 1
    assert loads[0].actor == events[0].actor == web.users["trust"][0]
    assert "UTF-8" in (loads[0].error or "") and "UTF-8" in events[0].details


# -- resubmission never destroys data silently: plan, modes, partial months, revert ---------------
RESUBMITTED = (2019, 3)  # a month of the user's trust in the session dataset


def month_records(web: WebInstance, trust: str = OWN_TRUST) -> list[tuple]:
    sql = "SELECT record_id, birth_weight_g FROM births WHERE trust_code = ? AND year = ? AND month = ? ORDER BY 1"
    store = RecordStore(web.settings.records_dir)
    return store.connect().execute(sql, [trust, *RESUBMITTED]).fetchall()


def month_rows(web: WebInstance, n: int, **changes: str) -> list[dict[str, str]]:
    return own_rows(web, n, birth_datetime=f"{RESUBMITTED[0]}-{RESUBMITTED[1]:02d}-14 11:00:00", **changes)


def revert_button(client: httpx.Client, load_id: int, confirm: str = "yes") -> httpx.Response:
    """The confirmation page's "Revert load N" button (``confirm=yes``)."""
    data = {"csrf_token": client.headers["X-CSRF-Token"], "confirm": confirm}
    return client.post(f"/data/loads/{load_id}/revert", data=data)


def newest_load(web: WebInstance) -> Load:
    with transaction(web.settings.database_url) as session:
        return session.scalars(select(Load).order_by(Load.id.desc()).limit(1)).one()


def test_a_short_resubmission_shows_its_plan_needs_a_second_confirmation_and_can_be_reverted(
    web: WebInstance, tmp_path: Path
) -> None:
    client = web.client("trust")
    before = month_records(web)
    existing = len(before)
    path = tmp_path / "march.csv"
    path.write_text(csv_text(month_rows(web, 3)))
    plan = post_file(client, path)
    token = plan_token(plan)
    text = html.unescape(plan.text)
    assert f"This replaces {existing} records of {OWN_TRUST} March 2019 with 3." in text
    assert "data-plan-shrinking" in plan.text and "Fewer than half" in plan.text
    assert month_records(web) == before  # nothing loaded by the plan

    refused = confirm(client, token)  # the partial month is not confirmed: the plan again, with the problem
    assert refused.status_code == 400
    assert "Confirm that the file holds every record" in html.unescape(refused.text)
    assert 'class="nhsuk-error-summary"' in refused.text and f"/data/uploads/{token}/confirm" in refused.text
    assert month_records(web) == before

    loaded = confirm(client, token, allow_shrink="yes")
    assert loaded.status_code == 200, loaded.text
    assert f"Loaded 3 rows (3 added, 0 replaced); {existing} earlier rows removed" in loaded.text
    assert len(month_records(web)) == 3
    load = newest_load(web)
    assert (load.mode, load.rows_added, load.rows_removed, load.actor) == (
        "resubmit",
        3,
        existing,
        "trust@test.invalid",
    )
    row = re.search(rf'data-load="{load.id}">(.*?)</tr>', loaded.text, re.S).group(1)
    assert "Full resubmission" in row and f">{existing:,}<" in row and "Revert this load" in row
    assert re.search(r">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}<", row)  # '2 Dec 2026, 17:46'

    check = client.get(f"/data/loads/{load.id}/revert")  # the row's link: what reverting would do
    assert check.status_code == 200 and "Nothing has changed yet" in check.text
    row = re.search(rf'data-revert-row="{OWN_TRUST}">(.*?)</tr>', check.text, re.S).group(1)
    assert "March 2019" in row and re.findall(r">([\d,]+)<", row) == ["3", f"{existing:,}"]
    unconfirmed = revert_button(client, load.id, confirm="")  # a post without the confirmation
    assert unconfirmed.status_code == 400 and "data-revert-confirm" in unconfirmed.text
    assert len(month_records(web)) == 3  # nothing reverted

    reverted = revert_button(client, load.id)
    assert reverted.status_code == 200, reverted.text
    assert f"Load {load.id} was reverted: {OWN_TRUST} March 2019 has {existing} records again." in reverted.text
    assert month_records(web) == before
    with transaction(web.settings.database_url) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "records.load_reverted")).all()[-1]
    assert event.actor == "trust@test.invalid"


def test_add_or_correct_keeps_the_rest_of_the_month(web: WebInstance, tmp_path: Path) -> None:
    client = web.client("trust")
    before = month_records(web)
    corrected_id = before[0][0]
    rows = month_rows(web, 2, birth_weight_g="2345")
    rows[0]["record_id"] = corrected_id
    path = tmp_path / "fix.csv"
    path.write_text(csv_text(rows))
    plan = post_file(client, path, mode="upsert")
    assert f"This replaces {len(before)} records of {OWN_TRUST} March 2019 with {len(before) + 1}." in html.unescape(
        plan.text
    )
    assert "data-plan-shrinking" not in plan.text
    loaded = confirm(client, plan_token(plan))
    assert "Loaded 2 rows (1 added, 1 replaced); 0 earlier rows removed" in loaded.text
    after = dict(month_records(web))
    assert len(after) == len(before) + 1 and after[corrected_id] == 2345
    assert revert_button(client, newest_load(web).id).status_code == 200
    assert month_records(web) == before


def test_a_later_load_blocks_the_revert_of_an_earlier_one(web: WebInstance, tmp_path: Path) -> None:
    client = web.client("trust")
    before = month_records(web)
    ids = []
    for name in ("one.csv", "two.csv"):
        path = tmp_path / name
        path.write_text(csv_text(month_rows(web, 1)))
        confirm(client, plan_token(post_file(client, path, mode="upsert")))
        ids.append(newest_load(web).id)
    check = client.get(f"/data/loads/{ids[0]}/revert")
    assert "data-revert-blocked" in check.text and "data-revert-confirm" not in check.text
    assert f"newest: load {ids[1]}" in html.unescape(check.text)
    blocked = revert_button(client, ids[0])
    assert blocked.status_code == 409
    message = html.unescape(blocked.text)
    assert f"Load {ids[0]} cannot be reverted" in message and f"load {ids[1]} (" in message
    assert 'class="nhsuk-error-summary"' in blocked.text
    assert revert_button(client, ids[1]).status_code == 200
    assert revert_button(client, ids[0]).status_code == 200
    assert month_records(web) == before


def test_cancelling_deletes_the_upload_and_loads_nothing(web: WebInstance, tmp_path: Path) -> None:
    client = web.client("trust")
    before = store_state(web)
    path = tmp_path / "cancel.csv"
    path.write_text(csv_text(month_rows(web, 2)))
    token = plan_token(post_file(client, path))
    other = web.client("lmns")  # someone else cannot confirm or cancel it
    assert confirm(other, token).status_code == 404
    assert client.post(f"/data/uploads/{token}/confirm", data={}).status_code == 403  # no CSRF token
    response = client.post(f"/data/uploads/{token}/cancel", data={"csrf_token": client.headers["X-CSRF-Token"]})
    assert response.status_code == 303
    assert "nothing was loaded" in client.get(response.headers["location"]).text
    assert uploads_left(web) == [] and store_state(web) == before
    assert confirm(client, token).status_code == 404


def test_an_upload_needs_a_mode(web: WebInstance, tmp_path: Path) -> None:
    path = tmp_path / "nomode.csv"
    path.write_text(csv_text(own_rows(web)))
    assert "full resubmission" in in_page_error(post_file(web.client("trust"), path, mode=""), 400)
    assert uploads_left(web) == []


def test_the_data_page_shows_coverage_not_no_loads(web: WebInstance) -> None:
    """The trust's records came in the national load: the page shows them per site, not 'No loads'."""
    page = web.client("trust").get("/data").text
    assert 'data-table="coverage"' in page
    for site in web.hierarchy.sites_of(OWN_TRUST):
        assert f'data-coverage="{site.code}"' in page
    assert "No loads for your organisation yet" not in page
    assert 'data-coverage="RJ1' not in page  # another trust's sites are not in the trust's coverage
    national = web.client("national").get("/data").text
    assert f'data-coverage="{OWN_TRUST}"' in national and f'data-coverage="{OTHER_TRUST}"' in national


def test_gaps_are_months_without_births_between_months_with_births() -> None:
    assert data._gaps([5, 0, 3, 0]) == [False, True, False, False]
    assert data._gaps([0, 0, 4, 4]) == [False, False, False, False]
    assert data._gaps([0, 0, 0]) == [True, True, True]


def test_the_rejection_report_download_holds_no_formulas_and_no_server_paths(web: WebInstance, tmp_path: Path) -> None:
    """The attack over real HTTP: values that would run in the downloader's spreadsheet (OWASP CSV
    Injection). Before, the report held them as typed and named the upload by its server path."""
    client = web.client("trust")
    rows = own_rows(web, 3)
    rows[1]["birth_weight_g"] = "=cmd|' /C calc'!A0"
    rows[2]["sex"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    path = tmp_path / "formulas.csv"
    path.write_text(csv_text(rows))
    loaded = confirm(client, plan_token(post_file(client, path, mode="upsert")))
    assert "2 rows rejected" in loaded.text, loaded.text
    report = client.get(f"/data/loads/{newest_load(web).id}/rejections.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert str(web.settings.home) not in report.text and "uploads" not in report.text
    cells = [cell for line in csv.reader(report.text.splitlines()[1:]) for cell in line]
    assert "formulas.csv" in cells and "'=cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
