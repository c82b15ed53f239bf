"""Which deaths need a review: the PMRT FAQs' rule as a table (https://www.npeu.ox.ac.uk/pmrt/faqs)."""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.reviews.eligibility import assess, assess_record

BIRTH = dt.date(2026, 3, 1)


def days_after(n: int) -> dt.date:
    return BIRTH + dt.timedelta(days=n)


# (case, born alive, gestation (weeks, days) or None, weight g, died after n days, extra, eligible, category)
CASES = [
    ("no signs of life at 21+6", False, (21, 6), 450, None, {}, False, None),
    ("late fetal loss at 22+0", False, (22, 0), 480, None, {}, True, "late_fetal_loss"),
    ("late fetal loss at 23+6", False, (23, 6), 600, None, {}, True, "late_fetal_loss"),
    ("stillbirth at 24+0", False, (24, 0), 650, None, {}, True, "stillbirth"),
    ("stillbirth at term", False, (40, 1), 3300, None, {}, True, "stillbirth"),
    ("no signs of life, gestation unknown, 501 g", False, None, 501, None, {}, True, "stillbirth"),
    ("no signs of life, gestation unknown, exactly 500 g", False, None, 500, None, {}, False, None),
    ("no signs of life, gestation and weight unknown", False, None, None, None, {}, False, None),
    ("termination at 30+0", False, (30, 0), 1500, None, {"termination": True}, False, None),
    ("born alive at 21+6, died day 0", True, (21, 6), 500, 0, {}, False, None),
    ("born alive at 22+0, died day 0", True, (22, 0), 520, 0, {}, True, "neonatal_death"),
    ("born alive at term, died day 27", True, (39, 0), 3400, 27, {}, True, "neonatal_death"),
    ("born alive, gestation unknown, 900 g, died day 3", True, None, 900, 3, {}, True, "neonatal_death"),
    ("born alive, gestation unknown, 400 g, died day 3", True, None, 400, 3, {}, False, None),
    ("born alive at term and survived", True, (39, 0), 3400, None, {}, False, None),
    ("survived with brain injury", True, (40, 0), 3500, None, {}, False, None),
    ("termination, born alive at 23+0, died day 0", True, (23, 0), 600, 0, {"termination": True}, False, None),
    (
        "died day 40 after neonatal care",
        True,
        (26, 0),
        800,
        40,
        {"received_neonatal_care": True},
        True,
        "post_neonatal_death",
    ),
    ("died day 40 without neonatal care", True, (26, 0), 800, 40, {"received_neonatal_care": False}, False, None),
    ("died day 40, neonatal care not known", True, (26, 0), 800, 40, {}, False, None),
    (
        "died at home day 5 without neonatal care",
        True,
        (38, 0),
        3000,
        5,
        {"died_in_community": True, "received_neonatal_care": False},
        False,
        None,
    ),
    (
        "died at home day 5 after neonatal care",
        True,
        (30, 0),
        1400,
        5,
        {"died_in_community": True, "received_neonatal_care": True},
        True,
        "neonatal_death",
    ),
]


@pytest.mark.parametrize(
    ("case", "alive", "gestation", "weight", "died", "extra", "eligible", "category"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_eligibility_follows_the_pmrt_faqs(
    case: str,
    alive: bool,
    gestation: tuple[int, int] | None,
    weight: int | None,
    died: int | None,
    extra: dict,
    eligible: bool,
    category: str | None,
) -> None:
    answer = assess(
        born_alive=alive,
        gestation_days=None if gestation is None else gestation[0] * 7 + gestation[1],
        birth_weight_g=weight,
        birth_date=BIRTH,
        death_date=None if died is None else days_after(died),
        **extra,
    )
    assert (answer.eligible, answer.category) == (eligible, category), answer.reason
    assert answer.reason
    if eligible:
        assert answer.death_date == (BIRTH if not alive else days_after(died or 0))


def test_a_birth_record_is_read_with_the_same_rule() -> None:
    record = {
        "outcome": "live_birth",
        "gestation_weeks": 22,
        "gestation_days": 0,
        "birth_weight_g": 510,
        "birth_datetime": dt.datetime(2026, 3, 1, 23, 50),
        "neonatal_death_datetime": dt.datetime(2026, 3, 2, 0, 30),
        "nnu_admission": None,
    }
    answer = assess_record(record)
    assert (answer.eligible, answer.category, answer.death_date) == (True, "neonatal_death", dt.date(2026, 3, 2))
    assert not assess_record({**record, "gestation_weeks": 21, "gestation_days": 6}).eligible
    stillbirth = {**record, "outcome": "stillbirth", "gestation_weeks": 24, "neonatal_death_datetime": None}
    assert assess_record(stillbirth).category == "stillbirth"
