"""The signals register on both app-store backends: raise, update, acknowledge, close, history."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from matneo.auth.users import audit_trail
from matneo.config import Settings
from matneo.db.session import prepare
from matneo.signals.detect import SIGNAL_COLUMNS
from matneo.signals.register import acknowledge, current, refresh


def detected(*rows: tuple[str, str, str, dt.date]) -> pl.DataFrame:
    return pl.DataFrame(
        [(t, m, method, day, f"{method} on {day}", 1.5) for t, m, method, day in rows],
        schema=SIGNAL_COLUMNS,
        orient="row",
    )


def test_lifecycle(settings: Settings) -> None:
    settings.ensure_dirs()
    prepare(settings.database_url)
    url = settings.database_url
    first = detected(("R0A", "stillbirth_rate", "cusum", dt.date(2019, 3, 4)))
    assert refresh(url, first, dt.date(2019, 6, 30)).raised == 1
    (entry,) = current(url)
    assert (entry["trust_code"], entry["status"], entry["since"]) == ("R0A", "open", "2019-03-04")

    later = detected(
        ("R0A", "stillbirth_rate", "cusum", dt.date(2019, 3, 4)),
        ("R0A", "stillbirth_rate", "cusum", dt.date(2019, 8, 1)),
        ("RXX", "brain_injury_rate", "funnel", dt.date(2017, 12, 31)),  # outside the 12-month window
    )
    summary = refresh(url, later, dt.date(2019, 9, 30))
    assert (summary.raised, summary.updated, summary.closed) == (0, 1, 0)
    (entry,) = current(url)
    assert entry["last_signal"] == "2019-08-01" and entry["since"] == "2019-03-04"

    acknowledge(url, entry["id"], "head.of.midwifery@example.nhs.uk", "Thematic review of 2019 stillbirths started")
    (entry,) = current(url)
    assert entry["status"] == "acknowledged"
    assert [h["action"] for h in entry["history"]] == ["raised", "updated", "acknowledged"]
    assert entry["history"][-1]["by"] == "head.of.midwifery@example.nhs.uk"
    (event,) = audit_trail(url)
    assert (event["action"], event["actor"], event["target"]) == (
        "signal.acknowledge",
        "head.of.midwifery@example.nhs.uk",
        f"signal:{entry['id']}",
    )

    assert refresh(url, later, dt.date(2020, 9, 30)).closed == 1  # nothing in the 12 months to Sept 2020
    assert current(url) == []
    (closed,) = current(url, include_closed=True)
    assert closed["history"][-1]["action"] == "closed"
    with pytest.raises(ValueError, match="is closed"):
        acknowledge(url, closed["id"], "someone", "too late")


def test_acknowledging_needs_a_person_and_a_reason(settings: Settings) -> None:
    settings.ensure_dirs()
    prepare(settings.database_url)
    refresh(
        settings.database_url, detected(("R0A", "stillbirth_rate", "spc", dt.date(2019, 5, 31))), dt.date(2019, 6, 30)
    )
    (entry,) = current(settings.database_url)
    with pytest.raises(ValueError, match="comment is required"):
        acknowledge(settings.database_url, entry["id"], "someone", "  ")
    with pytest.raises(ValueError, match="say who"):
        acknowledge(settings.database_url, entry["id"], "", "reviewing")
    with pytest.raises(LookupError, match="no signal 999"):
        acknowledge(settings.database_url, 999, "someone", "reviewing")
    assert current(settings.database_url, trusts=["RYY"]) == []
