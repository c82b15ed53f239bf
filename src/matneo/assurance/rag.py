"""Red, amber, green (RAG) for one requirement: a documented rule, not a judgement typed in.

The frameworks publish no RAG rule, and LMNS and regions each use their own; this one is
MatNeo's, shown on every page that uses it and in ``docs/assurance.md`` — a trust or LMNS with
its own rule should confirm it locally (needs local confirmation):

* **green**: met and signed off; or not applicable with a reason;
* **red**: not met; or not yet met and its due date has passed;
* **amber**: in progress, or met but not yet signed off (not yet overdue);
* **grey**: not started and not yet due (or no due date).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

__all__ = ["RAG_WORDS", "STATUSES", "Rag", "rag"]

Rag = Literal["green", "amber", "red", "grey"]
STATUSES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "met": "Met",
    "not_met": "Not met",
    "not_applicable": "Not applicable",
}
RAG_WORDS: dict[Rag, str] = {
    "green": "Green: met and signed off, or not applicable",
    "amber": "Amber: in progress, or met and awaiting sign-off",
    "red": "Red: not met, or overdue",
    "grey": "Grey: not started, not yet due",
}


def rag(status: str, due: dt.date | None, signed_off: bool, today: dt.date) -> Rag:
    """The RAG of a requirement with ``status`` due on ``due``, on ``today``."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if status == "not_applicable" or (status == "met" and signed_off):
        return "green"
    if status == "not_met":
        return "red"
    if status == "met":  # met, awaiting sign-off: the work is done, so never overdue
        return "amber"
    if due is not None and due < today:
        return "red"
    return "amber" if status == "in_progress" else "grey"
