"""Concern rules: explicit and explainable, never a score.

A trust's *evidence* is a list of dated concerns, each from one source (an outcome signal, harm
reports referred to MNSI, overdue national notifications, red assurance requirements, missing
data, perinatal mortality reviews, family and staff survey figures). A rule fires when at least
``min_sources`` of its sources have a concern dated within ``window_months`` of the reference
date; the result names the rule, its rationale and every concern that made it fire, so a reader
can check it. Rules are data (``data/concern_rules.json``, or the file ``MATNEO_CONCERN_RULES``
names, held in ``Settings.concern_rules``) so an LMNS or region can set its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from matneo.dates import months_after

__all__ = ["SOURCE_NAMES", "Concern", "Fired", "Rule", "evaluate", "load_rules"]

SOURCE_NAMES = {
    "outcome_signal": "Outcome signal",
    "leading_indicator": "Leading indicator signal",
    "harm": "Harm reports",
    "notifications": "Overdue national notifications",
    "assurance": "Assurance",
    "data_quality": "Data quality",
    "reviews": "Perinatal mortality reviews",
    "voice": "Family and staff voice",
}


@dataclass(frozen=True)
class Concern:
    trust_code: str
    source: str  # a key of SOURCE_NAMES
    day: dt.date
    text: str  # aggregate words only: never a patient detail


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    sources: tuple[str, ...]
    min_sources: int
    window_months: int
    rationale: str
    needs_local_confirmation: bool = False


@dataclass(frozen=True)
class Fired:
    rule: Rule
    evidence: tuple[Concern, ...]

    @property
    def sources(self) -> list[str]:
        return sorted({c.source for c in self.evidence})


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """The concern rules from ``path`` (the instance's ``Settings.concern_rules``) or the packaged defaults; checked."""
    chosen = path
    text = (
        chosen.read_text("utf-8")
        if chosen
        else resources.files("matneo.triangulation").joinpath("data/concern_rules.json").read_text("utf-8")
    )
    rules = []
    for raw in json.loads(text)["rules"]:
        rule = Rule(
            id=raw["id"],
            title=raw["title"],
            sources=tuple(raw["sources"]),
            min_sources=int(raw["min_sources"]),
            window_months=int(raw["window_months"]),
            rationale=raw["rationale"],
            needs_local_confirmation=bool(raw.get("needs_local_confirmation", False)),
        )
        unknown = [s for s in rule.sources if s not in SOURCE_NAMES]
        if unknown or not 1 <= rule.min_sources <= len(rule.sources) or rule.window_months < 1:
            raise ValueError(f"concern rule {rule.id!r}: unknown sources {unknown} or impossible thresholds")
        rules.append(rule)
    if len({r.id for r in rules}) != len(rules):
        raise ValueError("concern rules: an id is repeated")
    return tuple(rules)


def evaluate(rules: Sequence[Rule], concerns: Iterable[Concern], today: dt.date) -> list[Fired]:
    """The rules that fire for one trust's ``concerns`` on ``today``, each with the concerns that made it fire."""
    concerns = list(concerns)
    fired = []
    for rule in rules:
        since = months_after(today, -rule.window_months)
        inside = tuple(c for c in concerns if c.source in rule.sources and since <= c.day <= today)
        if len({c.source for c in inside}) >= rule.min_sources:
            fired.append(Fired(rule, inside))
    return fired
