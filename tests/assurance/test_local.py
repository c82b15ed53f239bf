"""Local requirements (a trust's or LMNS's own, keyed local:<id>) and removing evidence:
scope on the stored values, history, audit, and everywhere a framework item works (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matneo.assurance import evidence, local
from matneo.assurance.catalogue import catalogue
from matneo.assurance.tracker import FieldProblem, history, statuses, update
from matneo.config import Settings
from matneo.db.models import AssuranceChange, AuditEvent, EvidenceMapping
from matneo.db.session import transaction
from matneo.reference.organisations import load_hierarchy

TODAY = dt.date(2026, 12, 3)
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def area() -> tuple[str, str, str, str]:
    """R0A, its LMNS, a neighbour in the same LMNS and a trust of another LMNS."""
    hierarchy = load_hierarchy()
    lmns = hierarchy.ancestor_at("R0A", "lmns").code
    neighbour = next(t.code for t in hierarchy.trusts_under(lmns) if t.code != "R0A")
    stranger = next(t.code for t in hierarchy.trusts() if hierarchy.ancestor_at(t.code, "lmns").code != lmns)
    return "R0A", lmns, neighbour, stranger


def actions(url: str) -> list[str]:
    with transaction(url) as session:
        return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_a_trusts_and_an_lmnss_requirements_apply_where_they_should(settings: Settings) -> None:
    url = settings.database_url
    trust, lmns, neighbour, stranger = area()
    own = local.add(url, trust, {"title": "Audit induction delays each quarter", "source": "Board action 12",
                                 "description": "Decision to start, and start to labour ward."},
                    actor="lead@r0a", actor_org=trust)  # fmt: skip
    asked = local.add(url, lmns, {"title": "Report 'you said, we did' to the LMNS board",
                                  "framework": "delivery_plan_2023", "due": "2026-11-30"},
                      actor="lead@lmns", actor_org=lmns)  # fmt: skip
    assert own.key.startswith("local:") and own.section == f"Local requirement {own.id}" and own.owner == trust
    known = catalogue(url, [trust, neighbour, stranger])
    assert [known.applies(t, own) for t in (trust, neighbour, stranger)] == [True, False, False]
    assert [known.applies(t, asked) for t in (trust, neighbour, stranger)] == [True, True, False]
    # listed under the framework its owner chose, or in the Local group
    plan = next(fw for fw in known.frameworks if fw.id == "delivery_plan_2023")
    assert plan.items[-1].key == asked.key
    assert [i.key for i in next(fw for fw in known.frameworks if fw.id == "local").items] == [own.key]
    views = statuses(url, [trust, neighbour, stranger], TODAY)
    assert (trust, own.key) in views and (trust, asked.key) in views and (neighbour, asked.key) in views
    assert (neighbour, own.key) not in views and (stranger, asked.key) not in views
    # the LMNS's due date stands until a trust records its own: past it, red in every trust of the LMNS
    assert views[(neighbour, asked.key)].due == dt.date(2026, 11, 30) and views[(neighbour, asked.key)].rag == "red"
    assert views[(trust, own.key)].rag == "grey"
    # the tracker: owner, due, status, sign-off, history and audit as for any requirement
    saved = update(url, trust, own.key, {"status": "met", "owner": "Intrapartum matron", "signed_off_on": "2026-12-01",
                                         "signed_off_role": "Director of midwifery"},
                   actor="lead@r0a", actor_org=trust, today=TODAY)  # fmt: skip
    assert saved.rag == "green" and saved.item.title == "Audit induction delays each quarter"
    assert {h["field"] for h in history(url, trust, own.key, own.owner)} >= {"added", "status", "owner"}
    # one trust never reaches another's (or another LMNS's) requirement, even naming its key
    with pytest.raises(KeyError):
        update(url, neighbour, own.key, {"status": "met"}, actor="x", actor_org=neighbour, today=TODAY)
    with pytest.raises(KeyError):
        update(url, stranger, asked.key, {"status": "met"}, actor="x", actor_org=stranger, today=TODAY)
    # evidence once, mapped to many: a packaged requirement and a local one
    item = evidence.add(url, trust, {"kind": "link", "title": "Audit report", "link": "https://intranet.example/a"},
                        None, maps_to=["cnst_mis_y2:SA9", own.key], actor="lead@r0a", actor_org=trust,
                        today=TODAY)  # fmt: skip
    assert evidence.map_item(url, trust, item, asked.key, actor="lead@r0a", actor_org=trust)
    view = evidence.one(url, trust, item, actor_org=trust)
    assert [i.key for i in view.requirements] == ["cnst_mis_y2:SA9", own.key, asked.key]
    assert evidence.counts(url, [trust])[trust].per_requirement[own.key] == 1
    mine = evidence.add(url, neighbour, {"kind": "link", "title": "t", "link": "https://a.example"}, None,
                        actor="x", actor_org=neighbour, today=TODAY)  # fmt: skip
    with pytest.raises(KeyError):
        evidence.map_item(url, neighbour, mine, own.key, actor="x", actor_org=neighbour)
    assert actions(url).count("assurance.local_added") == 2


def test_only_the_keepers_staff_change_a_list_and_nothing_is_deleted(settings: Settings) -> None:
    url = settings.database_url
    trust, lmns, neighbour, _ = area()
    region = load_hierarchy().ancestor_at(trust, "region").code
    with pytest.raises(PermissionError):  # another trust's staff
        local.add(url, trust, {"title": "Not ours"}, actor="x", actor_org=neighbour)
    with pytest.raises(PermissionError):  # a trust's staff adding to its LMNS's list
        local.add(url, lmns, {"title": "Not ours"}, actor="x", actor_org=trust)
    with pytest.raises(PermissionError):  # a region keeps no local list
        local.add(url, region, {"title": "Regional"}, actor="x", actor_org=region)
    for values, field in (({"title": " "}, "title"), ({"title": "t", "framework": "nonsense"}, "framework"),
                          ({"title": "t", "due": "31/03/2027"}, "due"), ({"title": "x" * 301}, "title")):  # fmt: skip
        with pytest.raises(FieldProblem) as problem:
            local.add(url, trust, values, actor="x", actor_org=trust)
        assert problem.value.field == field
    added = local.add(url, trust, {"title": "Audit induction delays"}, actor="lead@r0a", actor_org=trust)
    local_id = int(added.id)
    with pytest.raises(LookupError):  # the neighbour's staff naming R0A's item as theirs
        local.change(url, neighbour, local_id, {"title": "Mine now"}, actor="x", actor_org=neighbour)
    with pytest.raises(PermissionError):
        local.change(url, trust, local_id, {"title": "Mine now"}, actor="x", actor_org=neighbour)
    changed = local.change(url, trust, local_id, {"title": "Audit induction of labour delays", "due": "2027-03-31"},
                           actor="lead@r0a", actor_org=trust)  # fmt: skip
    assert changed.title == "Audit induction of labour delays" and changed.due == dt.date(2027, 3, 31)
    assert local.change(url, trust, local_id, {"title": "Audit induction of labour delays", "due": "2027-03-31"},
                        actor="lead@r0a", actor_org=trust) == changed  # fmt: skip
    update(url, trust, added.key, {"status": "in_progress"}, actor="lead@r0a", actor_org=trust, today=TODAY)
    with pytest.raises(FieldProblem):
        local.retire(url, trust, local_id, "  ", actor="lead@r0a", actor_org=trust)
    retired = local.retire(url, trust, local_id, "Merged into the induction QI project", actor="lead@r0a",
                           actor_org=trust)  # fmt: skip
    assert retired.retired
    # retired: no longer listed or counted, still found by key with its record, and frozen
    assert (trust, added.key) not in statuses(url, [trust], TODAY)
    assert catalogue(url, [trust]).item(added.key).retired
    with pytest.raises(FieldProblem, match="retired"):
        update(url, trust, added.key, {"status": "met"}, actor="lead@r0a", actor_org=trust, today=TODAY)
    with pytest.raises(FieldProblem, match="reinstate"):
        local.change(url, trust, local_id, {"title": "x"}, actor="lead@r0a", actor_org=trust)
    link = evidence.add(url, trust, {"kind": "link", "title": "L", "link": "https://a.example"}, None, actor="x",
                        actor_org=trust, today=TODAY)  # fmt: skip
    with pytest.raises(KeyError, match="retired"):  # nothing new is mapped to a retired requirement
        evidence.map_item(url, trust, link, added.key, actor="x", actor_org=trust)
    assert [i.key for i in local.kept_by(url, trust)] == [added.key]
    back = local.reinstate(url, trust, local_id, actor="lead@r0a", actor_org=trust)
    assert not back.retired and statuses(url, [trust], TODAY)[(trust, added.key)].status == "in_progress"
    with transaction(url) as session:
        changes = select(AssuranceChange).where(AssuranceChange.item_key == added.key).order_by(AssuranceChange.id)
        trail = [(c.field, c.after) for c in session.scalars(changes)]
    assert trail == [("added", "Audit induction delays"), ("title", "Audit induction of labour delays"),
                     ("default_due", "2027-03-31"), ("status", "in_progress"),
                     ("retired", "Merged into the induction QI project"), ("retired", None)]  # fmt: skip
    assert [a for a in actions(url) if a.startswith("assurance.local")] == [
        "assurance.local_added",
        "assurance.local_changed",
        "assurance.local_retired",
        "assurance.local_reinstated",
    ]


def store(settings: Settings, name: str, data: bytes) -> evidence.StoredFile:
    receiver = evidence.Receiver(evidence.store_dir(settings.home), name)
    receiver.feed(data)
    return receiver.finish()


def test_a_mistaken_item_is_removed_and_its_file_only_when_nothing_else_holds_it(settings: Settings) -> None:
    url, home = settings.database_url, settings.home
    trust, _, neighbour, _ = area()
    minutes = store(settings, "m.pdf", PDF)
    first = evidence.add(url, trust, {"kind": "minutes", "title": "Wrong month's minutes"}, minutes,
                         maps_to=["cnst_mis_y2:SA9", "ockenden_first:IEA1"], actor="lead@r0a", actor_org=trust,
                         today=TODAY)  # fmt: skip
    second = evidence.add(url, neighbour, {"kind": "document", "title": "Same bytes"}, store(settings, "d.pdf", PDF),
                          actor="x", actor_org=neighbour, today=TODAY)  # fmt: skip
    path, _, _ = evidence.download(url, home, trust, first, actor="lead@r0a", actor_org=trust)
    assert path.is_file()
    with pytest.raises(PermissionError):
        evidence.remove(url, home, trust, first, "not mine", actor="x", actor_org=neighbour)
    with pytest.raises(LookupError):  # the neighbour's staff naming R0A's item as theirs
        evidence.remove(url, home, neighbour, first, "not mine", actor="x", actor_org=neighbour)
    with pytest.raises(FieldProblem):
        evidence.remove(url, home, trust, first, " ", actor="lead@r0a", actor_org=trust)
    assert evidence.one(url, trust, first, actor_org=trust).requirements  # nothing happened
    # the neighbour's item holds the same file: the item and its mappings go, the file stays
    assert not evidence.remove(url, home, trust, first, "Attached the wrong month", actor="lead@r0a", actor_org=trust)
    assert path.is_file()
    with pytest.raises(LookupError):
        evidence.one(url, trust, first, actor_org=trust)
    with transaction(url) as session:
        assert session.scalars(select(EvidenceMapping).where(EvidenceMapping.evidence_id == first)).all() == []
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "assurance.evidence_removed")).one()
    assert event.target_id == str(first)
    assert "Attached the wrong month" in str(event.details) and "ockenden_first:IEA1" in str(event.details)
    assert evidence.counts(url, [trust])[trust].items == 0
    # the last item holding it: the file goes too, after the removal committed
    assert evidence.remove(url, home, neighbour, second, "Duplicate", actor="x", actor_org=neighbour)
    assert not path.exists()
    link = evidence.add(url, trust, {"kind": "link", "title": "L", "link": "https://a.example"}, None, actor="x",
                        actor_org=trust, today=TODAY)  # fmt: skip
    assert not evidence.remove(url, home, trust, link, "Wrong link", actor="x", actor_org=trust)  # no file to delete


def test_the_demo_adds_local_requirements_once(settings: Settings) -> None:
    from matneo.assurance.demo import seed_demo_local

    hierarchy = load_hierarchy()
    url = settings.database_url
    assert seed_demo_local(url, hierarchy, "R0A", TODAY) == 2
    assert seed_demo_local(url, hierarchy, "R0A", TODAY) == 0  # once only
    views = {key: v for (_, key), v in statuses(url, ["R0A"], TODAY).items() if key.startswith("local:")}
    assert sorted(v.rag for v in views.values()) == ["amber", "red"]  # the trust's own audit is overdue


def test_the_migration_goes_down_and_up_again(settings: Settings) -> None:
    """0022 removes its two tables on downgrade and puts them back (SQLite and PostgreSQL)."""
    from alembic import command
    from sqlalchemy import inspect

    from matneo.db.session import _alembic_config, get_engine, migrate

    config = _alembic_config()
    with get_engine(settings.database_url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0021")
    ours = {"local_requirements", "voice_themes"}
    assert not ours & set(inspect(get_engine(settings.database_url)).get_table_names())
    migrate(settings.database_url)
    assert ours <= set(inspect(get_engine(settings.database_url)).get_table_names())
