"""A trust's safety picture and an organisation's "needs a conversation" list, built from the sources and rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matneo.measures.results import ResultCache
from matneo.reference.organisations import OrgHierarchy
from matneo.triangulation.decisions import Decision, decisions
from matneo.triangulation.rules import SOURCE_NAMES, Concern, Fired, evaluate, load_rules
from matneo.triangulation.sources import NOT_YET_AVAILABLE, concerns

__all__ = ["TrustPicture", "pictures"]


@dataclass
class TrustPicture:
    trust_code: str
    trust_name: str
    concerns: list[Concern]
    fired: list[Fired]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def needs_conversation(self) -> bool:
        return bool(self.fired)

    @property
    def latest_decision(self) -> Decision | None:
        return self.decisions[0] if self.decisions else None

    def to_dict(self) -> dict[str, Any]:
        latest = self.latest_decision

        def line(c: Concern) -> dict[str, str]:
            return {"source": SOURCE_NAMES[c.source], "date": c.day.isoformat(), "text": c.text}

        return {
            "trust_code": self.trust_code,
            "trust_name": self.trust_name,
            "needs_conversation": self.needs_conversation,
            "rules": [
                {"id": f.rule.id, "title": f.rule.title, "sources": [SOURCE_NAMES[s] for s in f.sources],
                 "evidence": [line(c) for c in f.evidence]}
                for f in self.fired
            ],
            "concerns": [line(c) for c in self.concerns],
            "decision": None if latest is None else {
                "decision": latest.label, "review_on": latest.review_on.isoformat(), "decided_by": latest.decided_by},
            "not_yet_available": NOT_YET_AVAILABLE,
        }  # fmt: skip


def pictures(
    url: str,
    results: ResultCache,
    hierarchy: OrgHierarchy,
    code: str,
    today: dt.date,
    rules_file: Path | None = None,
    voice_layouts: Path | None = None,
) -> list[TrustPicture]:
    """Every trust at or under ``code``: concerns, rules that fire, decisions; those needing a conversation first."""
    trusts = [t.code for t in hierarchy.trusts_under(code)]
    rules = load_rules(rules_file)
    window = max(r.window_months for r in rules)
    found = concerns(url, results, trusts, today, window_months=window, voice_layouts=voice_layouts)
    made = decisions(url, trusts)
    result = [
        TrustPicture(t, hierarchy.get(t).name, found[t], evaluate(rules, found[t], today), made[t]) for t in trusts
    ]
    result.sort(key=lambda p: (not p.needs_conversation, -len(p.fired), p.trust_name))
    return result
