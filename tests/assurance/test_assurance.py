"""Assurance: frameworks as data, the RAG rule, and the tracker's writes (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matneo.assurance.frameworks import frameworks, item
from matneo.assurance.rag import rag
from matneo.assurance.tracker import FieldProblem, history, statuses, update
from matneo.config import Settings
from matneo.db.models import AuditEvent
from matneo.db.session import transaction, upgrade
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.reference.organisations import load_hierarchy

TODAY = dt.date(2026, 12, 3)


def test_every_framework_cites_its_document_and_every_item_its_section() -> None:
    found = {fw.id: fw for fw in frameworks()}
    assert {k: len(f.items) for k, f in found.items()} == {
        "cnst_mis_y2": 10,  # ten safety actions
        "cnst_mis_y5": 10,
        "cnst_mis_y6": 10,
        "cnst_mis_y7": 10,
        "sblcb_v3": 12,  # six elements, each with its process indicators
        "ockenden_first": 7,  # seven immediate and essential actions
        "ockenden_final": 15,  # fifteen in the final report
        "delivery_plan_2023": 16,  # four themes, twelve objectives
    }
    for fw in found.values():
        assert fw.url.startswith("https://") and fw.publisher and fw.published
        assert all(i.section and i.title for i in fw.items)
    # NHS Resolution's own words for year two, safety action 10 (resolution.nhs.uk, 12 Dec 2018)
    assert item("cnst_mis_y2:SA10").title.startswith("Have you reported 100% of qualifying incidents")
    assert item("cnst_mis_y2:SA6").maps_to == ("sblcb_v3:E1", "sblcb_v3:E2", "sblcb_v3:E3", "sblcb_v3:E4")
    assert all(i.needs_local_confirmation for i in found["sblcb_v3"].items)  # element titles from summaries
    # later MIS years: each action follows the same action of the year before; wording not confirmed here
    assert item("cnst_mis_y7:SA1").previous == "cnst_mis_y6:SA1"
    assert item("cnst_mis_y5:SA1").previous == "cnst_mis_y2:SA1"  # years three and four are not held
    assert all(i.needs_local_confirmation for k in ("cnst_mis_y5", "cnst_mis_y6", "cnst_mis_y7", "ockenden_final")
               for i in found[k].items)  # fmt: skip
    assert [i.section for i in found["delivery_plan_2023"].items[:4]] == [
        "Theme 1", "Theme 1, objective 1", "Theme 1, objective 2", "Theme 1, objective 3"]  # fmt: skip
    assert item("sblcb_v3:E1").measure in MEASURES_BY_ID
    with pytest.raises(KeyError, match="no assurance requirement"):
        item("cnst_mis_y2:SA11")


@pytest.mark.parametrize(
    ("status", "due", "signed", "expected"),
    [
        ("met", None, True, "green"),  # met and signed off
        ("not_applicable", dt.date(2026, 1, 1), False, "green"),  # with a reason (checked on saving)
        ("met", dt.date(2026, 1, 1), False, "amber"),  # met, awaiting sign-off: never overdue
        ("in_progress", dt.date(2026, 12, 31), False, "amber"),
        ("in_progress", dt.date(2026, 12, 2), False, "red"),  # past its due date
        ("not_started", dt.date(2026, 12, 2), False, "red"),
        ("not_started", dt.date(2026, 12, 3), False, "grey"),  # due today is not yet overdue
        ("not_started", None, False, "grey"),
        ("not_met", None, False, "red"),
    ],
)
def test_the_rag_rule(status: str, due: dt.date | None, signed: bool, expected: str) -> None:
    assert rag(status, due, signed, TODAY) == expected


def test_updates_are_checked_trailed_and_audited_in_one_go(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    url, key = settings.database_url, "cnst_mis_y2:SA8"

    def save(values: dict[str, str], actor_org: str = "R0A"):  # type: ignore[no-untyped-def]
        return update(url, "R0A", key, values, actor="lead@r0a", actor_org=actor_org, today=TODAY)

    assert statuses(url, ["R0A"], TODAY)[("R0A", key)].status == "not_started"
    first = save({"status": "in_progress", "owner": "Practice development midwife", "due": "2027-03-31"})
    assert first.rag == "amber" and first.due == dt.date(2027, 3, 31)
    problems: list[tuple[dict[str, str], str, str]] = [
        ({"status": "done"}, "status", "Choose a status"),
        ({"status": "not_applicable"}, "reason", "Say why"),
        ({"status": "in_progress", "due": "31/03/2027"}, "due", "real date"),
        ({"status": "in_progress", "signed_off_on": "2026-12-01", "signed_off_role": "Chief executive"},
         "signed_off_on", "Only a requirement that is met"),
        ({"status": "met", "signed_off_on": "2026-12-01"}, "signed_off_role", "Choose the role"),
        ({"status": "met", "signed_off_on": "2026-12-04", "signed_off_role": "Chief executive"},
         "signed_off_on", "cannot be in the future"),
        ({"status": "met", "signed_off_role": "Chief executive"}, "signed_off_on", "Enter the date"),
        ({"status": "met", "comment": "x" * 2001}, "comment", "2000 characters"),
    ]  # fmt: skip
    for values, field, words in problems:
        with pytest.raises(FieldProblem, match=words) as problem:
            save(values)
        assert problem.value.field == field
    with pytest.raises(PermissionError):
        save({"status": "met"}, actor_org="RJ1")  # another trust's staff
    with pytest.raises(KeyError):
        update(url, "R0A", "cnst_mis_y2:SA99", {}, actor="x", actor_org="R0A", today=TODAY)
    signed = save({"status": "met", "owner": "Practice development midwife", "due": "2027-03-31",
                   "signed_off_on": "2026-12-01", "signed_off_role": "Board-level safety champion"})  # fmt: skip
    assert signed.rag == "green" and signed.signed_off_by == "lead@r0a"
    again = save({"status": "met", "owner": "Practice development midwife", "due": "2027-03-31",
                  "signed_off_on": "2026-12-01", "signed_off_role": "Board-level safety champion"})  # fmt: skip
    assert again == signed  # nothing changed, nothing written
    trail = history(url, "R0A", key)
    assert {h["field"] for h in trail} == {
        "status",
        "owner",
        "due",
        "signed_off_on",
        "signed_off_role",
        "signed_off_by",
    }
    assert [h["after"] for h in trail if h["field"] == "status"] == ["met", "in_progress"]  # newest first
    with transaction(url) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "assurance.update")).all()
    assert len(events) == 2 and events[0].target_id == f"R0A/{key}"
    assert statuses(url, ["RJ1"], TODAY)[("RJ1", key)].status == "not_started"  # other trusts untouched


def test_the_demo_seeds_a_realistic_position_once(settings: Settings) -> None:
    from matneo.assurance.demo import seed_demo_assurance

    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    written = seed_demo_assurance(settings.database_url, hierarchy, "R0A", TODAY)
    assert written > 17 and seed_demo_assurance(settings.database_url, hierarchy, "R0A", TODAY) == 0  # once only
    planted = statuses(settings.database_url, ["R0A"], TODAY)
    rags = {key: view.rag for (_, key), view in planted.items()}
    assert rags["cnst_mis_y2:SA8"] == "red" and rags["cnst_mis_y2:SA10"] == "red"  # the story: training overdue
    assert rags["cnst_mis_y2:SA2"] == "green" and rags["cnst_mis_y2:SA1"] == "amber"
    lmns = hierarchy.ancestor_at("R0A", "lmns").code
    neighbours = [t.code for t in hierarchy.trusts_under(lmns) if t.code != "R0A"][:2]
    theirs = statuses(settings.database_url, neighbours, TODAY)
    assert theirs[(neighbours[1], "cnst_mis_y2:SA1")].rag == "red"
    assert theirs[(neighbours[0], "cnst_mis_y2:SA8")].rag == "green"


def test_the_demo_seeds_an_evidence_library_once(settings: Settings) -> None:
    from matneo.assurance import evidence
    from matneo.assurance.demo import seed_demo_evidence

    assert seed_demo_evidence(settings.database_url, settings.home, "R0A", TODAY) == 3
    assert seed_demo_evidence(settings.database_url, settings.home, "R0A", TODAY) == 0  # once only
    held = evidence.library(settings.database_url, "R0A", actor_org="R0A")
    minutes = next(v for v in held if v.kind == "minutes")
    assert [i.key for i in minutes.requirements] == ["cnst_mis_y2:SA9", "ockenden_first:IEA1"]  # once, for two
    url, home = settings.database_url, settings.home
    path, _, kind = evidence.download(url, home, "R0A", minutes.id, actor="t", actor_org="R0A")
    assert kind == "application/pdf" and path.read_bytes().startswith(b"%PDF-1.4")


def test_the_demo_seeds_survey_figures_whose_latest_month_dips(settings: Settings) -> None:
    from matneo.assurance import voice
    from matneo.assurance.demo import seed_demo_voice

    assert seed_demo_voice(settings.database_url, "R0A", TODAY) == 14
    assert seed_demo_voice(settings.database_url, "R0A", TODAY) == 0  # once only
    lines = voice.latest(settings.database_url, ["R0A"], voice.layouts(), above_trust=True)["R0A"]
    fft = next(line for line in lines if line.layout.id == "fft")
    assert fft.period == "2026-11" and fft.value == 88.0 and fft.worst_recently
