"""The ``matneo`` command line, run as a user would run it (a real child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from matneo.config import Settings
from matneo.reference.organisations import load_hierarchy


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_orgs_lists_the_hierarchy_as_json(sqlite_settings: Settings) -> None:
    result = matneo(sqlite_settings, "orgs", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert set(rows[0]) == {"code", "name", "level", "parent"}
    assert rows[0] == {"code": "ENG", "name": "England", "level": "england", "parent": None}
    by_level = {level: [r for r in rows if r["level"] == level] for level in ("region", "lmns", "trust")}
    assert len(by_level["region"]) == 7
    assert len(by_level["trust"]) == len(load_hierarchy().trusts())
    assert all(r["parent"] == "ENG" for r in by_level["region"])


def test_orgs_table_and_bad_level(sqlite_settings: Settings) -> None:
    table = matneo(sqlite_settings, "orgs", "--level", "region")
    assert table.returncode == 0 and "London" in table.stdout
    bad = matneo(sqlite_settings, "orgs", "--level", "ward")
    assert bad.returncode == 2
    assert "level must be one of" in bad.stderr


def test_load_and_status(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    path = write_csv(tmp_path / "births.csv", [make_row(), make_row(outcome="born")])
    loaded = matneo(sqlite_settings, "load", str(path))
    assert loaded.returncode == 0, loaded.stderr  # rejected rows are not a failure
    assert "1 rows rejected" in loaded.stdout
    assert "outcome must be one of" in loaded.stdout
    status = json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout)
    assert (status["rows"], status["trusts"], status["rows_rejected"]) == (1, 1, 1)
    assert status["last_loads"][0]["rejection_file"].endswith("-rejections.csv")
    human = matneo(sqlite_settings, "status")
    assert "Records: 1 birth record from 1 trust over 1 month (2019-06 to 2019-06)." in human.stdout


def test_unreadable_input_exits_non_zero_and_is_recorded(sqlite_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "births.csv"
    bad.write_bytes(b"record_id,trust_code\n1,R\xe9\n")
    result = matneo(sqlite_settings, "load", str(bad))
    assert result.returncode == 1
    assert "is not UTF-8 text" in result.stderr and "Nothing was changed" in result.stderr
    status = json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout)
    assert status["rows"] == 0
    assert status["last_loads"][0]["status"] == "failed"
    assert "UTF-8" in status["last_loads"][0]["error"]


def test_reference_install_refuses_a_bad_extract(sqlite_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "orgs.csv"
    bad.write_text("code,name,level,parent_code\nRXX,Somewhere,trust,QZZ\n")
    result = matneo(sqlite_settings, "reference", "install", str(bad))
    assert result.returncode == 1
    assert "Not installed" in result.stderr
    assert not (sqlite_settings.home / "reference" / "organisations.csv").exists()


def test_measures_command(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    rows = [
        make_row(),
        make_row(outcome="stillbirth", stillbirth_timing="antepartum", nnu_admission="", brain_injury=""),
    ]
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", rows))).returncode == 0
    result = matneo(sqlite_settings, "measures", "-m", "stillbirth_rate", "--level", "trust", "--format", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["numerator"], row["denominator"], row["value"], row["period"]) == (1, 2, 500.0, "2019")
    csv_out = matneo(sqlite_settings, "measures", "-m", "stillbirth_rate", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith('"measure","level","org_code","org_name","period",')  # text quoted
    assert ",500.0," in csv_out, "numbers bare"
    table = matneo(sqlite_settings, "measures", "--period", "month", "-m", "preterm_birth_rate")
    assert "preterm_birth_rate" in table.stdout and "ENG" in table.stdout
    bad = matneo(sqlite_settings, "measures", "-m", "nonsense")
    assert bad.returncode == 2 and "unknown measure nonsense" in bad.stderr
    listing = matneo(sqlite_settings, "measures", "--list")
    assert "right_place_of_birth_under_34wk" in listing.stdout


def test_ambition_command(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", [make_row()]))).returncode == 0
    result = matneo(sqlite_settings, "ambition", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = {item["measure"]: item for item in json.loads(result.stdout)}
    assert report["stillbirth_rate"]["problem"] == "no full year of data"  # one month loaded
    assert "Stillbirth rate" in matneo(sqlite_settings, "ambition").stdout
    unknown = matneo(sqlite_settings, "ambition", "--org", "NOPE")
    assert unknown.returncode == 2


def test_published_measures_hide_small_numbers(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    rows = [make_row(outcome="stillbirth", stillbirth_timing="antepartum", nnu_admission="", brain_injury="")]
    rows += [make_row() for _ in range(20)]
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", rows))).returncode == 0
    args = ["measures", "-m", "stillbirth_rate", "--level", "trust", "--format", "json"]
    (raw,) = json.loads(matneo(sqlite_settings, *args).stdout)
    assert (raw["numerator"], raw["suppressed"]) == (1, False)  # the owner's own view
    (published,) = json.loads(matneo(sqlite_settings, *args, "--publish").stdout)
    assert published["suppressed"] is True
    assert published["numerator"] is None and published["value"] is None and published["upper95"] is None
    assert "suppression_reason" not in published


def test_published_measures_cannot_be_differenced_across_commands(
    sqlite_settings: Settings, tmp_path: Path, make_row, write_csv
) -> None:
    """One publish path (issue 11): ``--publish`` suppresses as the web does, every measure
    together with the links between them (ADR 0007). Publishing each command's rows alone hid
    one trust's single stillbirth but showed total births (41) and, in the next command, live
    births (40): 41 - 40 = 1."""
    dead = {"outcome": "stillbirth", "stillbirth_timing": "antepartum", "nnu_admission": "", "brain_injury": ""}
    rows = [make_row(**dead)] + [make_row() for _ in range(40)]
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", rows))).returncode == 0
    args = ["measures", "--level", "trust", "--format", "json", "--publish"]
    (stillbirths,) = json.loads(matneo(sqlite_settings, *args, "-m", "stillbirth_rate").stdout)
    (neonatal,) = json.loads(matneo(sqlite_settings, *args, "-m", "neonatal_mortality_all").stdout)
    assert stillbirths["numerator"] is None
    assert stillbirths["denominator"] is None or neonatal["denominator"] is None, (
        f"total births {stillbirths['denominator']} - live births {neonatal['denominator']} = the hidden count"
    )


def test_signals_commands(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", [make_row()]))).returncode == 0
    listed = matneo(sqlite_settings, "signals")
    assert listed.returncode == 0, listed.stderr
    assert "No active signals." in listed.stdout
    assert json.loads(matneo(sqlite_settings, "signals", "--format", "json", "--no-refresh").stdout) == []
    assert matneo(sqlite_settings, "signals", "--no-refresh", "--level", "lmns").returncode == 0
    assert matneo(sqlite_settings, "signals", "--no-refresh", "--level", "ward").returncode == 2
    missing = matneo(sqlite_settings, "signal-ack", "7", "--by", "me", "--comment", "looking")
    assert missing.returncode == 2 and "there is no signal 7" in missing.stderr


def test_users_commands(sqlite_settings: Settings) -> None:
    trust = load_hierarchy().trusts()[0].code
    env = dict(os.environ, MATNEO_HOME=str(sqlite_settings.home), MATNEO_DATABASE_URL=sqlite_settings.database_url)
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "matneo.cli.main",
            "users",
            "add",
            "--email",
            "a@example.nhs.uk",
            "--role",
            "trust_staff",
            "--org",
            trust,
            "--password-stdin",
        ],
        input="a long enough password\n",
        env=env,
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(matneo(sqlite_settings, "users", "list", "--format", "json").stdout)
    assert [(u["email"], u["org_code"]) for u in listed] == [("a@example.nhs.uk", trust)]
    assert "password" not in json.dumps(listed)
    no_stdin = matneo(sqlite_settings, "users", "add", "--email", "b@x.uk", "--role", "trust_staff", "--org", trust)
    assert no_stdin.returncode == 2
    assert json.loads(matneo(sqlite_settings, "users", "audit").stdout)[0]["action"] == "user.add"
    deactivated = matneo(sqlite_settings, "users", "change", "deactivate", "--email", "A@example.nhs.uk")
    assert deactivated.returncode == 0, deactivated.stderr
    assert json.loads(matneo(sqlite_settings, "users", "list", "--format", "json").stdout)[0]["active"] is False
    assert matneo(sqlite_settings, "users", "change", "unlock", "--email", "a@example.nhs.uk").returncode == 0
    assert matneo(sqlite_settings, "users", "change", "unlock", "--email", "nobody@x.uk").returncode == 2
    actions = [e["action"] for e in json.loads(matneo(sqlite_settings, "users", "audit").stdout)]
    assert actions[:2] == ["user.unlock", "user.deactivate"]


def test_demo_creates_users_and_prints_how_to_sign_in(sqlite_settings: Settings) -> None:
    shown = matneo(
        sqlite_settings,
        "demo",
        "--no-serve",
        "--years",
        "2023-2023",
        "--scale",
        "0.01",
        "--struggling",
        "R0A:2023-06:2.0",
    )
    assert shown.returncode == 0, shown.stderr
    for email in ("analyst@", "region@", "lmns@", "trust@", "admin@"):
        assert email in shown.stdout
    saved = json.loads((sqlite_settings.home / "demo-users.json").read_text())
    assert len(saved) == 5 and all(len(p) >= 12 for p in saved.values())
    assert (sqlite_settings.home / "DEMO").exists()
    assert "demonstration improvement collaborative" in shown.stdout
    again = matneo(sqlite_settings, "demo", "--no-serve")
    assert again.returncode == 0 and "Records already loaded" in again.stdout
    assert "demonstration improvement collaborative" not in again.stdout  # seeded once
    assert json.loads((sqlite_settings.home / "demo-users.json").read_text()) == saved


def test_load_dry_run_prints_the_plan_as_json_and_changes_nothing(
    sqlite_settings: Settings, tmp_path: Path, make_row, write_csv, trusts
) -> None:
    december = [make_row(record_id=f"D{i}", birth_datetime="2024-12-03 04:00:00") for i in range(10)]
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "dec.csv", december))).returncode == 0
    short = write_csv(
        tmp_path / "short.csv",
        [
            make_row(record_id="D1", birth_datetime="2024-12-03 04:00:00"),
            make_row(record_id="D2", birth_datetime="2024-11-30 23:00:00"),  # moves to November
            make_row(record_id="BAD", gestation_weeks="70", birth_datetime="2024-12-03 04:00:00"),
        ],
    )
    before = json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout)
    result = matneo(sqlite_settings, "load", "--dry-run", "--format", "json", str(short))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    trust = trusts[0][0]
    assert plan["files"] == [str(short)]
    assert plan["replaces"] == [
        {"trust_code": trust, "month": "2024-11", "existing_rows": 0, "new_rows": 1},
        {"trust_code": trust, "month": "2024-12", "existing_rows": 10, "new_rows": 1},
    ]
    assert (plan["moved_records"], plan["rejected_rows"]) == (1, 1)
    assert json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout) == before
    refused = matneo(sqlite_settings, "load", str(short))
    assert refused.returncode == 1 and "--allow-shrink" in refused.stderr
    human = matneo(sqlite_settings, "load", "--dry-run", str(short))
    assert f"This replaces 10 records of {trust} December 2024 with 1." in human.stdout
    assert "nothing was changed" in human.stdout


def test_loads_list_and_revert(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    first = write_csv(tmp_path / "first.csv", [make_row(record_id="A"), make_row(record_id="B")])
    fix = write_csv(tmp_path / "fix.csv", [make_row(record_id="B", birth_weight_g="2000"), make_row(record_id="C")])
    assert matneo(sqlite_settings, "load", str(first)).returncode == 0
    assert matneo(sqlite_settings, "load", "--mode", "upsert", str(fix)).returncode == 0
    listed = json.loads(matneo(sqlite_settings, "loads", "list", "--format", "json").stdout)
    assert [(x["id"], x["files"], x["mode"]) for x in listed] == [
        (2, ["fix.csv"], "upsert"),
        (1, ["first.csv"], "resubmit"),
    ]
    assert [(x["rows_added"], x["rows_replaced"], x["rows_removed"]) for x in listed] == [(1, 1, 0), (2, 0, 0)]
    blocked = matneo(sqlite_settings, "loads", "revert", "1")
    assert blocked.returncode == 1 and "Revert the later loads first" in blocked.stderr
    reverted = matneo(sqlite_settings, "loads", "revert", "2")
    assert reverted.returncode == 0, reverted.stderr
    assert "Load 2 reverted" in reverted.stdout
    status = json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout)
    assert status["rows"] == 2
    listed = json.loads(matneo(sqlite_settings, "loads", "list", "--format", "json").stdout)
    assert [(x["id"], x["status"], x["reverts_load_id"]) for x in listed] == [
        (3, "revert", 2),
        (2, "reverted", None),
        (1, "loaded", None),
    ]
    table = matneo(sqlite_settings, "loads", "list")
    assert "fix.csv" in table.stdout and "upsert" in table.stdout


def test_load_names_absent_optional_columns(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    from matneo.records.schema import REQUIRED_FIELDS

    path = write_csv(tmp_path / "lean.csv", [make_row()], columns=[*REQUIRED_FIELDS, "birth_weight_g"])
    loaded = matneo(sqlite_settings, "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "lean.csv has no column site_code, sex," in " ".join(loaded.stdout.split())
    assert "birth_weight_g" not in loaded.stdout.split("has no column")[1].split("optional")[0]


def test_load_msds_from_the_command_line(sqlite_settings: Settings, tmp_path: Path) -> None:
    made = matneo(
        sqlite_settings,
        "synth",
        "--out",
        str(tmp_path / "msds"),
        "--years",
        "2022",
        "--scale",
        "0.001",
        "--format",
        "msds",
    )
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (tmp_path / "msds" / "msds_2022").iterdir())[:2] == [
        "MATNEO01Supplement.csv",
        "MSD001MotherDemog.csv",
    ]
    plan = matneo(sqlite_settings, "load", "--format", "msds", "--output", "json", "--dry-run", str(tmp_path / "msds"))
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["loaded_rows"] > 0
    loaded = matneo(sqlite_settings, "load", "--format", "msds", str(tmp_path / "msds"))
    assert loaded.returncode == 0, loaded.stderr
    assert "msds_2022" in loaded.stdout
    status = json.loads(matneo(sqlite_settings, "status", "--format", "json").stdout)
    assert status["rows"] == json.loads(plan.stdout)["loaded_rows"]
