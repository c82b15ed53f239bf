"""The shared trail writer and lock: the row as harm and review trails store it, one answer for unseen rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matneo.config import Settings
from matneo.db.models import HarmChange
from matneo.db.session import transaction
from matneo.db.trail import TrailWriter, locked_visible, trail_json
from matneo.reviews.models import ReviewChange


def test_trail_json_sorts_keys_writes_dates_as_text_and_keeps_none() -> None:
    assert trail_json(None) is None
    assert trail_json({"b": 1, "a": dt.date(2026, 12, 3)}) == '{"a": "2026-12-03", "b": 1}'
    assert trail_json({}) == "{}", "an empty value is a value, not None"


def test_one_writer_fills_both_trails_alike(app_store: Settings) -> None:
    with transaction(app_store.database_url) as session:
        TrailWriter(HarmChange, "report_id")(session, 7, "a@x.test", "answer.changed", "Q", {"z": 1, "a": 2}, None)
        TrailWriter(ReviewChange, "review_id")(
            session, 9, "b@x.test", "grade.set", "G", None, {"grade": "B"}, sensitive=True
        )
    with transaction(app_store.database_url) as session:
        harm = session.scalars(select(HarmChange)).one()
        review = session.scalars(select(ReviewChange)).one()
    assert (harm.report_id, harm.before, harm.after, harm.sensitive) == (7, '{"a": 2, "z": 1}', None, False)
    assert (review.review_id, review.before, review.after, review.sensitive) == (9, None, '{"grade": "B"}', True)
    assert harm.at is not None and review.at is not None


def test_locked_visible_gives_one_answer_for_missing_and_unseen(app_store: Settings) -> None:
    with transaction(app_store.database_url) as session:
        TrailWriter(HarmChange, "report_id")(session, 7, "a@x.test", "draft.saved", "Draft")
    with transaction(app_store.database_url) as session:
        row_id = session.scalars(select(HarmChange.id)).one()
        found = locked_visible(session, HarmChange, row_id, lambda row: row.report_id == 7, LookupError("none"))
        assert found.id == row_id
        with pytest.raises(LookupError, match="none"):
            locked_visible(session, HarmChange, row_id, lambda row: row.report_id == 8, LookupError("none"))
        with pytest.raises(LookupError, match="none"):
            locked_visible(session, HarmChange, row_id + 1, lambda row: True, LookupError("none"))


def test_a_trail_writer_fixes_the_table_and_id_column(app_store: Settings) -> None:
    write = TrailWriter(ReviewChange, "review_id")
    with transaction(app_store.database_url) as session:
        write(session, 3, "c@x.test", "issue.added", "Issue", None, {"text": "late"}, sensitive=True)
    with transaction(app_store.database_url) as session:
        row = session.scalars(select(ReviewChange)).one()
        assert session.scalars(select(HarmChange)).first() is None
    assert (row.review_id, row.action, row.after, row.sensitive) == (3, "issue.added", '{"text": "late"}', True)
