"""The QI workspace's second part on both backends: MatNeoSIP priority and the stage-per-quarter
grid read from the progress score history, the area overview, and links to review actions and
signals shown on both sides (scoped to the owning trust, audited)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matneo.auth.access import Access, Forbidden
from matneo.config import Settings
from matneo.db.models import AuditEvent, QiProject
from matneo.db.session import transaction
from matneo.qi import actions, queries
from matneo.qi.access import QiNotFound
from matneo.qi.core import QiInputError
from matneo.qi.models import QiProgressChange
from matneo.reviews.models import Review, ReviewAction

TODAY = dt.date(2026, 12, 3)
# As tests/qi/conftest.py (not imported: textstat installs a top-level ``tests`` package that shadows this one).
OWN, MEMBER, OUTSIDER = "R0A", "RJ1", "RM3"


def _audits(url: str, action: str) -> int:
    with transaction(url) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def _setup(url: str, people: dict[str, Access]) -> tuple[int, int]:
    cid = actions.create_collaborative(
        url, people["national"], {"name": "Preterm optimisation", "kind": "national", "org_code": "ENG"}
    )
    actions.add_member(url, people["national"], cid, OWN)
    actions.add_member(url, people["national"], cid, MEMBER)
    pid = actions.create_project(
        url,
        people["trust"],
        {"trust_code": OWN, "title": "Magnesium before 30 weeks", "priority": "magnesium_sulphate"},
        [cid],
    )
    return cid, pid


def _review_action(url: str, trust: str, text: str) -> int:
    with transaction(url) as session:
        review = Review(
            trust_code=trust, category="stillbirth", death_date=dt.date(2026, 5, 1), created_by="tests@test"
        )
        session.add(review)
        session.flush()
        action = ReviewAction(
            review_id=review.id, description=text, owner="Midwife", due_on=dt.date(2027, 1, 31), status="open"
        )
        session.add(action)
        session.flush()
        return action.id


def test_priority_is_checked_and_scores_keep_their_history(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    _, pid = _setup(url, people)
    with pytest.raises(QiInputError, match="MatNeoSIP priority"):
        actions.update_project(url, people["trust"], pid, {"title": "x", "priority": "world_peace"})
    # A form without the field keeps the priority.
    actions.update_project(url, people["trust"], pid, {"title": "Magnesium before 30 weeks"})
    assert queries.project_view(url, people["trust"], None, pid).priority == "magnesium_sulphate"
    before = _audits(url, "qi.progress_set")
    actions.set_progress(url, people["trust"], pid, "1.0")
    actions.set_progress(url, people["trust"], pid, "2.5")
    assert _audits(url, "qi.progress_set") == before + 2
    with transaction(url) as session:
        scores = list(session.scalars(select(QiProgressChange.score).where(QiProgressChange.project_id == pid)))
    assert scores == [1.0, 2.5]
    # A refused score writes no history.
    with pytest.raises(QiInputError):
        actions.set_progress(url, people["trust"], pid, "7")
    with pytest.raises(Forbidden):
        actions.set_progress(url, people["member"], pid, "3.0")
    with transaction(url) as session:
        assert session.scalar(select(func.count()).select_from(QiProgressChange)) == 2


def test_stage_grid_shows_the_score_held_at_each_quarter_end(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    cid, pid = _setup(url, people)
    other = actions.create_project(url, people["member"], {"trust_code": MEMBER, "title": "No priority"}, [cid])
    actions.set_progress(url, people["member"], other, "2.0")
    with transaction(url) as session:
        for when, score in (
            (dt.datetime(2026, 2, 10), 0.5),
            (dt.datetime(2026, 5, 1), 1.5),
            (dt.datetime(2026, 6, 30, 23), 2.0),
        ):
            session.add(QiProgressChange(project_id=pid, score=score, set_by="team@test", set_at=when))
    view = queries.collaborative_view(url, people["member"], None, cid, today=TODAY)
    grid = view.stages
    assert grid is not None and [q.label for q in grid.quarters][-4:] == [
        "Jan to Mar 2026",
        "Apr to Jun 2026",
        "Jul to Sep 2026",
        "Oct to Dec 2026",
    ]
    # Only projects with a MatNeoSIP priority; the score held at each quarter's end.
    assert [r.project_id for r in grid.rows] == [pid]
    assert grid.rows[0].stages[-4:] == [0.5, 2.0, 2.0, 2.0]
    assert grid.rows[0].stages[0] is None  # before the first score
    assert grid.level_name(2.0) == "Activity, but no changes"
    as_json = view.to_dict()["stage_per_quarter"]
    assert as_json["rows"][0]["stages"][-1] == {
        "quarter": "Oct to Dec 2026",
        "score": 2.0,
        "stage": "Activity, but no changes",
    }


def test_overview_counts_the_work_in_an_area_within_scope(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    _, pid = _setup(url, people)
    actions.set_progress(url, people["trust"], pid, "3.0")
    actions.create_project(
        url,
        people["outsider"],
        {"trust_code": OUTSIDER, "title": "Cord clamping", "priority": "optimal_cord_management", "status": "testing"},
    )
    lmns = people["lmns"].user.org_code
    view = queries.overview(url, people["lmns"], None, lmns)
    assert {p.title for p in view.projects} == {"Magnesium before 30 weeks", "Cord clamping"}
    rows = {r["priority"]: r for r in view.by_priority}
    assert rows["magnesium_sulphate"]["projects"] == 1 and rows["magnesium_sulphate"]["statuses"]["planning"] == 1
    assert rows["optimal_cord_management"]["statuses"]["testing"] == 1
    assert next(r for r in view.by_score if r["score"] == 3.0)["projects"] == 1
    assert next(r for r in view.by_score if r["score"] is None)["projects"] == 1
    assert {r["trust_code"] for r in view.by_trust} >= {OWN, OUTSIDER}
    assert view.to_dict()["projects"] == 2
    # A trust's staff can see their own trust's overview, not their LMNS's; an unknown code is not found.
    assert [p.id for p in queries.overview(url, people["trust"], None, OWN).projects] == [pid]
    with pytest.raises(Forbidden):
        queries.overview(url, people["trust"], None, lmns)
    with pytest.raises(QiNotFound):
        queries.overview(url, people["lmns"], None, "NOPE")


def test_review_actions_link_within_the_owning_trust_and_show_on_both_sides(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    _, pid = _setup(url, people)
    own_action = _review_action(url, OWN, "Same-day review for reduced fetal movements")
    their_action = _review_action(url, MEMBER, "Another trust's action")
    mine = queries.project_view(url, people["trust"], None, pid)
    assert mine.can_link_reviews and [o[0] for o in mine.review_action_options] == [own_action]
    # Another trust's action is refused; so is anyone but the project trust's own staff.
    with pytest.raises(QiInputError, match="trust's review actions"):
        actions.link_review_action(url, people["trust"], pid, their_action)
    with pytest.raises(Forbidden):
        actions.link_review_action(url, people["lmns"], pid, own_action)
    with pytest.raises(Forbidden):
        actions.link_review_action(url, people["member"], pid, own_action)
    actions.link_review_action(url, people["trust"], pid, own_action)
    assert _audits(url, "qi.review_action_linked") == 1
    with pytest.raises(QiInputError, match="already linked"):
        actions.link_review_action(url, people["trust"], pid, own_action)
    # The project shows it: in full to its trust's staff, due date and status to its LMNS, a count to the collaborative.
    mine = queries.project_view(url, people["trust"], None, pid)
    assert [a["description"] for a in mine.review_actions] == ["Same-day review for reduced fetal movements"]
    lmns = queries.project_view(url, people["lmns"], None, pid)
    assert lmns.review_actions[0]["description"] is None and lmns.review_actions[0]["status"] == "open"
    member = queries.project_view(url, people["member"], None, pid)
    assert member.review_actions == [] and member.review_actions_linked == 1
    # The review side shows the project to those who can see it.
    with transaction(url) as session:
        shown = queries.projects_for_review_actions(session, people["trust"], [own_action])
        assert shown == {own_action: [{"id": pid, "title": "Magnesium before 30 weeks"}]}
        assert queries.projects_for_review_actions(session, people["outsider"], [own_action]) == {}
    actions.unlink_review_action(url, people["trust"], pid, own_action)
    assert _audits(url, "qi.review_action_unlinked") == 1
    assert queries.project_view(url, people["trust"], None, pid).review_actions_linked == 0
    with pytest.raises(QiInputError, match="not linked"):
        actions.unlink_review_action(url, people["trust"], pid, own_action)


def test_signals_show_the_projects_they_prompted(app_store: Settings, people: dict[str, Access]) -> None:
    from matneo.db.models import Signal

    url = app_store.database_url
    with transaction(url) as session:
        signal = Signal(
            trust_code=OWN,
            measure="stillbirth_rate",
            method="funnel",
            status="open",
            first_signal_date=dt.date(2026, 6, 30),
            last_signal_date=dt.date(2026, 6, 30),
            summary="Stillbirth rate above the upper limit",
        )
        session.add(signal)
        session.flush()
        sid = signal.id
    pid = actions.create_project(
        url, people["trust"], {"trust_code": OWN, "title": "Stillbirths", "signal_id": str(sid)}
    )
    assert queries.projects_for_signals(url, people["trust"], [sid]) == {sid: [{"id": pid, "title": "Stillbirths"}]}
    assert queries.projects_for_signals(url, people["member"], [sid]) == {}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """An instance nobody has upgraded yet (as tests/db/test_upgrade.py)."""
    home = tmp_path / "blank"
    home.mkdir()
    url = f"sqlite:///{home / 'matneo.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return Settings(home=home, database_url=url)


def test_migration_backfills_history_from_current_scores(blank: Settings) -> None:
    """0019 gives a project that already had a score one history row, so the grid starts from what is known."""
    settings = blank
    from alembic import command
    from sqlalchemy import text

    from matneo.db.organisations import sync_organisations
    from matneo.db.session import _alembic_config, get_engine, migrate
    from matneo.reference.organisations import load_hierarchy

    settings.ensure_dirs()
    url = settings.database_url
    config = _alembic_config()
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
    sync_organisations(url, load_hierarchy())
    set_at = dt.datetime(2026, 3, 2, 9, 30)
    with get_engine(url).begin() as connection:
        for title, score in (("Scored", 2.0), ("Never scored", None)):
            connection.execute(
                text(
                    "INSERT INTO qi_projects (trust_code, team, title, problem, aim_what, aim_how_much, status, "
                    "progress_score, progress_set_by, progress_set_at, motivation, created_by, created_at, updated_at) "
                    "VALUES (:trust, '', :title, '', '', '', 'planning', :score, :by, :set, '', 't', :at, :at)"
                ),
                {
                    "trust": OWN,
                    "title": title,
                    "score": score,
                    "by": "lead@test" if score else None,
                    "set": set_at if score else None,
                    "at": set_at,
                },
            )
    migrate(url)
    with transaction(url) as session:
        rows = session.execute(select(QiProgressChange.score, QiProgressChange.set_by, QiProgressChange.set_at)).all()
        assert [tuple(r) for r in rows] == [(2.0, "lead@test", set_at)]
        assert session.scalar(select(QiProject.priority).where(QiProject.title == "Scored")) is None


def test_team_marks_astronomical_points_read_with_the_ihi_rules(app_store: Settings, people: dict[str, Access]) -> None:
    from matneo.qi.core import parse_periods

    assert parse_periods("month", "2025-03, 2025-07-19;2025-03") == ([dt.date(2025, 3, 1), dt.date(2025, 7, 1)], [])
    assert parse_periods("week", "2025-03-05 March") == ([dt.date(2025, 3, 3)], ["March"])
    url = app_store.database_url
    _, pid = _setup(url, people)
    mid = actions.add_measure(
        url,
        people["trust"],
        pid,
        {"kind": "process", "source": "custom", "title": "Given", "unit": "count", "direction": "increase"},
    )
    for month, value in (("2025-01", 5), ("2025-02", 6), ("2025-03", 40), ("2025-04", 5), ("2025-05", 6)):
        actions.add_value(url, people["trust"], mid, {"period": month, "value": str(value)}, today=TODAY)
    with pytest.raises(QiInputError, match="like 2025-03"):
        actions.update_measure(url, people["trust"], mid, {"rule_set": "ihi", "astronomical": "March"})
    actions.update_measure(url, people["trust"], mid, {"rule_set": "ihi", "astronomical": "2025-03"})
    _, measure = queries.measure_view(url, people["trust"], None, mid)
    assert measure.astronomical == [dt.date(2025, 3, 1)]
    assert measure.analysis is not None and measure.analysis.astronomical == (2,) and measure.analysis.signal
    assert not measure.improved  # a judgement, not a sustained change
    # Saving the settings without the field keeps the marks; an empty field clears them.
    actions.update_measure(url, people["trust"], mid, {"rule_set": "ihi"})
    assert queries.measure_view(url, people["trust"], None, mid)[1].astronomical == [dt.date(2025, 3, 1)]
    actions.update_measure(url, people["trust"], mid, {"rule_set": "ihi", "astronomical": ""})
    assert queries.measure_view(url, people["trust"], None, mid)[1].astronomical == []
    # The audit log names the change in words, not as a Python dict.
    from matneo.reference.organisations import load_hierarchy
    from matneo.web.pages.admin import _detail_value

    words = _detail_value(load_hierarchy(), "after", {"rule_set": "ihi", "astronomical": ["2025-03-01"]})
    assert words == "rule set ihi, astronomical 1 Mar 2025"


def test_a_project_joins_another_collaborative_of_its_trust(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    first, pid = _setup(url, people)
    second = actions.create_collaborative(
        url, people["national"], {"name": "Second wave", "kind": "national", "org_code": "ENG"}
    )
    elsewhere = actions.create_collaborative(
        url, people["national"], {"name": "Without R0A", "kind": "national", "org_code": "ENG"}
    )
    actions.add_member(url, people["national"], second, OWN)
    actions.add_member(url, people["national"], elsewhere, MEMBER)
    assert [c[0] for c in queries.project_view(url, people["trust"], None, pid).join_options] == [second]
    with pytest.raises(QiInputError, match="member of"):
        actions.join_collaborative(url, people["trust"], pid, elsewhere)
    with pytest.raises(Forbidden):
        actions.join_collaborative(url, people["member"], pid, second)
    actions.join_collaborative(url, people["trust"], pid, second)
    assert _audits(url, "qi.project_joined") == 1
    with pytest.raises(QiInputError, match="already"):
        actions.join_collaborative(url, people["trust"], pid, first)
    assert {c[0] for c in queries.project_view(url, people["trust"], None, pid).collaboratives} == {first, second}
