"""The signals register page in words: method names, dates and history as people read them."""

from __future__ import annotations

import datetime as dt
import re

from matneo.db.models import Signal, SignalEvent
from matneo.db.session import transaction

from .conftest import OWN_TRUST, WebInstance

STOPPED = (
    "No Risk-adjusted CUSUM signal in Nov 2023 (data to 30 Nov 2023); the latest was on 1 Aug 2023. "
    "Closes with the data to 31 Aug 2024 if there is no further signal."
)


def plant_stopped_cusum(url: str) -> int:
    """A CUSUM entry raised in the summer that stopped signalling in December (times stored in UTC)."""
    with transaction(url) as session:
        entry = Signal(
            trust_code=OWN_TRUST,
            measure="neonatal_mortality_24wk",
            method="cusum",
            status="open",
            first_signal_date=dt.date(2023, 3, 4),
            last_signal_date=dt.date(2023, 8, 1),
            summary="CUSUM 7.4, threshold 7: about 0.5 false alarms per 100 trust-years",
            statistic=7.4,
        )
        session.add(entry)
        raised = dt.datetime(2023, 7, 3, 8, 5)  # 09:05 in London (summer time)
        session.add(SignalEvent(signal=entry, action="raised", actor="matneo (automatic)", at=raised))
        stopped = dt.datetime(2023, 12, 2, 17, 46)  # 17:46 in London (winter)
        session.add(
            SignalEvent(signal=entry, action="stopped", actor="matneo (automatic)", comment=STOPPED, at=stopped)
        )
        session.flush()
        return entry.id


def test_the_register_says_what_each_signal_is_in_words(web: WebInstance) -> None:
    signal_id = plant_stopped_cusum(web.settings.database_url)
    page = web.client("trust").get("/signals")
    assert page.status_code == 200
    card = re.search(rf'<section[^>]*data-signal="{signal_id}".*?</section>', page.text, re.S)
    assert card is not None
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card.group(0)))

    assert "Method Risk-adjusted CUSUM " in words
    assert "Signalling Stopped signalling: signalled from 4 Mar 2023 to 1 Aug 2023, none since. " in words
    assert "Closes with the data to 31 Aug 2024 if there is no further signal." in words
    assert "CUSUM 7.4, threshold 7: about 0.5 false alarms per 100 trust-years" in words
    assert "3 Jul 2023, 09:05 – Raised by matneo (automatic)" in words
    assert f"2 Dec 2023, 17:46 – Stopped signalling by matneo (automatic): “{STOPPED}”" in words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", words), "no ISO dates on the page"
    assert not re.search(r"\b(cusum|funnel|spc|stopped|raised)\b", words), "no internal codes on the page"

    api = web.client("trust").get("/api/v1/signals").json()
    (entry,) = [s for s in api["signals"] if s["id"] == signal_id]
    assert (entry["method"], entry["since"], entry["signalling"], entry["closes_on"]) == (
        "cusum",
        "2023-03-04",
        False,
        "2024-08-31",
    )
