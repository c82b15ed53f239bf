"""The signals register on both app-store backends: raise, update, acknowledge, close, history."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from matneo.auth.users import audit_trail
from matneo.config import QUIET_MONTHS_VARIABLE, Settings, get_settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.signals.detect import SIGNAL_COLUMNS, SignalSettings
from matneo.signals.register import acknowledge, closes_on, current, episode_start, refresh


def detected(*rows: tuple[str, str, str, dt.date]) -> pl.DataFrame:
    return pl.DataFrame(
        [(t, m, method, day, f"{method} on {day}", 1.5) for t, m, method, day in rows],
        schema=SIGNAL_COLUMNS,
        orient="row",
    )


def test_lifecycle(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
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
    # No CUSUM signal in June (first refresh) or September 2019 (second): stopped since the first.
    assert [h["action"] for h in entry["history"]] == ["raised", "stopped", "updated", "acknowledged"]
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
    upgrade(settings.database_url, load_hierarchy())
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


def funnel(year: int, observed: int, expected: float) -> pl.DataFrame:
    """One funnel signal for R0A's stillbirths in ``year``, with its figures in the summary."""
    summary = f"{year}: observed {observed}, expected {expected:.1f} (O/E {observed / expected:.2f})"
    return pl.DataFrame(
        [("R0A", "stillbirth_rate", "funnel", dt.date(year, 12, 31), summary, observed / expected)],
        schema=SIGNAL_COLUMNS,
        orient="row",
    )


def test_evidence_is_refreshed_when_the_numbers_change_on_the_same_date(settings: Settings) -> None:
    """Late or corrected records for 2019 change O and E; the signal date (31 Dec 2019) does not."""
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url = settings.database_url
    assert refresh(url, funnel(2019, 20, 8.0), dt.date(2020, 3, 31)).raised == 1
    summary = refresh(url, funnel(2019, 22, 8.4), dt.date(2020, 4, 30))
    assert (summary.raised, summary.updated, summary.stopped, summary.closed) == (0, 1, 0, 0)
    (entry,) = current(url)
    assert entry["summary"] == "2019: observed 22, expected 8.4 (O/E 2.62)"
    assert entry["statistic"] == pytest.approx(22 / 8.4)
    assert [(h["action"], h["comment"]) for h in entry["history"]] == [
        ("raised", "2019: observed 20, expected 8.0 (O/E 2.50)"),
        ("updated", "2019: observed 22, expected 8.4 (O/E 2.62)"),
    ]
    assert refresh(url, funnel(2019, 22, 8.4), dt.date(2020, 5, 31)).updated == 0  # nothing new: no event


def test_since_is_the_start_of_the_continuing_episode(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url = settings.database_url
    signals = detected(
        ("R0A", "stillbirth_rate", "cusum", dt.date(2014, 1, 5)),  # 3 years before the next: another episode
        ("R0A", "stillbirth_rate", "cusum", dt.date(2017, 5, 10)),
        ("R0A", "stillbirth_rate", "cusum", dt.date(2018, 2, 1)),
        ("R0A", "stillbirth_rate", "cusum", dt.date(2018, 12, 1)),
        ("R0A", "stillbirth_rate", "cusum", dt.date(2019, 9, 15)),
    )
    refresh(url, signals, dt.date(2019, 9, 30))
    (entry,) = current(url)
    assert (entry["since"], entry["last_signal"], entry["signalling"]) == ("2017-05-10", "2019-09-15", True)


def test_episodes_and_closing_follow_the_quiet_period() -> None:
    assert closes_on(dt.date(2019, 8, 1)) == dt.date(2020, 8, 31)
    assert closes_on(dt.date(2019, 12, 31)) == dt.date(2020, 12, 31)
    assert closes_on(dt.date(2019, 8, 1), quiet_months=6) == dt.date(2020, 2, 29)
    # Funnel years in a row are one episode; a gap of a year without a signal starts another.
    years = [dt.date(2016, 12, 31), dt.date(2018, 12, 31), dt.date(2019, 12, 31)]
    assert episode_start(years) == dt.date(2018, 12, 31)
    assert episode_start([dt.date(2019, 8, 1), dt.date(2020, 8, 31)]) == dt.date(2019, 8, 1)
    assert episode_start([dt.date(2019, 8, 1), dt.date(2020, 9, 1)]) == dt.date(2020, 9, 1)


def test_a_signal_that_stops_firing_says_so_then_closes(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url = settings.database_url
    august = detected(("R0A", "stillbirth_rate", "cusum", dt.date(2019, 8, 1)))
    refresh(url, august, dt.date(2019, 8, 31))
    (entry,) = current(url)
    assert entry["signalling"] and entry["closes_on"] == "2020-08-31"

    summary = refresh(url, august, dt.date(2019, 10, 31))  # two more months, no new signal
    assert (summary.stopped, summary.updated, summary.closed) == (1, 0, 0)
    (entry,) = current(url)
    assert entry["status"] == "open" and not entry["signalling"]
    assert entry["history"][-1]["action"] == "stopped"
    assert entry["history"][-1]["comment"] == (
        "No Risk-adjusted CUSUM signal in Oct 2019 (data to 31 Oct 2019); the latest was on 1 Aug 2019. "
        "Closes with the data to 31 Aug 2020 if there is no further signal."
    )
    assert refresh(url, august, dt.date(2019, 11, 30)).stopped == 0  # said once, not every month

    february = detected(
        ("R0A", "stillbirth_rate", "cusum", dt.date(2019, 8, 1)),
        ("R0A", "stillbirth_rate", "cusum", dt.date(2020, 2, 10)),
    )
    summary = refresh(url, february, dt.date(2020, 2, 29))
    assert (summary.resumed, summary.updated, summary.stopped) == (1, 0, 0)
    (entry,) = current(url)
    assert entry["signalling"] and (entry["since"], entry["last_signal"]) == ("2019-08-01", "2020-02-10")

    assert refresh(url, february, dt.date(2021, 1, 31)).closed == 0
    assert refresh(url, february, dt.date(2021, 2, 28)).closed == 1
    (closed,) = current(url, include_closed=True)
    assert [h["action"] for h in closed["history"]] == ["raised", "stopped", "resumed", "stopped", "closed"]
    assert closed["history"][-1]["comment"] == (
        "No Risk-adjusted CUSUM signal for 12 months after the latest, on 10 Feb 2020 (data to 28 Feb 2021)."
    )
    assert not closed["signalling"] and closed["closes_on"] is None


def test_a_funnel_signal_stands_until_the_next_complete_year(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url = settings.database_url
    years = pl.concat([funnel(2018, 18, 8.0), funnel(2019, 20, 8.0)])
    refresh(url, years, dt.date(2019, 12, 31))
    refresh(url, years, dt.date(2020, 6, 30))  # 2020 is not complete: the funnel has not judged it
    (entry,) = current(url)
    assert (entry["since"], entry["signalling"]) == ("2018-12-31", True)
    assert [h["action"] for h in entry["history"]] == ["raised"]
    assert refresh(url, years, dt.date(2020, 12, 31)).closed == 1  # 2020 complete and not above the limit


def test_the_quiet_period_is_configurable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    august = detected(("R0A", "stillbirth_rate", "cusum", dt.date(2019, 8, 1)))
    refresh(settings.database_url, august, dt.date(2019, 8, 31), quiet_months=6)
    assert refresh(settings.database_url, august, dt.date(2020, 2, 29), quiet_months=6).closed == 1

    monkeypatch.delenv(QUIET_MONTHS_VARIABLE, raising=False)
    assert SignalSettings.of(get_settings(settings.home)).quiet_months == 12
    monkeypatch.setenv(QUIET_MONTHS_VARIABLE, "18")
    assert SignalSettings.of(get_settings(settings.home)).quiet_months == 18
    assert SignalSettings.of(settings).quiet_months == 12, "read once, into Settings; not behind the caller's back"
    monkeypatch.setenv(QUIET_MONTHS_VARIABLE, "a year")
    with pytest.raises(ValueError, match="whole number of months"):
        get_settings(settings.home)


def test_the_register_is_read_again_after_a_change_made_elsewhere(settings: Settings) -> None:
    """The register is kept between reads (issue 10: pages read it on every visit) but never shown
    stale: a change written by another process — here straight into the tables, as a second
    server or `matneo signals` would — is seen by the next read, because each change adds a
    history event."""
    from sqlalchemy import create_engine, text

    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url = settings.database_url
    assert current(url) == []
    refresh(url, detected(("R0A", "stillbirth_rate", "cusum", dt.date(2019, 3, 4))), dt.date(2019, 3, 31))
    (entry,) = current(url)
    assert current(url) == [entry]  # kept: the same answer
    other = create_engine(url)  # its own connections, as another process would have
    with other.begin() as connection:
        connection.execute(text("UPDATE signals SET status = 'acknowledged' WHERE id = :id"), {"id": entry["id"]})
        connection.execute(
            text(
                "INSERT INTO signal_events (signal_id, action, actor, comment, at) "
                "VALUES (:id, 'acknowledged', 'someone@example.nhs.uk', 'Reviewing', :at)"
            ),
            {"id": entry["id"], "at": dt.datetime(2026, 12, 3, 12, 0)},
        )
    other.dispose()
    (seen,) = current(url)
    assert seen["status"] == "acknowledged"
    assert [h["action"] for h in seen["history"]] == ["raised", "acknowledged"]
    assert current(url, trusts=["RXX"]) == [] and current(url, since=dt.date(2019, 4, 1)) == []
    assert current(url, trusts=["R0A"], since=dt.date(2019, 3, 4)) == [seen]
