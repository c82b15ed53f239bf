"""Removing an evidence item while the very same file is being uploaded again never leaves an item
naming a deleted file (ADR 0016, "2026-12-04: removal and upload of the same file"): driven for
real, with threads on one database, many times, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from matneo.assurance import evidence
from matneo.config import Settings
from matneo.db.models import EvidenceItem
from matneo.db.session import transaction

TODAY = dt.date(2026, 12, 3)
TRUST = "R0A"
PDF = b"%PDF-1.7\n1 0 obj << /Title (Board minutes) >> endobj\n%%EOF\n"
SHA = hashlib.sha256(PDF).hexdigest()
ROUNDS = 40
JITTER = 0.01  # seconds


def received(home: Path) -> evidence.StoredFile:
    """The upload as the web page receives it: copied in a chunk at a time, checked, hashed."""
    receiver = evidence.Receiver(evidence.store_dir(home), "minutes.pdf")
    receiver.feed(PDF[:20])
    receiver.feed(PDF[20:])
    return receiver.finish()


def attach(url: str, stored: evidence.StoredFile, title: str) -> int:
    return evidence.add(url, TRUST, {"kind": "minutes", "title": title}, stored, actor="lead@r0a", actor_org=TRUST,
                        today=TODAY)  # fmt: skip


def every_item_has_its_file(url: str, home: Path) -> list[int]:
    """The items naming a file; each file must be in the store and hold the bytes its hash names."""
    with transaction(url) as session:
        rows = list(
            session.execute(select(EvidenceItem.id, EvidenceItem.sha256).where(EvidenceItem.sha256.isnot(None)))
        )
    for item_id, sha256 in rows:
        path = evidence.store_dir(home) / sha256[:2] / sha256
        assert path.is_file(), f"evidence item {item_id} names a file that is no longer stored"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    return [item_id for item_id, _ in rows]


def race(url: str, home: Path, holder: int, title: str, jitter: float) -> tuple[bool, int]:
    """Remove ``holder`` while the same bytes, already received, are added as a new item; both
    start together, one ``jitter`` seconds after the other (so either may reach the file first).
    (Whether the removal deleted the file, the new item's id.)"""
    start = threading.Barrier(2)

    def removing() -> bool:
        start.wait()
        time.sleep(jitter)
        return evidence.remove(url, home, TRUST, holder, "Attached twice", actor="lead@r0a", actor_org=TRUST)

    def uploading() -> int:
        stored = received(home)  # the same bytes, received (and found stored already) before the race
        start.wait()
        time.sleep(JITTER - jitter)
        return attach(url, stored, title)

    with ThreadPoolExecutor(2) as pool:
        removal, upload = pool.submit(removing), pool.submit(uploading)
        return removal.result(), upload.result()


def test_a_removal_racing_an_upload_of_the_same_file_never_loses_it(settings: Settings) -> None:
    url, home = settings.database_url, settings.home
    holder = attach(url, received(home), "Minutes, round 0")
    rng = random.Random(16)
    deleted_then_restored = kept = 0
    for n in range(1, ROUNDS + 1):
        file_deleted, holder = race(url, home, holder, f"Minutes, round {n}", rng.uniform(0, JITTER))
        assert every_item_has_its_file(url, home) == [holder]
        deleted_then_restored += file_deleted
        kept += not file_deleted
    # both orders happened: the removal deleted the file and the upload put it back, and the
    # upload committed first so the removal kept the file
    assert deleted_then_restored and kept, (deleted_then_restored, kept)
    # the last item removed: its file goes, and nothing is left waiting in incoming/
    assert evidence.remove(url, home, TRUST, holder, "Done", actor="lead@r0a", actor_org=TRUST)
    assert not (evidence.store_dir(home) / SHA[:2] / SHA).exists()
    assert not list((evidence.store_dir(home) / "incoming").iterdir())
