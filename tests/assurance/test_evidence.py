"""Evidence once, mapped to many: the file store's checks, the writes and their audit, and who sees what
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from matneo.assurance import evidence
from matneo.assurance.evidence import EvidenceProblem, Receiver, sniff, store_dir
from matneo.assurance.tracker import FieldProblem
from matneo.config import Settings
from matneo.db.models import AuditEvent, EvidenceMapping
from matneo.db.session import transaction

TODAY = dt.date(2026, 12, 3)
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def office(main_part: str) -> bytes:
    """A minimal Office Open XML package: the content-types part and the main part (ECMA-376 Part 2)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(main_part, "<x/>")
    return buffer.getvalue()


def store(home: Path, name: str, data: bytes, limit: int = evidence.MAX_BYTES, chunk: int = 7) -> evidence.StoredFile:
    receiver = Receiver(store_dir(home), name, limit)
    for start in range(0, len(data), chunk):
        receiver.feed(data[start : start + chunk])
    return receiver.finish()


def test_the_type_comes_from_the_first_bytes_not_the_name() -> None:
    assert sniff(PDF, "minutes.docx") == "pdf"  # a PDF named .docx is a PDF
    assert sniff(PNG, "x.png") == "png" and sniff(b"\xff\xd8\xff\xe0rest", "x.jpg") == "jpeg"
    assert sniff(b"PK\x03\x04...", "x.xlsx") == "zip"  # told apart after the whole file is in
    assert sniff(b"month,trained\n2026-01,91\n", "training.csv") == "csv"
    assert sniff(b"month,trained\n", "training.txt") is None  # text is only accepted as a .csv
    assert sniff(b"<html><script>alert(1)</script>", "page.csv") == "csv"  # text; served as a download only
    assert sniff(b"MZ\x90\x00\x03", "report.pdf") is None  # a Windows program named .pdf
    assert sniff(b"a,b\x00\x01", "x.csv") is None  # binary with a .csv name
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "chart.svg") is None  # SVG can carry script


def test_files_are_stored_by_content_checked_while_they_arrive(tmp_path: Path) -> None:
    first = store(tmp_path, "../../etc/Board minutes.pdf", PDF)
    assert first.kind == "pdf" and first.file_name == "Board minutes.pdf" and first.size == len(PDF)
    path = store_dir(tmp_path) / first.sha256[:2] / first.sha256
    assert first.received is not None and first.received.parent == store_dir(tmp_path) / "incoming"
    assert first.received.read_bytes() == PDF and first.received.stat().st_mode & 0o777 == 0o600
    assert not path.exists(), "a received file goes in place only with the item that names it"
    again = store(tmp_path, "copy.pdf", PDF)
    assert again.sha256 == first.sha256 and again.file_name == "copy.pdf"
    assert store(tmp_path, "plan.docx", office("word/document.xml")).kind == "docx"
    assert store(tmp_path, "audit.xlsx", office("xl/workbook.xml")).file_name == "audit.xlsx"
    assert store(tmp_path, "photo.pdf", PNG).file_name == "photo.png"  # named by what it is
    waiting = set((store_dir(tmp_path) / "incoming").iterdir())  # the five accepted, until added
    assert len(waiting) == 5
    for name, data, words in (
        ("virus.pdf", b"MZ\x90\x00" * 10, "must be a PDF"),
        ("archive.docx", office("other/thing.xml"), "must be a PDF"),  # a ZIP that is no Office file
        ("empty.pdf", b"", "empty"),
    ):
        with pytest.raises(EvidenceProblem, match=words):
            store(tmp_path, name, data)
    with pytest.raises(EvidenceProblem, match="larger than") as big:
        store(tmp_path, "big.pdf", PDF + b"0" * 100, limit=64)
    assert big.value.status == 413
    assert set((store_dir(tmp_path) / "incoming").iterdir()) == waiting, "refused uploads leave nothing behind"


def test_evidence_is_attached_once_mapped_to_many_and_audited(settings: Settings) -> None:
    url, home = settings.database_url, settings.home
    stored = store(home, "Safety champions meeting.pdf", PDF)
    values = {"kind": "minutes", "title": "Safety champions' meeting, October", "dated": "2026-10-14"}
    first = evidence.add(url, "R0A", values, stored, maps_to=["cnst_mis_y2:SA9"], actor="lead@r0a", actor_org="R0A",
                         today=TODAY)  # fmt: skip
    assert evidence.map_item(url, "R0A", first, "ockenden_first:IEA1", actor="lead@r0a", actor_org="R0A")
    assert not evidence.map_item(url, "R0A", first, "ockenden_first:IEA1", actor="lead@r0a", actor_org="R0A")
    link = evidence.add(url, "R0A", {"kind": "link", "title": "Training dashboard", "link": "https://intranet.example/t"},
                        None, actor="lead@r0a", actor_org="R0A", today=TODAY)  # fmt: skip
    view = evidence.one(url, "R0A", first, actor_org="R0A")
    assert [i.key for i in view.requirements] == ["cnst_mis_y2:SA9", "ockenden_first:IEA1"]
    assert [v.id for v in evidence.for_requirement(url, "R0A", "ockenden_first:IEA1", actor_org="R0A")] == [first]
    assert [v.id for v in evidence.library(url, "R0A", actor_org="R0A")] == [link, first]  # newest first
    assert evidence.unmap_item(url, "R0A", first, "ockenden_first:IEA1", actor="lead@r0a", actor_org="R0A")
    assert not evidence.unmap_item(url, "R0A", first, "ockenden_first:IEA1", actor="lead@r0a", actor_org="R0A")
    path, name, content_type = evidence.download(url, home, "R0A", first, actor="lead@r0a", actor_org="R0A")
    assert path.read_bytes() == PDF and name == "Safety champions meeting.pdf" and content_type == "application/pdf"
    with transaction(url) as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert [a for a in actions if a.startswith("assurance.evidence")] == [
        "assurance.evidence_added",
        "assurance.evidence_mapped",
        "assurance.evidence_added",
        "assurance.evidence_unmapped",
        "assurance.evidence_downloaded",
    ]
    held = evidence.counts(url, ["R0A", "RJ1"])
    assert held["R0A"].items == 2 and held["R0A"].requirements == 1 and held["RJ1"].items == 0
    # suggestions follow the frameworks' links: MIS SA9 ↔ Ockenden IEA1, and the same action next year
    assert [i.key for i in evidence.suggestions(evidence.one(url, "R0A", first, actor_org="R0A"))] == [
        "cnst_mis_y5:SA9",
        "ockenden_first:IEA1",
    ]


def test_a_file_is_stored_once_with_the_items_naming_it_and_nothing_is_left_by_a_failed_add(
    settings: Settings,
) -> None:
    url, home = settings.database_url, settings.home
    incoming = store_dir(home) / "incoming"

    def add(stored: evidence.StoredFile, maps_to: tuple[str, ...] = (), actor_org: str = "R0A") -> int:
        return evidence.add(url, "R0A", {"kind": "document", "title": "Policy"}, stored, maps_to=maps_to,
                            actor="lead@r0a", actor_org=actor_org, today=TODAY)  # fmt: skip

    first = store(home, "policy.pdf", PDF)
    path = store_dir(home) / first.sha256[:2] / first.sha256
    add(first)
    assert path.read_bytes() == PDF and path.stat().st_mode & 0o777 == 0o600
    add(store(home, "copy.pdf", PDF))  # the same bytes: stored once, the second copy dropped
    assert [p for p in store_dir(home).rglob("*") if p.is_file()] == [path]
    # a failed add leaves neither the received copy nor a file no item names
    with pytest.raises(KeyError):
        add(store(home, "plan.png", PNG), maps_to=("cnst_mis_y2:SA99",))
    with pytest.raises(PermissionError):
        add(store(home, "plan.png", PNG), actor_org="RJ1")
    assert not list(incoming.iterdir()) and [p for p in store_dir(home).rglob("*") if p.is_file()] == [path]
    # an item naming a file missing from the store (lost before this was fixed): the same bytes
    # uploaded again put it back
    path.unlink()
    add(store(home, "again.pdf", PDF))
    assert path.read_bytes() == PDF
    # bytes no longer waiting in incoming/ (deleted by hand): refused, never an item without its file
    path.unlink()
    gone = store(home, "gone.pdf", PDF)
    assert gone.received is not None
    gone.received.unlink()
    with pytest.raises(EvidenceProblem, match="not received completely"):
        add(gone)
    assert evidence.counts(url, ["R0A"])["R0A"].items == 3


def test_only_the_trusts_own_staff_see_or_change_its_evidence(settings: Settings) -> None:
    url = settings.database_url
    mine = evidence.add(url, "R0A", {"kind": "link", "title": "Policy", "link": "https://intranet.example/p"}, None,
                        actor="lead@r0a", actor_org="R0A", today=TODAY)  # fmt: skip
    for call in (
        lambda: evidence.library(url, "R0A", actor_org="RJ1"),
        lambda: evidence.one(url, "R0A", mine, actor_org="RJ1"),
        lambda: evidence.for_requirement(url, "R0A", "cnst_mis_y2:SA1", actor_org="RJ1"),
        lambda: evidence.map_item(url, "R0A", mine, "cnst_mis_y2:SA1", actor="x", actor_org="RJ1"),
        lambda: evidence.download(url, settings.home, "R0A", mine, actor="x", actor_org="RJ1"),
        lambda: evidence.add(
            url,
            "R0A",
            {"kind": "link", "title": "t", "link": "https://a.example"},
            None,
            actor="x",
            actor_org="RJ1",
            today=TODAY,
        ),
    ):
        with pytest.raises(PermissionError):
            call()
    with pytest.raises(LookupError):  # RJ1's staff asking for R0A's item as if it were theirs
        evidence.map_item(url, "RJ1", mine, "cnst_mis_y2:SA1", actor="x", actor_org="RJ1")
    with pytest.raises(LookupError):  # a link has no file to download
        evidence.download(url, settings.home, "R0A", mine, actor="x", actor_org="R0A")
    problems = [
        ({"kind": "poster", "title": "t"}, "kind"),
        ({"kind": "link", "title": ""}, "title"),
        ({"kind": "link", "title": "t"}, "link"),
        ({"kind": "link", "title": "t", "link": "javascript:alert(1)"}, "link"),
        ({"kind": "document", "title": "t"}, "file"),
        ({"kind": "link", "title": "t", "link": "https://a.example", "dated": "31/12/2026"}, "dated"),
        ({"kind": "link", "title": "t", "link": "https://a.example", "dated": "2026-12-04"}, "dated"),
    ]
    for values, field in problems:
        with pytest.raises(FieldProblem) as problem:
            evidence.add(url, "R0A", values, None, actor="x", actor_org="R0A", today=TODAY)
        assert problem.value.field == field
    with pytest.raises(KeyError):
        evidence.add(url, "R0A", {"kind": "link", "title": "t", "link": "https://a.example"}, None,
                     maps_to=["cnst_mis_y2:SA99"], actor="x", actor_org="R0A", today=TODAY)  # fmt: skip
    with transaction(url) as session:
        assert session.scalars(select(EvidenceMapping)).all() == []


def test_the_migration_goes_down_and_up_again(settings: Settings) -> None:
    """0016 removes its three tables on downgrade and puts them back (SQLite and PostgreSQL)."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from matneo.db.session import _alembic_config, get_engine, migrate

    config = _alembic_config()
    before = ScriptDirectory.from_config(config).get_revision("0016").down_revision  # whatever it follows
    with get_engine(settings.database_url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(before))
    ours = {"evidence_items", "evidence_mappings", "voice_figures"}
    assert not ours & set(inspect(get_engine(settings.database_url)).get_table_names())
    migrate(settings.database_url)
    assert ours <= set(inspect(get_engine(settings.database_url)).get_table_names())
