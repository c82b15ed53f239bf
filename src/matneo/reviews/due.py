"""Deaths that need a review and have none yet: the birth records checked against the reviews.

Like MBRRACE-UK's cross-check against death registrations: every death in the birth records that
:func:`matneo.reviews.eligibility.assess_record` says needs a review is matched to its review
(same trust and record) or to a submitted harm report linked to the same record, and listed when
it has neither. Eligibility is decided by the pure function only; the SQL merely narrows the
records to deaths so the store is scanned once.

Scope: the list names birth records, which are identifier-like, so it is shown in full to the
owning trust's own staff only; organisations above see counts per trust (:func:`due`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.db.models import HarmCase
from matneo.db.session import transaction
from matneo.records.store import RecordStore
from matneo.reviews.eligibility import CATEGORY_LABELS, assess_record
from matneo.reviews.models import Review

__all__ = ["DEATH_COLUMNS", "due", "due_for_trusts"]

DEATH_COLUMNS = (
    "record_id",
    "trust_code",
    "outcome",
    "gestation_weeks",
    "gestation_days",
    "birth_weight_g",
    "birth_datetime",
    "neonatal_death_datetime",
    "nnu_admission",
)


def _deaths(settings: Settings, trusts: list[str]) -> list[dict[str, Any]]:
    """Birth records of the trusts that record a death (stillbirth, late fetal loss, neonatal death)."""
    if not trusts:
        return []
    store = RecordStore(settings.records_dir)
    if store.current_version() is None:
        return []
    columns = ", ".join(DEATH_COLUMNS)
    marks = ", ".join("?" for _ in trusts)
    sql = (
        f"SELECT {columns} FROM births WHERE trust_code IN ({marks}) "
        "AND (outcome <> 'live_birth' OR neonatal_death_datetime IS NOT NULL) ORDER BY trust_code, birth_datetime"
    )
    with store.connect() as con:
        rows = con.execute(sql, trusts).fetchall()
    return [dict(zip(DEATH_COLUMNS, row, strict=True)) for row in rows]


def _reviewed(settings: Settings, trusts: list[str]) -> set[tuple[str, str]]:
    """(trust, record) pairs with a review, or with a submitted harm report linked to the record."""
    with transaction(settings.database_url) as session:
        reviewed = session.execute(
            select(Review.trust_code, Review.record_id).where(
                Review.trust_code.in_(trusts), Review.record_id.is_not(None)
            )
        ).all()
        reported = session.execute(
            select(HarmCase.trust_code, HarmCase.linked_record_id).where(
                HarmCase.trust_code.in_(trusts),
                HarmCase.status == "submitted",
                HarmCase.linked_record_id.is_not(None),
            )
        ).all()
    return {(t, str(r)) for t, r in [*reviewed, *reported]}


def due_for_trusts(settings: Settings, trusts: list[str], today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every eligible death at these trusts with no review and no linked harm report, oldest death first.

    No access check: for the command line (whose user holds the files) and for :func:`due`.
    """
    day = today or dt.date.today()
    done = _reviewed(settings, trusts) if trusts else set()
    out: list[dict[str, Any]] = []
    for record in _deaths(settings, trusts):
        answer = assess_record(record)
        if not answer.eligible or (record["trust_code"], str(record["record_id"])) in done:
            continue
        assert answer.death_date is not None and answer.category is not None
        out.append(
            {
                "record_id": str(record["record_id"]),
                "trust_code": record["trust_code"],
                "outcome": answer.category,
                "outcome_label": CATEGORY_LABELS[answer.category],
                "gestation": f"{record['gestation_weeks']}+{record['gestation_days']}",
                "gestation_weeks": record["gestation_weeks"],
                "gestation_days": record["gestation_days"],
                "birth_date": _birth_date(record).isoformat(),
                "death_date": answer.death_date.isoformat(),
                "days_since_death": (day - answer.death_date).days,
            }
        )
    out.sort(key=lambda d: (d["death_date"], d["trust_code"], d["record_id"]))
    return out


def _birth_date(record: dict[str, Any]) -> dt.date:
    value = record["birth_datetime"]
    return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])


def due(settings: Settings, access: Access, today: dt.date | None = None) -> dict[str, Any]:
    """The due list as the user may see it.

    Trust staff of a trust: their trust's deaths in full (``deaths``). Everyone else: counts per
    trust in scope (``per_trust``), no record identifiers.
    """
    org = access.hierarchy.get(access.user.org_code)
    own = org.code if org.level == "trust" and access.user.role == "trust_staff" else None
    if own:
        deaths = due_for_trusts(settings, [own], today)
        name = access.hierarchy.get(own).name
        return {
            "trust_code": own,
            "deaths": deaths,
            "per_trust": [{"trust_code": own, "trust_name": name, "due": len(deaths)}],
        }
    trusts = access.trusts_in_scope()
    counts = Counter(d["trust_code"] for d in due_for_trusts(settings, trusts, today))
    return {
        "trust_code": None,
        "deaths": [],
        "per_trust": [
            {"trust_code": t, "trust_name": access.hierarchy.get(t).name, "due": counts[t]} for t in sorted(counts)
        ],
    }
