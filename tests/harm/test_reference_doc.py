"""docs/harm-routing.md is generated from the rule set and kept current."""

from __future__ import annotations

from pathlib import Path

from matneo.harm.reference_doc import INPUT_FIELDS, render
from matneo.harm.report import BABY_FIELDS, GESTATION_FIELDS, MOTHER_FIELDS, TOP_FIELDS
from matneo.harm.rules import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "harm-routing.md"


def test_harm_routing_doc_is_current() -> None:
    committed = DOC.read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m matneo.harm.reference_doc > docs/harm-routing.md"


def test_every_input_field_and_rule_is_documented() -> None:
    fields = {
        *TOP_FIELDS,
        *(f"gestation.{f}" for f in GESTATION_FIELDS),
        *(f"baby.{f}" for f in BABY_FIELDS),
        *(f"mother.{f}" for f in MOTHER_FIELDS),
    }
    assert {name for name, *_ in INPUT_FIELDS} == fields - {"gestation"}
    text = render()
    assert all(f"**{rule.id}**" in text for rule in RULES)
