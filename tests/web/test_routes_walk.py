"""Every route of the app, walked: anonymous, as another organisation, and without the CSRF token.

The routes come from the app itself (``app.routes``), so a route added tomorrow is walked
without editing this file; a route this file cannot walk (a path parameter it has no real id
for, a request body it has no sample of) fails :func:`test_every_route_is_walked`. Only the
routes in :data:`PUBLIC` are open, each with the reason. Real HTTP against the session
instance; path parameters are real ids of rows that belong to R0A (Manchester), and the
strangers are a trust user and an administrator of RJ1 (London). ADR 0008.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from harm.reports import report, stillborn
from matneo.auth.users import add_user, list_users
from matneo.records.load import load_files
from matneo.records.schema import FIELD_NAMES
from matneo.web.app import create_app
from matneo.web.routing import is_guarded
from rowbuilder import valid_row

from .conftest import OTHER_TRUST, OWN_TRUST, PASSWORD, WebInstance, plant_signal, sign_in

#: Open without a session, and why. Every other route must be on a signed-in router.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/sign-in"): "the sign-in form itself",
    ("POST", "/sign-in"): "signing in: it has its own double-submit CSRF cookie and client throttle",
    ("GET", "/health"): "the load balancer's liveness check; answers only 'ok'",
    ("GET", "/api/v1/openapi.json"): "the API's description: endpoints and parameters, no data",
    ("HEAD", "/api/v1/openapi.json"): "as GET",
    ("MOUNT", "/static"): "vendored CSS, scripts, fonts and images: no data",
}
#: Routes with a path parameter that answer a stranger with 200, and why. Everything else that
#: names a row of another organisation must answer 403 or 404.
OPEN_TO_STRANGERS: dict[tuple[str, str], str] = {
    ("GET", "/organisations/{code}"): "aggregates are for everyone, suppressed outside scope (ADR 0005)",
    ("GET", "/api/v1/organisations/{code}"): "aggregates are for everyone, suppressed outside scope (ADR 0005)",
    ("GET", "/api/v1/fhir/Measure/{measure_id}"): "a measure's definition: no figures, the same for everyone",
    ("GET", "/organisations/{code}/data-quality"): "aggregate percentages for everyone; detail only in scope",
    ("GET", "/guides/{guide}"): "a guide names no organisation: the same text for every signed-in user",
    ("GET", "/api/v1/organisations/{code}/data-quality"): "aggregate percentages for everyone; detail only in scope",
}
#: Of those, the ones that carry no figures at all (so nothing to be suppressed).
DEFINITIONS = {("GET", "/api/v1/fhir/Measure/{measure_id}")}
#: Path parameters whose value depends on the route, not only on the parameter's name.
PER_ROUTE: dict[str, dict[str, str]] = {
    "/admin/users/{user_id}/{action}": {"action": "unlock"},
    "/harm/{case_id}/{action}": {"action": "contact"},
    "/api/v1/harm-reports/{case_id}/{action}": {"action": "contact"},
    "/organisations/{code}/board-packs/{pack_id}.{kind}": {"kind": "html"},
    "/reviews/{review_id}/reports/{report}.{fmt}": {"report": "parents", "fmt": "html"},
    "/organisations/{code}/evidence/{evidence_id}/{action}": {"action": "map"},
    "/organisations/{code}/local-requirements/{local_id}/{action}": {"action": "retire"},
    "/api/v1/fhir/Measure/{measure_id}": {"measure_id": "stillbirth_rate"},
}
#: A valid JSON body per API route that takes one, so a stranger's request gets past validation
#: and reaches the scope check (a 422 would prove nothing).
JSON_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/signals/{signal_id}/acknowledge": {"comment": "walked by a stranger"},
    "/api/v1/harm-reports/{case_id}/routes/{route_id}": {"status": "not_applicable", "reason": "walked"},
    "/api/v1/harm-reports/{case_id}/amend": {"changes": {"never_event": False}},
    "/api/v1/harm-reports/{case_id}/{action}": {"by": "walker", "method": "phone", "summary": "walked"},
    "/api/v1/harm-reports": {"report": {}, "draft": True},
    "/api/v1/harm-route": {"report": {}},
    "/api/v1/reviews": {"record_id": "WALK-NO-SUCH-RECORD"},
    "/api/v1/reviews/{review_id}/{section}": {"kind": "question", "text": "walked by a stranger"},
    "/api/v1/qi/projects": {"trust_code": OWN_TRUST, "title": "Walked by a stranger"},
    "/api/v1/qi/projects/{project_id}/pdsa": {"title": "walked", "question": "q", "prediction": "p"},
    "/api/v1/qi/measures/{measure_id}/values": {"period": "2025-01", "numerator": 1, "denominator": 2},
}
FORM_BODIES: dict[str, dict[str, str]] = {
    "/harm/{case_id}/{action}": {"by": "walker", "method": "phone", "summary": "walked"},
    "/signals/{signal_id}/acknowledge": {"comment": "walked by a stranger"},
    "/organisations/{code}/board-packs": {"month": "2023-06"},
    "/organisations/{code}/assurance/{key}": {"status": "met"},
    "/organisations/{code}/assurance/{key}/wording": {"wording": "walked by a stranger"},
    "/organisations/{code}/evidence": {
        "kind": "link",
        "title": "walked by a stranger",
        "link": "https://walk.example/",
    },
    "/organisations/{code}/evidence/{evidence_id}/{action}": {"key": "cnst_mis_y2:SA9"},
    "/organisations/{code}/evidence/{evidence_id}/remove": {"reason": "walked by a stranger"},
    "/organisations/{code}/local-requirements": {"title": "walked by a stranger"},
    "/organisations/{code}/local-requirements/{local_id}": {"title": "walked by a stranger"},
    "/organisations/{code}/local-requirements/{local_id}/{action}": {"reason": "walked by a stranger"},
    "/organisations/{code}/voice": {"source": "fft"},
    "/organisations/{code}/safety/{trust}/decisions": {
        "decision": "monitor",
        "note": "walked",
        "review_on": "2099-01-01",
    },
    "/reviews/{review_id}/{section}": {"kind": "question", "text": "walked by a stranger"},
    "/qi/projects/{project_id}/{action}": {"title": "walked"},
    "/qi/collaboratives/{collaborative_id}/{action}": {"trust_code": OWN_TRUST},
    "/qi/measures/{measure_id}/{action}": {"period": "2025-02", "numerator": "1", "denominator": "2"},
}
SAFE = {"GET", "HEAD", "OPTIONS"}
CSRF_WORDS = "did not come from MatNeo"


@dataclass(frozen=True)
class Walked:
    method: str
    path: str
    route: APIRoute | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def app_routes(web: WebInstance) -> Iterator[Walked]:
    """Every (method, path) the app answers, from the app's own route table."""
    for context in iter_route_contexts(create_app(web.settings).routes):
        route = context.original_route
        if isinstance(route, Mount):
            yield Walked("MOUNT", route.path, None)
            continue
        for method in sorted(context.methods or ()):
            yield Walked(method, context.path, route if isinstance(route, APIRoute) else None)


@pytest.fixture(scope="module")
def routes(web: WebInstance) -> list[Walked]:
    found = list(app_routes(web))
    assert len(found) > 40, "the walk found the app's routes"
    return found


@pytest.fixture(scope="module")
def ids(web: WebInstance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real row of R0A's for every kind of path parameter: signal, load, pending upload, user,
    harm case, board pack, assurance requirement, evidence item.

    The pending upload is cancelled afterwards: other modules expect no uploads waiting."""
    url = web.settings.database_url
    owner = web.client("trust")
    site = web.hierarchy.sites_of(OWN_TRUST)[0].code
    folder = tmp_path_factory.mktemp("walk")
    batch = uuid.uuid4().hex[:8]

    def csv_file(name: str, count: int) -> Path:
        rows = [
            valid_row(
                [(OWN_TRUST, site)], i, record_id=f"WALK-{batch}-{name}-{i}", birth_datetime="2018-02-01 09:00:00"
            )
            for i in range(count)
        ]
        path = folder / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(FIELD_NAMES), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return path

    load_id = load_files([csv_file("load", 2)], web.settings, web.hierarchy).ledger_ids[0]
    pending = csv_file("pending", 2)
    planned = owner.post(
        "/data/upload",
        data={"csrf_token": owner.headers["X-CSRF-Token"], "mode": "upsert"},
        files={"file": (pending.name, pending.read_bytes(), "text/csv")},
    )
    token = re.search(r'action="/data/uploads/([0-9a-f]{32})/confirm"', planned.text)
    assert token, planned.text
    case = owner.post(
        "/api/v1/harm-reports",
        json={
            "report": report(baby=stillborn("intrapartum"), notifiable_safety_incident=True),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert case.status_code == 201, case.text
    user_id = next(u.id for u in list_users(url) if u.email == web.users["trust"][0])
    pack = owner.post(
        f"/organisations/{OWN_TRUST}/board-packs",
        data={"month": "2023-06", "csrf_token": owner.headers["X-CSRF-Token"]},
    )
    assert pack.status_code == 303, pack.text
    due = owner.get("/api/v1/reviews").json()["due"]["deaths"]
    review = owner.post("/api/v1/reviews", json={"record_id": due[0]["record_id"]})
    assert review.status_code == 201, review.text
    national = web.client("national")
    collaborative = national.post(
        "/qi/collaboratives",
        data={"csrf_token": national.headers["X-CSRF-Token"], "name": "Walked", "kind": "national", "org_code": "ENG"},
    )
    assert collaborative.status_code == 303, collaborative.text
    collaborative_id = collaborative.headers["location"].rsplit("/", 1)[1]
    national.close()
    project = owner.post("/api/v1/qi/projects", json={"trust_code": OWN_TRUST, "title": "Walked project"})
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    measure = owner.post(
        f"/qi/projects/{project_id}/measure",
        data={"csrf_token": owner.headers["X-CSRF-Token"], "kind": "process", "source": "custom",
              "title": "Walked measure", "unit": "percent", "direction": "increase"},
    )  # fmt: skip
    assert measure.status_code == 303, measure.text
    measure_id = owner.get(f"/api/v1/qi/projects/{project_id}").json()["measures"][0]["id"]
    pdsa = owner.post(
        f"/api/v1/qi/projects/{project_id}/pdsa",
        json={"title": "Walked cycle", "question": "q", "prediction": "p", "starts_on": "2024-03-01"},
    )
    assert pdsa.status_code in (200, 201), pdsa.text
    pdsa_id = pdsa.json()["id"]
    held = owner.post(
        f"/organisations/{OWN_TRUST}/evidence",
        data={"csrf_token": owner.headers["X-CSRF-Token"], "kind": "minutes", "title": "Walked minutes",
              "requirement": "cnst_mis_y2:SA8"},
        files={"file": ("walked.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
    )  # fmt: skip
    assert held.status_code == 303, held.text
    evidence_id = held.headers["location"].rsplit("/", 1)[1].split("?")[0]
    kept = owner.post(
        f"/organisations/{OWN_TRUST}/local-requirements",
        data={"csrf_token": owner.headers["X-CSRF-Token"], "title": "Walked local requirement"},
    )
    assert kept.status_code == 303, kept.text
    local_id = kept.headers["location"].rsplit("/", 1)[1].split("?")[0]
    yield {
        "code": OWN_TRUST,
        "signal_id": str(plant_signal(url, OWN_TRUST, "pph_1500", "planted by the route walk")),
        "load_id": str(load_id),
        "token": token.group(1),
        "user_id": str(user_id),
        "case_id": str(case.json()["id"]),
        "route_id": "MNSI",
        "pack_id": pack.headers["location"].rsplit("=", 1)[1],
        "key": "cnst_mis_y2:SA8",  # a requirement of the CNST maternity incentive scheme
        "trust": OWN_TRUST,
        "review_id": str(review.json()["id"]),
        "section": "question",
        "collaborative_id": str(collaborative_id),
        "project_id": str(project_id),
        "measure_id": str(measure_id),
        "pdsa_id": str(pdsa_id),
        "pdsa": str(pdsa_id),
        "action": "update",
        "evidence_id": evidence_id,
        "local_id": local_id,
        "guide": "msds",
    }
    cancelled = owner.post(f"/data/uploads/{token.group(1)}/cancel", data={"csrf_token": owner.headers["X-CSRF-Token"]})
    assert cancelled.status_code == 303


@pytest.fixture(scope="module")
def strangers(web: WebInstance) -> dict[str, httpx.Client]:
    """RJ1's trust user and RJ1's administrator, each with a valid CSRF token."""
    email = f"walk-admin-{uuid.uuid4().hex[:6]}@test.invalid"
    add_user(web.settings.database_url, email, "administrator", OTHER_TRUST, PASSWORD, actor="tests")
    admin = httpx.Client(base_url=web.base_url, timeout=60, follow_redirects=False)
    sign_in(admin, email, PASSWORD)
    admin.headers["X-CSRF-Token"] = admin.get("/api/v1/me").json()["csrf_token"]
    return {"other_trust": web.client("other_trust"), "other_admin": admin}


def fill(walked: Walked, values: Mapping[str, str]) -> str:
    chosen = {**values, **PER_ROUTE.get(walked.path, {})}
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: chosen[m.group(1)], walked.path)


def send(
    client: httpx.Client, walked: Walked, url: str, *, csrf: str | None = None, bogus: bool = False
) -> httpx.Response:
    """One request as a browser or API client would send it: JSON to the API, a form to pages."""
    if walked.method in SAFE:
        params = {name: "bogus" for name in query_names(walked)} if bogus else None
        return client.request(walked.method, url, params=params)
    if walked.is_api:
        if bogus:
            return client.request(
                walked.method, url, content=b"{not json", headers={"Content-Type": "application/json"}
            )
        return client.request(walked.method, url, json=JSON_BODIES.get(walked.path, {}))
    form = dict(FORM_BODIES.get(walked.path, {}))
    if csrf is not None:
        form["csrf_token"] = csrf
    return client.request(walked.method, url, data=form)


def query_names(walked: Walked) -> list[str]:
    return [p.alias for p in walked.route.dependant.query_params] if walked.route else []


def refused_anonymous(walked: Walked, response: httpx.Response) -> str | None:
    """None if the anonymous request was refused as it should be, else what went wrong."""
    if walked.is_api:
        if response.status_code != 401 or response.json() != {"detail": "Sign in first."}:
            return f"{walked}: anonymous API call got {response.status_code}, not 401"
    elif response.status_code != 303 or not response.headers.get("location", "").startswith("/sign-in?next="):
        return f"{walked}: anonymous page visit got {response.status_code}, not the sign-in page"
    return None


# -- the walk covers everything ----------------------------------------------------------------
def test_every_route_is_walked(routes: list[Walked], ids: dict[str, str]) -> None:
    """Each route is public (with a reason) or on a signed-in router; each can be filled in."""
    keys = {r.key for r in routes}
    assert not set(PUBLIC) - keys, f"public list names routes that no longer exist: {set(PUBLIC) - keys}"
    problems = []
    for walked in routes:
        if walked.key in PUBLIC:
            continue
        if walked.route is None or not is_guarded(walked.route.dependencies):
            problems.append(f"{walked} is not on a signed_in_router (matneo.web.routing) and not in PUBLIC")
            continue
        missing = [p for p in walked.params if p not in {**ids, **PER_ROUTE.get(walked.path, {})}]
        if missing:
            problems.append(f"{walked}: no real id for {missing}; add one to the ids fixture")
        takes_json = walked.method not in SAFE and walked.is_api and walked.route.dependant.body_params
        if takes_json and walked.path not in JSON_BODIES:
            problems.append(f"{walked}: add a valid sample body to JSON_BODIES")
    assert not problems, "\n".join(problems)


# -- anonymous -----------------------------------------------------------------------------------
def test_public_routes_answer_anonymous_users(web: WebInstance) -> None:
    anonymous = web.client()
    for method, path in PUBLIC:
        if method == "GET":
            url = "/static/matneo.css" if path == "/static" else path
            assert anonymous.get(url).status_code == 200, path
    assert anonymous.get("/static/matneo.css").status_code == 200


def test_anonymous_requests_are_refused_everywhere(routes: list[Walked], ids: dict[str, str], web: WebInstance) -> None:
    """Real ids, then nonsense everywhere (path, query, body): always 401 or sign-in, never 422."""
    anonymous = web.client()
    problems = []
    for walked in routes:
        if walked.key in PUBLIC:
            continue
        for values, bogus in ((ids, False), (dict.fromkeys(ids, "bogus"), True)):
            response = send(anonymous, walked, fill(walked, values), bogus=bogus)
            problem = refused_anonymous(walked, response)
            if problem:
                problems.append(problem + (" (with nonsense parameters)" if bogus else ""))
    assert not problems, "\n".join(problems)


def test_an_anonymous_bad_parameter_is_401_not_422(web: WebInstance) -> None:
    anonymous = web.client()
    assert anonymous.get("/api/v1/measures", params={"period": "bogus"}).status_code == 401
    assert anonymous.get("/api/v1/harm-reports/not-a-number").status_code == 401
    assert (
        anonymous.post("/api/v1/harm-reports", content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 401
    )
    signed_in = web.client("trust")
    assert (
        signed_in.get("/api/v1/measures", params={"measure": "stillbirth_rate", "period": "bogus"}).status_code == 422
    )


# -- another organisation -------------------------------------------------------------------------
def test_another_organisations_rows_are_refused(
    routes: list[Walked], ids: dict[str, str], strangers: dict[str, httpx.Client]
) -> None:
    """Every route that names one of R0A's rows answers RJ1's users 403 or 404 (both signed in,
    with their CSRF token), and changes nothing. Routes without a path parameter are lists
    filtered to the user's scope: tests/web/test_access.py checks what they contain."""
    problems = []
    walked_any = 0
    for walked in routes:
        if walked.key in PUBLIC or not walked.params:
            continue
        for name, client in strangers.items():
            walked_any += 1
            response = send(client, walked, fill(walked, ids), csrf=client.headers["X-CSRF-Token"])
            if walked.key in OPEN_TO_STRANGERS:
                if response.status_code != 200:
                    problems.append(f"{walked} as {name}: {response.status_code}, expected the suppressed page")
                elif (
                    walked.is_api and walked.key not in DEFINITIONS and response.json().get("unsuppressed") is not False
                ):
                    problems.append(f"{walked} as {name}: unsuppressed figures of another organisation")
            elif response.status_code not in (403, 404):
                problems.append(f"{walked} as {name}: {response.status_code}, not 403/404")
            elif CSRF_WORDS in response.text:
                problems.append(f"{walked} as {name}: refused for its CSRF token, not for scope")
    assert walked_any > 20
    assert not problems, "\n".join(problems)


def test_the_owners_rows_were_not_changed_by_the_strangers(ids: dict[str, str], web: WebInstance) -> None:
    """What the strangers tried (acknowledge, revert, confirm, cancel, contact, unlock) left no trace."""
    owner = web.client("trust")
    case = owner.get(f"/api/v1/harm-reports/{ids['case_id']}").json()
    assert "walked" not in str(case)
    signals = owner.get("/api/v1/signals", params={"show": "all"}).json()["signals"]
    walked = next(s for s in signals if s["id"] == int(ids["signal_id"]))
    assert "stranger" not in str(walked)
    loads = {load["id"]: load for load in owner.get("/api/v1/loads").json()["loads"]}
    assert loads[int(ids["load_id"])]["status"] == "loaded"
    assert (web.settings.home / "uploads" / ids["token"] / "plan.json").is_file(), "the pending upload is still there"
    held = owner.get(f"/organisations/{OWN_TRUST}/evidence?format=json").json()["items"]
    walked_item = next(e for e in held if e["id"] == int(ids["evidence_id"]))
    assert walked_item["requirements"] == ["cnst_mis_y2:SA8"], "the strangers mapped nothing"
    assert not any("stranger" in e["title"] for e in held), "the strangers added nothing"
    kept = owner.get(f"/organisations/{OWN_TRUST}/local-requirements?format=json").json()["items"]
    walked_local = next(i for i in kept if i["key"] == f"local:{ids['local_id']}")
    assert walked_local["title"] == "Walked local requirement" and not walked_local["retired"], "nor retired it"
    assert not any("stranger" in i["title"] for i in kept), "the strangers added no local requirement"


# -- without the CSRF token -------------------------------------------------------------------------
def test_unsafe_requests_without_the_csrf_token_are_refused(
    routes: list[Walked], ids: dict[str, str], web: WebInstance
) -> None:
    """The owner's own rows, signed in, but no token (or a wrong one): 403 before anything runs."""
    problems = []
    for name in ("trust", "admin"):
        client = web.client(name)
        token = client.headers.pop("X-CSRF-Token")
        for walked in routes:
            if walked.key in PUBLIC or walked.method in SAFE:
                continue
            for label, headers, csrf in (
                ("no token", {}, None),
                ("a wrong token", {"X-CSRF-Token": token[::-1]}, token[::-1]),
            ):
                client.headers.update(headers)
                response = send(client, walked, fill(walked, ids), csrf=csrf)
                client.headers.pop("X-CSRF-Token", None)
                if response.status_code != 403 or CSRF_WORDS not in response.text:
                    problems.append(f"{walked} as {name} with {label}: {response.status_code}, not the CSRF 403")
    assert not problems, "\n".join(problems)
