"""Concern rules: which fire, with which evidence (hand-built concerns), and the rules file's checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from matneo.triangulation.rules import Concern, Rule, evaluate, load_rules

TODAY = dt.date(2026, 12, 3)
TWO = Rule("two", "Two sources in six months", ("outcome_signal", "harm", "assurance"), 2, 6, "why")


def c(source: str, day: dt.date, text: str = "x") -> Concern:
    return Concern("R0A", source, day, text)


@pytest.mark.parametrize(
    ("concerns", "fires", "evidence"),
    [
        ([c("outcome_signal", TODAY), c("assurance", TODAY)], True, 2),
        ([c("outcome_signal", TODAY), c("outcome_signal", dt.date(2026, 10, 1))], False, 0),  # one source twice
        ([c("outcome_signal", TODAY), c("harm", dt.date(2026, 6, 3))], True, 2),  # exactly six months back: inside
        ([c("outcome_signal", TODAY), c("harm", dt.date(2026, 6, 2))], False, 0),  # a day older: outside
        ([c("outcome_signal", TODAY), c("data_quality", TODAY)], False, 0),  # not one of the rule's sources
        ([c("outcome_signal", TODAY), c("harm", dt.date(2026, 12, 4))], False, 0),  # future-dated: ignored
        ([c("outcome_signal", TODAY), c("harm", TODAY), c("assurance", TODAY)], True, 3),
    ],
)
def test_a_rule_fires_on_enough_independent_sources_in_its_window(
    concerns: list[Concern], fires: bool, evidence: int
) -> None:
    fired = evaluate([TWO], concerns, TODAY)
    assert bool(fired) is fires
    if fires:
        assert len(fired[0].evidence) == evidence and fired[0].rule is TWO


def test_the_packaged_rules_load_and_bad_files_are_refused(tmp_path: Path) -> None:
    rules = load_rules()
    assert {r.id for r in rules} == {"two_sources", "outcome_and_overdue", "outcome_and_leading"}
    assert all(r.rationale and r.needs_local_confirmation for r in rules)
    bad = tmp_path / "rules.json"
    base = {"id": "a", "title": "t", "rationale": "r"}
    for broken in (
        {**base, "sources": ["gossip"], "min_sources": 1, "window_months": 6},  # unknown source
        {**base, "sources": ["harm"], "min_sources": 2, "window_months": 6},  # more sources than it names
        {**base, "sources": ["harm"], "min_sources": 1, "window_months": 0},  # no window
    ):
        bad.write_text(json.dumps({"rules": [broken]}))
        with pytest.raises(ValueError, match="concern rule 'a'"):
            load_rules(bad)


def test_a_leading_indicator_is_a_source_of_its_own() -> None:
    """An outcome signal and a leading-indicator signal are two sources; two leading signals are one."""
    rule = next(r for r in load_rules() if r.id == "outcome_and_leading")
    assert evaluate([rule], [c("outcome_signal", TODAY), c("leading_indicator", TODAY)], TODAY)
    assert not evaluate([rule], [c("leading_indicator", TODAY), c("leading_indicator", TODAY)], TODAY)
