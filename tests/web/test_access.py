"""Access control as a matrix: every role × own/other organisation × every endpoint.

"Own" is a trust under the user's organisation (R0A, North West); "other" is a trust in
another region (RJ1, London). A cell is allowed when the trust is in the user's scope (and
the role may do the action). Every forbidden cell must deny: no unsuppressed small numbers,
no signals, no rejection reports, no loading another trust's records, no managing its users.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.measurereport import MeasureReport

from fhirbundles import bundle_of_csv
from matneo.auth.users import list_users
from matneo.records.load import load_files
from matneo.records.schema import FIELD_NAMES
from rowbuilder import valid_row

from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance, plant_signal

SCOPE = {
    "national": {"own", "other"},
    "region": {"own"},
    "lmns": {"own"},
    "trust": {"own"},
    "other_trust": {"other"},
    "admin": {"own", "other"},
    "trust_admin": {"own"},
}
ADMINS = {"admin", "trust_admin"}
ACKNOWLEDGERS = {"national", "region", "lmns", "trust", "other_trust"}
TRUSTS = {"own": OWN_TRUST, "other": OTHER_TRUST}


@dataclass(frozen=True)
class Targets:
    signal: dict[str, int]
    load: dict[str, int]
    user: dict[str, int]


@pytest.fixture(scope="module")
def targets(web: WebInstance, tmp_path_factory: pytest.TempPathFactory) -> Targets:
    """A signal, a load with a rejection report and a user for each of the two trusts."""
    url = web.settings.database_url
    signals, loads = {}, {}
    folder = tmp_path_factory.mktemp("access-loads")
    for side, trust in TRUSTS.items():
        signals[side] = plant_signal(url, trust, "brain_injury_rate", "planted by the access tests")
        site = web.hierarchy.sites_of(trust)[0].code
        when = {"birth_datetime": "2018-03-01 09:00:00"}
        rows = [
            valid_row([(trust, site)], 1, record_id=f"ACC-{trust}-1", mother_id=f"MA-{trust}-1", **when),
            valid_row([(trust, site)], 2, record_id=f"ACC-{trust}-2", gestation_weeks="77", **when),
        ]
        path = folder / f"{trust}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(FIELD_NAMES), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        loads[side] = load_files([path], web.settings, web.hierarchy).ledger_ids[0]
    by_email = {u.email: u.id for u in list_users(url)}
    users = {"own": by_email["trust@test.invalid"], "other": by_email["other@test.invalid"]}
    return Targets(signals, loads, users)


@pytest.fixture(scope="module")
def clients(web: WebInstance) -> dict[str, httpx.Client]:
    return {name: web.client(name) for name in SCOPE}


CELLS = [(user, side) for user in SCOPE for side in ("own", "other")]


def _ids(cell: tuple[str, str]) -> str:
    return f"{cell[0]}-{cell[1]}"


# -- measure rows ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_monthly_measure_rows(cell: tuple[str, str], clients: dict[str, httpx.Client]) -> None:
    user, side = cell
    response = clients[user].get(
        "/api/v1/measures",
        params={"measure": "stillbirth_rate", "level": "trust", "period": "month", "org": TRUSTS[side]},
    )
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert rows, "the trust has monthly rows"
    small = [r for r in rows if r["numerator"] is not None and 1 <= r["numerator"] <= 7]
    if side in SCOPE[user]:
        assert small, "in scope: small monthly counts are shown unsuppressed"
        assert not any(r["suppressed"] for r in rows)
    else:
        assert not small, f"out of scope: {len(small)} small counts leaked"
        assert any(r["suppressed"] for r in rows)
        assert all(r["value"] is None for r in rows if r["suppressed"])


@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_organisation_page_api(cell: tuple[str, str], clients: dict[str, httpx.Client], targets: Targets) -> None:
    user, side = cell
    response = clients[user].get(f"/api/v1/organisations/{TRUSTS[side]}", params={"measure": "stillbirth_rate"})
    assert response.status_code == 200
    body = response.json()
    assert body["unsuppressed"] is (side in SCOPE[user])
    months = clients[user].get(
        "/api/v1/measures",
        params={"measure": "stillbirth_rate", "level": "trust", "period": "month", "org": TRUSTS[side]},
    )
    hidden = {r["period"] for r in months.json()["rows"] if r["suppressed"]}
    assert bool(hidden) is (side not in SCOPE[user])
    plotted = {row[0] for row in body["spc"]["rows"] if row[1] is not None}
    assert not plotted & hidden, "the SPC chart plots no month whose count is suppressed for this user"
    planted = [s for s in body["signals"] if s["summary"] == "planted by the access tests"]
    assert bool(planted) is (side in SCOPE[user])


# -- signals -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_signals_register(cell: tuple[str, str], clients: dict[str, httpx.Client], targets: Targets) -> None:
    user, side = cell
    response = clients[user].get("/api/v1/signals", params={"show": "all"})
    assert response.status_code == 200
    ids = {s["id"] for s in response.json()["signals"]}
    assert (targets.signal[side] in ids) is (side in SCOPE[user])
    page = clients[user].get("/signals", params={"show": "all"})
    assert (f'data-signal="{targets.signal[side]}"' in page.text) is (side in SCOPE[user])


@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_acknowledge(cell: tuple[str, str], clients: dict[str, httpx.Client], targets: Targets) -> None:
    user, side = cell
    signal_id = targets.signal[side]
    response = clients[user].post(f"/api/v1/signals/{signal_id}/acknowledge", json={"comment": f"seen by {user}"})
    allowed = side in SCOPE[user] and user in ACKNOWLEDGERS
    if allowed:
        assert response.status_code == 200, response.text
        assert any(h["comment"] == f"seen by {user}" for h in response.json()["history"])
    else:
        assert response.status_code in (403, 404), response.text
        assert "seen by" not in response.text


def test_acknowledge_needs_the_csrf_token(web: WebInstance, targets: Targets) -> None:
    client = web.client("trust")
    del client.headers["X-CSRF-Token"]
    response = client.post(f"/api/v1/signals/{targets.signal['own']}/acknowledge", json={"comment": "no token"})
    assert response.status_code == 403
    form = client.post(f"/signals/{targets.signal['own']}/acknowledge", data={"comment": "no token"})
    assert form.status_code == 403


# -- data --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_loads_and_rejection_reports(cell: tuple[str, str], clients: dict[str, httpx.Client], targets: Targets) -> None:
    user, side = cell
    load_id = targets.load[side]
    listed = {load["id"] for load in clients[user].get("/api/v1/loads").json()["loads"]}
    report = clients[user].get(f"/data/loads/{load_id}/rejections.csv")
    if side in SCOPE[user]:
        assert load_id in listed
        assert report.status_code == 200
        assert "gestation_weeks" in report.text
    else:
        assert load_id not in listed
        assert report.status_code == 404
        assert "gestation_weeks" not in report.text


@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_upload(
    cell: tuple[str, str], clients: dict[str, httpx.Client], bad_upload: Callable[[str], Path], web: WebInstance
) -> None:
    user, side = cell
    path = bad_upload(TRUSTS[side])
    client = clients[user]
    response = client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": "resubmit"},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )
    if side in SCOPE[user]:
        assert response.status_code == 200, response.text
        token = re.search(r'action="/data/uploads/([0-9a-f]+)/confirm"', response.text)
        assert token, "no plan to confirm"
        confirmed = client.post(
            f"/data/uploads/{token.group(1)}/confirm", data={"csrf_token": client.headers["X-CSRF-Token"]}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert 'data-upload-result="loaded"' in confirmed.text
    else:
        assert response.status_code == 403
        assert "outside your organisation" in response.text
        assert "Nothing was loaded" in response.text


# -- FHIR --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_fhir_measure_report(cell: tuple[str, str], clients: dict[str, httpx.Client]) -> None:
    """A month with a small count: its exact figures in scope, the count masked outside it."""
    user, side = cell
    params = {"measure": "stillbirth_rate", "level": "trust", "period": "month", "org": TRUSTS[side]}
    rows = clients["national"].get("/api/v1/measures", params=params).json()["rows"]
    small = next(r for r in rows if r["numerator"] is not None and 1 <= r["numerator"] <= 7)
    response = clients[user].get(
        "/api/v1/fhir/MeasureReport",
        params={"measure": "stillbirth_rate", "org": TRUSTS[side], "period": small["period_start"][:7]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    report = MeasureReport.model_validate(response.json())  # valid FHIR, by the library that reads it
    numerator = next(p for p in report.group[0].population if p.code.coding[0].code == "numerator")
    assert report.reporter.identifier.value == TRUSTS[side]
    if side in SCOPE[user]:
        assert numerator.count == small["numerator"]
        assert float(report.group[0].measureScore.value) == pytest.approx(small["value"])
    else:
        assert numerator.count is None, "a small count leaked through FHIR"
        assert report.group[0].measureScore.value is None


@pytest.mark.parametrize("period_type", ["rolling_12m", "rolling_3y"])
@pytest.mark.parametrize("cell", [("trust", "own"), ("trust", "other")], ids=_ids)
def test_fhir_measure_report_of_a_rolling_period(
    cell: tuple[str, str], period_type: str, clients: dict[str, httpx.Client]
) -> None:
    """A rolling window as the measures API gives it: FHIR period = the window; small counts masked outside scope."""
    user, side = cell
    params = {"measure": "stillbirth_rate", "level": "trust", "period": period_type, "org": TRUSTS[side]}
    rows = clients["national"].get("/api/v1/measures", params=params).json()["rows"]
    assert rows, f"no {period_type} figures to test"
    row = next((r for r in rows if r["numerator"] is not None and 1 <= r["numerator"] <= 7), rows[-1])
    named = row["period_end"][:7] if period_type == "rolling_12m" else row["period_end"][:4]
    response = clients[user].get(
        "/api/v1/fhir/MeasureReport",
        params={"measure": "stillbirth_rate", "org": TRUSTS[side], "period": named, "period_type": period_type},
    )
    assert response.status_code == 200, response.text
    report = MeasureReport.model_validate(response.json())
    assert (str(report.period.start), str(report.period.end)) == (row["period_start"], row["period_end"])
    numerator = next(p for p in report.group[0].population if p.code.coding[0].code == "numerator")
    if side in SCOPE[user]:
        assert numerator.count == row["numerator"]
    elif 1 <= row["numerator"] <= 7:
        assert numerator.count is None, "a small count leaked through FHIR"
    bad = clients[user].get(
        "/api/v1/fhir/MeasureReport",
        params={"measure": "stillbirth_rate", "org": TRUSTS[side], "period": "2024-Q1", "period_type": period_type},
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_fhir_bundle_upload(
    cell: tuple[str, str], clients: dict[str, httpx.Client], bad_upload: Callable[[str], Path]
) -> None:
    """POST /api/v1/fhir loads a Bundle of trusts in scope (the bad row rejected) and refuses any other."""
    user, side = cell
    bundle = bundle_of_csv(bad_upload(TRUSTS[side]))
    response = clients[user].post("/api/v1/fhir", content=bundle, headers={"Content-Type": "application/fhir+json"})
    if side in SCOPE[user]:
        assert response.status_code == 200, response.text
        assert response.json()["matneo"]["loaded_rows"] == 2
        assert response.json()["matneo"]["rejected_rows"] == 1
    else:
        assert response.status_code == 403, response.text
        assert "outside your organisation" in response.text


# -- administration ----------------------------------------------------------------------------
@pytest.mark.parametrize("user", list(SCOPE))
def test_admin_page(user: str, clients: dict[str, httpx.Client]) -> None:
    response = clients[user].get("/admin/users")
    assert response.status_code == (200 if user in ADMINS else 403)


@pytest.mark.parametrize("cell", CELLS, ids=_ids)
def test_admin_actions(cell: tuple[str, str], clients: dict[str, httpx.Client], targets: Targets) -> None:
    user, side = cell
    client = clients[user]
    response = client.post(
        f"/admin/users/{targets.user[side]}/unlock", data={"csrf_token": client.headers["X-CSRF-Token"]}
    )
    allowed = user in ADMINS and side in SCOPE[user]
    assert response.status_code == (303 if allowed else 403 if user not in ADMINS else 404), response.text


# -- anonymous ---------------------------------------------------------------------------------
API_PATHS = [
    "/api/v1/me",
    "/api/v1/status",
    "/api/v1/overview",
    f"/api/v1/organisations/{OWN_TRUST}",
    "/api/v1/funnel",
    "/api/v1/measures?measure=stillbirth_rate",
    "/api/v1/signals",
    "/api/v1/loads",
    "/api/v1/fhir/Measure/stillbirth_rate",
    f"/api/v1/fhir/MeasureReport?measure=stillbirth_rate&org={OWN_TRUST}&period=2020",
]
PAGE_PATHS = [
    "/",
    f"/organisations/{OWN_TRUST}",
    "/funnel",
    "/signals",
    "/data",
    "/admin/users",
    "/data/loads/1/rejections.csv",
]


@pytest.mark.parametrize("path", API_PATHS)
def test_anonymous_api_calls_get_401(path: str, web: WebInstance) -> None:
    response = web.client().get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in first."}


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_anonymous_page_visits_go_to_sign_in(path: str, web: WebInstance) -> None:
    response = web.client().get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("path", ["/health", "/sign-in", "/api/v1/openapi.json", "/static/matneo.css"])
def test_public_paths(path: str, web: WebInstance) -> None:
    assert web.client().get(path).status_code == 200


def test_anonymous_posts_are_refused(web: WebInstance, targets: Targets) -> None:
    client = web.client()
    assert client.post(f"/api/v1/signals/{targets.signal['own']}/acknowledge", json={"comment": "x"}).status_code == 401
    assert client.post("/data/upload", files={"file": ("a.csv", b"x", "text/csv")}).status_code == 303


@pytest.mark.parametrize("user", ["trust", "other_trust", "lmns", "region"])
@pytest.mark.parametrize(
    ("measure", "period"),
    [
        ("stillbirth_rate", "month"),
        ("preterm_birth_rate", "month"),
        ("term_nnu_admission", "month"),
        ("caesarean_rate", "month"),
        ("preterm_birth_rate", "quarter"),
        ("apgar_below_7_term", "quarter"),
    ],
)
def test_own_figures_do_not_reveal_a_siblings_suppressed_count(
    user: str, measure: str, period: str, clients: dict[str, httpx.Client], web: WebInstance
) -> None:
    """The differencing attack from ADR 0005: a user knows their own organisation's counts, so
    in any published total they can see, the hidden cells other than their own must never be
    exactly one (it would equal total − shown − own). Suppressing once for everyone, without
    counting the reader's own cells as known, fails six of these cases on this dataset."""
    client = clients[user]
    own = web.users[user][2]
    parent = web.hierarchy.get(own).parent_code
    level = web.hierarchy.get(own).level

    def rows(**params: str) -> list[dict]:
        response = client.get("/api/v1/measures", params={"measure": measure, "period": period, **params})
        assert response.status_code == 200
        return response.json()["rows"]

    totals = {r["period"]: r for r in rows(level=web.hierarchy.get(parent).level, org=parent)}
    siblings = {c.code for c in web.hierarchy.children(parent)}
    by_month: dict[str, list[dict]] = {}
    for row in rows(level=level):
        if row["org_code"] in siblings:
            by_month.setdefault(row["period"], []).append(row)
    checked = 0
    for month, cells in by_month.items():
        total = totals.get(month)
        if total is None or total["numerator"] is None:
            continue  # the total is hidden too: nothing to difference from
        unknown = [c for c in cells if c["numerator"] is None and c["org_code"] != own]
        assert len(unknown) != 1, f"{month}: {unknown[0]['org_code']}'s count = total − shown − {own}'s own"
        shown = sum(c["numerator"] for c in cells if c["numerator"] is not None)
        if not unknown:
            assert shown == total["numerator"]
        checked += 1
    assert checked, "some months have a published total to check against"
