"""Operating characteristics in words, from the benchmark's stored run lengths."""

from __future__ import annotations

import pytest

from matneo.signals.operating import (
    false_alarms_per_100_trust_years,
    months_to_find,
    operating_characteristics,
    operating_words,
)

STORED = {
    "streams": {"cusum:serious_harm": {"thresholds": {"7": {"arl0_births": 500_000.0, "doubling_p80_births": 3_000.0}}}}
}


def test_false_alarms_by_hand() -> None:
    # 500,000 births between false alarms at 5,000 births a year: one per 100 trust-years
    assert false_alarms_per_100_trust_years(500_000, 5_000) == pytest.approx(1.0)
    assert false_alarms_per_100_trust_years(500_000, 2_500) == pytest.approx(0.5)


def test_months_by_hand() -> None:
    # 3,000 births at 6,000 a year (500 a month): 6 months
    assert months_to_find(3_000, 6_000) == pytest.approx(6.0)
    with pytest.raises(ValueError):
        months_to_find(3_000, 0)


def test_words() -> None:
    assert operating_words(STORED, "cusum", "serious_harm", 7.0, 5_000) == (
        "At this threshold, about 1.0 false alarm per 100 trust-years at a trust of this size (5,000 births a "
        "year); a doubling is usually (4 times in 5) found within 8 months"
    )
    assert operating_words(STORED, "cusum", "serious_harm", 6.0, 5_000) == ""  # not measured: nothing claimed


def test_stored_file_has_run_date_and_settings() -> None:
    stored = operating_characteristics()
    if not stored:
        pytest.skip("the benchmark has not written operating.json")
    assert stored["run"]["date"] and stored["run"]["settings"]
    for stream in stored["streams"].values():
        for entry in stream["thresholds"].values():
            assert entry["arl0_births"] > 0 and entry["doubling_p80_births"] > 0
