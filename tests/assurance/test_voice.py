"""Family and staff voice: the documented CSV layout, aggregate figures only, the threshold-free
concern, and culture surveys kept to the trust (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from matneo.assurance import voice
from matneo.config import Settings
from matneo.db.models import AuditEvent, VoiceFigure
from matneo.db.session import transaction
from matneo.triangulation.sources import _voice as voice_concerns

TODAY = dt.date(2026, 12, 3)


def fft_csv(values: dict[str, float], trust: str = "R0A") -> bytes:
    rows = ["org_code,period,measure,value,responses"]
    rows += [f"{trust},{period},positive_percent,{value},120" for period, value in values.items()]
    return ("\n".join(rows) + "\n").encode()


def test_a_file_is_read_by_its_layout_and_bad_rows_are_listed_not_guessed(settings: Settings) -> None:
    url, known = settings.database_url, voice.layouts()
    data = (
        b"org_code,period,measure,value,responses\n"
        b"R0A,2026-10,positive_percent,93.5,240\n"
        b"R0A,2026-11,positive_percent,91%,200\n"
        b"RJ1,2026-11,positive_percent,80,100\n"  # another trust's row
        b"R0A,Nov 2026,positive_percent,90,100\n"
        b"R0A,2026-11,happiness,90,100\n"
        b"R0A,2026-11,negative_percent,140,100\n"
        b"R0A,2026-11,negative_percent,3.1,\n"
    )
    result = voice.import_csv(url, known["fft"], data, allowed_trusts={"R0A"}, actor="lead@r0a")
    assert (result.rows_read, result.rows_stored, result.problem_count) == (7, 3, 4)
    assert result.problems[0] == "Row 4: RJ1 is not a trust you can import figures for."
    assert "look like 2026-03" in result.problems[1] and "not a measure" in result.problems[2]
    again = voice.import_csv(url, known["fft"], fft_csv({"2026-11": 92.0}), allowed_trusts={"R0A"}, actor="x")
    assert again.rows_stored == 1  # replaces the figure for the same trust, period and measure
    with transaction(url) as session:
        stored = session.scalars(select(VoiceFigure).order_by(VoiceFigure.period, VoiceFigure.measure)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "voice.imported")).all()
    assert [(f.period, f.measure, f.value) for f in stored] == [
        ("2026-10", "positive_percent", 93.5),
        ("2026-11", "negative_percent", 3.1),
        ("2026-11", "positive_percent", 92.0),
    ]
    assert len(events) == 2 and json.loads(events[0].details)["rows_rejected"] == 4
    with pytest.raises(ValueError, match="no column year, score"):
        voice.import_csv(url, known["cqc_maternity_survey"], data, allowed_trusts={"R0A"}, actor="x")


def test_the_worst_of_recent_months_is_a_concern_for_triangulation(settings: Settings) -> None:
    url, known = settings.database_url, voice.layouts()
    months = {f"2026-{m:02d}": 95.0 - (m == 11) * 6 + (m % 3) * 0.5 for m in range(1, 12)}
    voice.import_csv(url, known["fft"], fft_csv(months), allowed_trusts={"R0A"}, actor="x")
    line = voice.latest(url, ["R0A"], known, above_trust=True)["R0A"][0]
    assert line.period == "2026-11" and line.worst_recently and line.previous_period == "2026-10"
    heard = voice_concerns(url, ["R0A"], TODAY, dt.date(2025, 12, 3), None)  # the triangulation's voice source
    assert [c.text for c in heard] == [
        "Friends and Family Test (maternity): Responses positive (very good or good) 90.0% in Nov 2026, "
        "lowest of the last 12 months"
    ]
    assert heard[0].day == dt.date(2026, 11, 30)
    # a better December: no longer a concern
    voice.import_csv(url, known["fft"], fft_csv({"2026-12": 97.0}), allowed_trusts={"R0A"}, actor="x")
    assert not voice.latest(url, ["R0A"], known, above_trust=True)["R0A"][0].worst_recently


def test_culture_survey_results_stay_with_the_trust(settings: Settings) -> None:
    url, known = settings.database_url, voice.layouts()
    data = "org_code,year,domain,percent_positive,responses\n"
    data += "R0A,2025,safety_climate,71,40\nR0A,2026,safety_climate,52,38\n"
    voice.import_csv(url, known["culture_survey"], data.encode(), allowed_trusts={"R0A"}, actor="x")
    assert voice.latest(url, ["R0A"], known, above_trust=False)["R0A"][0].worst_recently  # the trust sees it
    assert voice.latest(url, ["R0A"], known, above_trust=True)["R0A"] == []  # its LMNS and region do not
    assert voice.concern_lines(url, ["R0A"], known) == []  # nor does the triangulation they read


def test_column_names_are_settings(tmp_path: Path, settings: Settings) -> None:
    packaged = json.loads(Path(voice.__file__).with_name("data").joinpath("voice_layouts.json").read_text())
    packaged["sources"]["fft"]["columns"] = {"org_code": "Org code", "period": "Month", "measure": "Measure",
                                             "value": "Percent", "responses": "Total responses"}  # fmt: skip
    own = tmp_path / "layouts.json"
    own.write_text(json.dumps(packaged))
    mine = voice.layouts(own)
    data = b"Org code,Month,Measure,Percent,Total responses\nR0A,2026-11,positive_percent,94,300\n"
    assert (
        voice.import_csv(settings.database_url, mine["fft"], data, allowed_trusts={"R0A"}, actor="x").rows_stored == 1
    )
