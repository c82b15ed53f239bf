"""Which deaths need a perinatal mortality review: one small pure function and its source.

The rule is the national Perinatal Mortality Review Tool's, as its FAQs state it (NPEU,
"Perinatal Mortality Review Tool: Frequently Asked Questions", section "Reviewing", questions
"Which perinatal deaths can we review using the PMRT?" and "Which perinatal deaths should we
not use the PMRT to review?", https://www.npeu.ox.ac.uk/pmrt/faqs, read 2026). The gestation
bands are MBRRACE-UK's (late fetal loss 22+0 to 23+6 with no signs of life; stillbirth from
24+0; neonatal death of a baby born alive who dies before 28 completed days).

Reviewed:

* late fetal losses: born 22+0 to 23+6 weeks with no signs of life, whenever the death occurred
  (or over 500 g when the gestation is not known);
* stillbirths: born from 24+0 weeks with no signs of life (or over 500 g);
* neonatal deaths: born alive from 22+0 weeks (or over 500 g) and died up to 28 days after birth;
* post-neonatal deaths: born alive from 22+0 weeks, died after 28 days, having had neonatal care.

Not reviewed: terminations of pregnancy at any gestation; babies who die in the community
without having received neonatal care; babies with brain injury who survive.

Why a pure function: the due list, the harm portal and the tests all ask the same question, and
the answer must not depend on where the facts came from. What the birth record cannot say (it
has no termination flag and no place of death, and records neonatal deaths only up to 28 days)
is an argument left ``None``; ``None`` never excludes a death, so a death is listed rather than
missed, and the trust records why it is not for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CATEGORY_LABELS",
    "SOURCE",
    "Category",
    "Eligibility",
    "assess",
    "assess_record",
]

SOURCE = (
    "NPEU, Perinatal Mortality Review Tool FAQs, 'Reviewing': which perinatal deaths can (and should not) "
    "be reviewed using the PMRT (https://www.npeu.ox.ac.uk/pmrt/faqs); MBRRACE-UK gestation bands."
)

Category = Literal["late_fetal_loss", "stillbirth", "neonatal_death", "post_neonatal_death"]

CATEGORY_LABELS: dict[str, str] = {
    "late_fetal_loss": "Late fetal loss",
    "stillbirth": "Stillbirth",
    "neonatal_death": "Neonatal death",
    "post_neonatal_death": "Post-neonatal death",
}

GA_22_0 = 22 * 7
GA_24_0 = 24 * 7
#: Over this birth weight a baby of unknown gestation counts (PMRT FAQs: "over 500g").
WEIGHT_UNKNOWN_GESTATION_G = 500
#: A neonatal death is a death before 28 completed days (MBRRACE-UK; PMRT FAQs "up to 28 days").
NEONATAL_DAYS = 28


@dataclass(frozen=True)
class Eligibility:
    """The answer for one baby: whether a review is needed, the kind of death, and why."""

    eligible: bool
    category: Category | None
    reason: str
    death_date: dt.date | None = None


def _no(reason: str) -> Eligibility:
    return Eligibility(False, None, reason)


def assess(
    *,
    born_alive: bool,
    gestation_days: int | None,
    birth_weight_g: int | None,
    birth_date: dt.date,
    death_date: dt.date | None,
    termination: bool | None = None,
    received_neonatal_care: bool | None = None,
    died_in_community: bool | None = None,
) -> Eligibility:
    """Does this baby's death need a PMRT review? (See the module docstring for the rule and source.)

    ``gestation_days`` is the gestation at birth in days (weeks × 7 + days), ``None`` when not known.
    For a baby born with no signs of life ``death_date`` is ignored (the death is dated at birth).
    """
    if termination:
        return _no("A termination of pregnancy is not reviewed with the PMRT.")
    if gestation_days is None:
        if birth_weight_g is None or birth_weight_g <= WEIGHT_UNKNOWN_GESTATION_G:
            return _no("Gestation not known and birth weight not over 500 g.")
        band: str | None = None  # over 500 g: counted, though the band cannot be told
    else:
        if gestation_days < GA_22_0:
            return _no("Born before 22+0 weeks.")
        band = "late_fetal_loss" if gestation_days < GA_24_0 else "stillbirth"
    if not born_alive:
        category: Category = "stillbirth" if band in (None, "stillbirth") else "late_fetal_loss"
        what = CATEGORY_LABELS[category].lower()
        basis = "by weight: gestation not known" if band is None else "by gestation"
        return Eligibility(True, category, f"A {what} ({basis}).", birth_date)
    if death_date is None:
        return _no("Born alive and not known to have died.")
    age = (death_date - birth_date).days
    if age < 0:
        return _no("The date of death is before the date of birth.")
    if died_in_community and not received_neonatal_care:
        return _no("Died in the community without having received neonatal care.")
    if age < NEONATAL_DAYS:
        return Eligibility(True, "neonatal_death", "Born alive and died within 28 days of birth.", death_date)
    if received_neonatal_care:
        return Eligibility(
            True, "post_neonatal_death", "Died after 28 days, having received neonatal care.", death_date
        )
    if received_neonatal_care is None:
        return _no("Died after 28 days; not known to have received neonatal care.")
    return _no("Died after 28 days without having received neonatal care.")


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    return dt.datetime.fromisoformat(text).date() if text else None


def assess_record(record: dict[str, Any]) -> Eligibility:
    """:func:`assess` for one birth record (``docs/birth-record.md`` field names).

    The record has no termination flag and no place of death, so those are unknown (``None``);
    its neonatal deaths are always under 28 days. ``nnu_admission`` is read as neonatal care.
    """
    weeks, days = record.get("gestation_weeks"), record.get("gestation_days")
    gestation = None if weeks is None else int(weeks) * 7 + int(days or 0)
    weight = record.get("birth_weight_g")
    return assess(
        born_alive=record.get("outcome") == "live_birth",
        gestation_days=gestation,
        birth_weight_g=None if weight is None else int(weight),
        birth_date=_date(record["birth_datetime"]),  # type: ignore[arg-type]
        death_date=_date(record.get("neonatal_death_datetime")),
        received_neonatal_care=record.get("nnu_admission"),
    )
