"""Maternity and Neonatal Voices Partnership feedback themes: the configurable layout, the import
(rows refused not guessed, a period replaced whole), the rising-concern rule and the triangulation
that reads it (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from matneo.assurance import voice
from matneo.config import Settings
from matneo.db.models import AuditEvent, VoiceTheme
from matneo.db.session import transaction
from matneo.triangulation.sources import _voice as voice_concerns

TODAY = dt.date(2026, 12, 3)
HEAD = "org_code,period_end,theme,mentions,sentiment,what_we_heard,what_we_did"


def csv(*rows: str) -> bytes:
    return ("\n".join([HEAD, *rows]) + "\n").encode()


def test_the_layout_is_a_setting_that_needs_local_confirmation(tmp_path: Path) -> None:
    mnvp = voice.theme_layouts()["mnvp_themes"]
    assert mnvp.needs_local_confirmation and mnvp.shown_above_trust and mnvp.period_months == 3
    assert mnvp.publisher.endswith(
        "https://www.england.nhs.uk/long-read/maternity-and-neonatal-voices-partnership-guidance/"
    )
    assert mnvp.period_words("2026-09") == "Jul–Sep 2026" and mnvp.period_words("2026-02") == "Dec 2025–Feb 2026"
    # a layouts file of the instance's own: its themes section is read, its column names used
    own = json.loads((Path(voice.__file__).parent / "data" / "voice_layouts.json").read_text("utf-8"))
    own["themes"]["mnvp_themes"]["columns"]["theme"] = "Theme heading"
    own["themes"]["mnvp_themes"]["period_months"] = 1
    path = tmp_path / "layouts.json"
    path.write_text(json.dumps(own), "utf-8")
    assert voice.theme_layouts(path)["mnvp_themes"].columns["theme"] == "Theme heading"
    assert voice.theme_layouts(path)["mnvp_themes"].period_words("2026-09") == "Sep 2026"
    del own["themes"]  # a file written before themes existed: the packaged layout stands
    path.write_text(json.dumps(own), "utf-8")
    assert voice.theme_layouts(path)["mnvp_themes"].columns["theme"] == "theme"


def test_themes_are_imported_by_the_layout_and_a_period_is_replaced_whole(settings: Settings) -> None:
    url, mnvp = settings.database_url, voice.theme_layouts()["mnvp_themes"]
    result = voice.import_themes(url, mnvp, csv(
        'R0A,2026-09,Communication during induction,11,Negative,"Waited hours, not told why","New leaflet"',
        "R0A,2026-09,Kindness on the birth centre,15,positive,,",
        "R0A,2026-09,Partners staying overnight,7,,,",
        "RJ1,2026-09,Not ours,3,negative,,",
        "R0A,Q3 2026,Dates as words,3,negative,,",
        "R0A,2026-09,,3,negative,,",
        "R0A,2026-09,Counted in words,three,negative,,",
        "R0A,2026-09,Feelings,3,furious,,",
    ), allowed_trusts={"R0A"}, actor="lead@r0a")  # fmt: skip
    assert (result.rows_read, result.rows_stored, result.problem_count) == (8, 3, 5)
    assert result.problems[0] == "Row 5: RJ1 is not a trust you can import feedback for."
    assert "last month it covers" in result.problems[1] and "whole number" in result.problems[3]
    assert "sentiment must be one of positive, mixed, negative" in result.problems[4]
    (report,) = voice.latest_themes(url, ["R0A"], {"mnvp_themes": mnvp}, above_trust=True)["R0A"]
    assert report.period_text == "Jul–Sep 2026" and report.previous_period is None
    assert [(t.theme, t.mentions, t.sentiment) for t in report.themes] == [
        ("Kindness on the birth centre", 15, "positive"),
        ("Communication during induction", 11, "negative"),
        ("Partners staying overnight", 7, None),
    ]
    assert report.themes[1].heard == "Waited hours, not told why" and report.themes[1].did == "New leaflet"
    assert not any(t.rising_concern for t in report.themes)  # a first report: nothing to compare with
    again = voice.import_themes(url, mnvp, csv("R0A,2026-09,Communication during induction,12,negative,,"),
                                allowed_trusts={"R0A"}, actor="lead@r0a")  # fmt: skip
    assert again.rows_stored == 1
    with transaction(url) as session:
        held = [(r.period, r.theme, r.mentions) for r in session.scalars(select(VoiceTheme))]
        events = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert held == [("2026-09", "Communication during induction", 12)]  # the re-issued report replaced the period
    assert events == ["voice.themes_imported", "voice.themes_imported"]


def test_a_negative_theme_raised_more_than_before_is_a_rising_concern(settings: Settings) -> None:
    url, known = settings.database_url, voice.theme_layouts()
    rows = [f"R0A,{p},Communication during induction,{n},negative,," for p, n in
            (("2025-12", 4), ("2026-03", 5), ("2026-06", 6), ("2026-09", 11))]  # fmt: skip
    rows += [f"R0A,{p},Waiting for discharge,{n},negative,," for p, n in
             (("2025-12", 9), ("2026-03", 8), ("2026-06", 10), ("2026-09", 7))]  # fmt: skip
    rows += ["R0A,2026-09,Kindness on the birth centre,30,positive,,", "R0A,2026-09,Car parking,2,negative,,"]
    voice.import_themes(url, known["mnvp_themes"], csv(*rows), allowed_trusts={"R0A"}, actor="t")
    (report,) = voice.latest_themes(url, ["R0A"], known, above_trust=True)["R0A"]
    rising = {t.theme: t.rising_concern for t in report.themes}
    assert rising == {"Communication during induction": True, "Waiting for discharge": False,
                      "Kindness on the birth centre": False, "Car parking": True}  # fmt: skip
    before = {t.theme: t.before for t in report.themes}
    assert before["Communication during induction"] == 6 and before["Car parking"] == 0
    # a board pack for August sees the June report, not September's
    (june,) = voice.latest_themes(url, ["R0A"], known, above_trust=True, as_of=dt.date(2026, 8, 31))["R0A"]
    assert june.period == "2026-06"
    assert {t.theme for t in june.themes if t.rising_concern} == {
        "Communication during induction",
        "Waiting for discharge",
    }  # 6 > 5, 10 > 9
    concerns = voice_concerns(url, ["R0A"], TODAY, dt.date(2026, 1, 1), None)
    words = [c.text for c in concerns]
    assert any('"Communication during induction" raised 11 times in Jul–Sep 2026, negative' in w for w in words)
    assert all(c.day == dt.date(2026, 9, 30) for c in concerns)


def test_the_demo_seeds_a_year_of_themes_once(settings: Settings) -> None:
    from matneo.assurance.demo import seed_demo_themes

    assert seed_demo_themes(settings.database_url, "R0A", TODAY) == 16
    assert seed_demo_themes(settings.database_url, "R0A", TODAY) == 0  # once only
    (report,) = voice.latest_themes(settings.database_url, ["R0A"], voice.theme_layouts(), above_trust=True)["R0A"]
    assert report.period == "2026-09" and report.previous_period == "2026-06"  # Sep-Nov is not over on 3 Dec
    induction = next(t for t in report.themes if t.theme.startswith("Communication during induction"))
    assert induction.rising_concern and induction.mentions == 11 and induction.did
