"""``matneo harm route FILE.json`` through a parent app, as the main CLI will register it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from matneo.cli.harm import harm_app

from .reports import died_at, report

app = typer.Typer()
app.add_typer(harm_app, name="harm")
runner = CliRunner()


def write(tmp_path: Path, data: object, name: str = "report.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_route_prints_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["harm", "route", write(tmp_path, report(died_at(3))), "--today", "2027-06-30"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["ruleset"] == "2026-11"
    assert [r["id"] for r in output["routes"]] == ["MNSI", "MBRRACE_PERINATAL", "PMRT", "CDOP", "LFPSE"]
    assert output["pending"] == []


def test_route_reads_stdin() -> None:
    result = runner.invoke(app, ["harm", "route", "-", "--today", "2027-06-30"], input=json.dumps(report()))
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)["routes"]] == ["LFPSE"]


def test_route_with_options_file(tmp_path: Path) -> None:
    data = report(baby=None, mother={"died": True, "death_date": "2026-03-10", "death_timing": "during_pregnancy",
                                     "cause_classification": "suicide"})  # fmt: skip
    options = write(tmp_path, {"rules": {"MNSI-1b-SUICIDE": True}}, "options.json")
    result = runner.invoke(app, ["harm", "route", write(tmp_path, data), "--today", "2027-06-30", "--options", options])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["routes"][0]["reasons"][0]["needs_local_confirmation"] is True


def test_bad_report_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["harm", "route", write(tmp_path, report(weeks=50)), "--today", "2027-06-30"])
    assert result.exit_code == 2
    assert "gestation.weeks: must be a whole number from 0 to 45, got 50" in result.stderr


def test_unreadable_or_invalid_files_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["harm", "route", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read report file" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    invalid = runner.invoke(app, ["harm", "route", str(bad)])
    assert invalid.exit_code == 2 and "is not valid JSON" in invalid.stderr
    bad_day = runner.invoke(app, ["harm", "route", write(tmp_path, report()), "--today", "30/06/2027"])
    assert bad_day.exit_code == 2 and "--today must be a date" in bad_day.stderr
    options = write(tmp_path, {"rules": {"MNSI-1b": False}}, "options.json")
    bad_options = runner.invoke(app, ["harm", "route", write(tmp_path, report()), "--options", options])
    assert bad_options.exit_code == 2 and "cannot be switched" in bad_options.stderr
