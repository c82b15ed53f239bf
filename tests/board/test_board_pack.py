"""Board packs: readings built from the numbers, SVG charts, the planted trust's deterioration,
the PDF's text, the immutable archive and the CLI — on real data, a real database and Chromium."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from matneo.board.archive import TamperedPack, archived_packs, read_archived
from matneo.board.pack import MeasureFigure, SpcPoint, _comparison, _concern_since, build_pack, reading
from matneo.board.render import render_html
from matneo.board.service import produce
from matneo.board.svg import spc_svg
from matneo.config import Settings
from matneo.db.models import AuditEvent
from matneo.db.session import dispose_all_engines, transaction, upgrade
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.results import ResultCache
from matneo.quality import quality_cube
from matneo.quality.rules import QualityRules
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.synth import write_dataset
from matneo.synth.generator import parse_struggling

PLANTED = "R0A"  # stillbirth, neonatal death and brain injury odds ×4 from Jan 2022
NOW = dt.datetime(2026, 12, 3, 8, 0)


def figure(**changes: object) -> MeasureFigure:
    base: dict[str, object] = dict(
        measure_id="stillbirth_rate",
        title="Stillbirth rate",
        group="ambition",
        unit="per 1,000",
        direction="lower_is_better",
        period="12 months to Oct 2026",
        value=4.123,
        lower95=3.0,
        upper95=5.5,
        numerator=14,
        denominator=3400,
        suppressed=False,
        england_value=2.9,
        comparison="higher than England",
        variation_icon="concern_high",
        assurance_icon=None,
        concern_since=dt.date(2026, 3, 1),
        spc=[],
        spc_note=None,
        reading="",
        source="",
    )
    return MeasureFigure(**{**base, **changes})  # type: ignore[arg-type]


def test_the_reading_is_built_from_the_figure_itself() -> None:
    measure = MEASURES_BY_ID["stillbirth_rate"]
    assert reading(figure(), measure) == (
        "Stillbirth rate: 4.12 per 1,000 in the 12 months to Oct 2026, higher than England (2.90 per 1,000); "
        "special cause concern since Mar 2026."
    )
    calm = figure(comparison="similar to England", variation_icon="common_cause", concern_since=None)
    assert reading(calm, measure).endswith("similar to England (2.90 per 1,000); common cause variation.")
    hidden = figure(suppressed=True, value=None)
    assert reading(hidden, measure).startswith("Stillbirth rate: suppressed for 12 months to Oct 2026")
    percent = next(m for m in MEASURES_BY_ID.values() if m.unit == "percent")
    text = reading(figure(value=91.26, england_value=90.0, unit="%", assurance_icon="pass"), percent)
    assert "91.3%" in text and "(90.0%)" in text and "the process will consistently meet the target" in text


@pytest.mark.parametrize(
    ("value", "low", "high", "england", "expected"),
    [
        (4.1, 3.0, 5.5, 2.9, "higher than England"),  # England below the whole interval
        (2.0, 1.2, 2.8, 2.9, "lower than England"),  # England above it
        (3.1, 2.0, 4.4, 2.9, "similar to England"),  # England inside it
        (3.0, 2.9, 4.0, 2.9, "similar to England"),  # on the boundary: not significant
        (None, None, None, 2.9, None),
    ],
)
def test_higher_or_lower_only_when_england_is_outside_the_95_interval(
    value: float | None, low: float | None, high: float | None, england: float, expected: str | None
) -> None:
    assert _comparison(value, low, high, england) == expected


def test_concern_since_is_the_start_of_the_run_that_ends_at_the_latest_month() -> None:
    def p(month: int, kind: str, value: float | None = 1.0) -> SpcPoint:
        return SpcPoint(dt.date(2026, month, 1), value, 1.0, 0.0, 2.0, kind)

    c, n = "special_cause_concern", "common_cause"
    assert _concern_since([p(1, c), p(2, n), p(3, c), p(4, c), p(5, "common_cause", None), p(6, c)]) == dt.date(
        2026, 3, 1
    )  # the gap (no value) does not break the run; the common-cause month does
    assert _concern_since([p(1, c), p(2, n)]) is None


def test_the_svg_chart_is_deterministic_accessible_and_leaves_gaps() -> None:
    months = [dt.date(2026, m, 1) for m in range(1, 7)]
    args = (months, [1.0, 2.0, None, 4.0, 3.0, 9.0], [3.0] * 6, [0.0] * 6, [6.0] * 6)
    kinds = ["common_cause"] * 5 + ["special_cause_concern"]
    svg = spc_svg(*args, kinds, title="Stillbirths <by month>", unit="per 1,000")
    assert svg == spc_svg(*args, kinds, title="Stillbirths <by month>", unit="per 1,000")
    assert 'role="img"' in svg and 'aria-label="Stillbirths &lt;by month&gt;"' in svg
    assert "<desc>" in svg and "Special cause concern in Jun 2026." in svg
    assert svg.count("<circle") == 5  # the missing month has no point
    assert svg.count("#ED8B00") == 1  # one concern point, in Making Data Count orange
    with pytest.raises(ValueError, match="one entry per month"):
        spc_svg(months, [1.0], [1.0], [1.0], [1.0], ["common_cause"], title="t", unit="u")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, OrgHierarchy, ResultCache]]:
    home = tmp_path_factory.mktemp("board-home")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    files = write_dataset(
        home / "synthetic",
        range(2019, 2024),
        scale=0.05,
        seed=11,
        struggling=[parse_struggling(f"{PLANTED}:2022-01:4.0")],
    )
    load_files(files, settings, hierarchy)
    yield settings, hierarchy, ResultCache(settings, hierarchy)
    dispose_all_engines()


def test_the_planted_trusts_pack_shows_its_deterioration(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    settings, hierarchy, results = loaded

    def pack(month: dt.date):  # type: ignore[no-untyped-def]
        return build_pack(
            results, hierarchy, settings.database_url, PLANTED, month, scope=None, signals=[], generated_at=NOW
        )

    before, after = pack(dt.date(2021, 6, 1)), pack(dt.date(2022, 6, 15))
    assert after.month == dt.date(2022, 6, 1) and after.month_label == "Jun 2022"
    worse = {f.measure_id for f in after.measures if f.concern}
    assert {"stillbirth_rate", "perinatal_mortality"} <= worse
    assert not {"stillbirth_rate", "perinatal_mortality"} & {f.measure_id for f in before.measures if f.concern}
    stillbirths = next(f for f in after.measures if f.measure_id == "stillbirth_rate")
    assert stillbirths.period == "12 months to Jun 2022" and stillbirths.comparison == "higher than England"
    assert stillbirths.spc[-1].month == dt.date(2022, 6, 1)  # nothing after the pack's month
    assert any(line.startswith("Stillbirth rate:") for line in after.summary)  # on page one
    assert after.summary[-1].endswith("submitted in Jun 2022.")
    as_json = after.to_dict()  # the pack's JSON: dates as ISO text, every figure and reading
    assert as_json["month"] == "2022-06-01" and as_json["summary"] == after.summary
    assert {m["measure_id"] for m in as_json["measures"]} == {f.measure_id for f in after.measures}
    with pytest.raises(ValueError, match="England"):
        pack_for = build_pack  # England has no pack: its figures are the overview
        pack_for(results, hierarchy, settings.database_url, "ENG", dt.date(2022, 6, 1), scope=None, signals=[],
                 generated_at=NOW)  # fmt: skip
    with pytest.raises(ValueError, match="no figures"):
        pack(dt.date(2010, 1, 1))


def test_a_pack_for_a_reader_outside_the_trust_is_suppressed_like_every_page(
    loaded: tuple[Settings, OrgHierarchy, ResultCache],
) -> None:
    settings, hierarchy, results = loaded
    other = next(t.code for t in hierarchy.trusts() if t.code != PLANTED)
    seen = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 6, 1), scope={other}, signals=[],
        generated_at=NOW,
    )  # fmt: skip
    shown = {f.measure_id: f for f in seen.measures}
    assert shown["stillbirth_rate"].suppressed and shown["stillbirth_rate"].numerator is None
    assert "suppressed" in shown["stillbirth_rate"].reading


def test_pdf_archive_and_tamper_check(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    settings, hierarchy, results = loaded
    made = produce(
        settings, results, hierarchy, PLANTED, dt.date(2022, 6, 1), scope=None, actor="champion@test", now=NOW
    )
    assert made.pdf is not None and made.pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(made.pdf)).pages)
    text = " ".join(text.split())
    assert "Maternity and neonatal safety board pack" in text and "Executive summary" in text
    assert "Manchester University NHS Foundation Trust" in text and "Jun 2022" in text
    assert "higher than England" in text
    archived = made.archived
    assert archived is not None and archived.generated_by == "champion@test"
    assert archived.html_sha256 == hashlib.sha256(made.html.encode()).hexdigest()
    assert read_archived(settings, archived.id, "html", {PLANTED}) == made.html.encode()
    assert read_archived(settings, archived.id, "pdf", {PLANTED}) == made.pdf
    with pytest.raises(LookupError):
        read_archived(settings, archived.id, "html", {"R0B"})  # another trust's reader
    again = produce(
        settings, results, hierarchy, PLANTED, dt.date(2022, 6, 1), scope=None, actor="champion@test", pdf=False,
        now=NOW,
    )  # fmt: skip
    assert again.archived is not None and again.archived.id != archived.id
    assert again.archived.html_sha256 == archived.html_sha256  # same figures, same moment: same bytes
    assert [p.id for p in archived_packs(settings.database_url, {PLANTED})][:2] == [again.archived.id, archived.id]
    with transaction(settings.database_url) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "board_pack")).all()
    assert actions.count("board_pack.archive") >= 2
    stored = settings.home / "board-packs" / f"{archived.pdf_sha256}.pdf"
    stored.write_bytes(stored.read_bytes() + b"%% altered")
    with pytest.raises(TamperedPack):
        read_archived(settings, archived.id, "pdf", {PLANTED})


def test_the_html_is_standalone_and_escapes_text(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    settings, hierarchy, results = loaded
    pack = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 6, 1), scope=None, signals=[],
        generated_at=NOW,
    )  # fmt: skip
    pack.org_name = "<script>alert(1)</script>"
    html = render_html(pack)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'lang="en-GB"' in html and html.count("<caption>") >= 2


def test_the_cli_writes_pdf_and_html_and_says_what_is_wrong(
    loaded: tuple[Settings, OrgHierarchy, ResultCache], tmp_path: Path
) -> None:
    settings, _, _ = loaded
    env = {**os.environ, "MATNEO_HOME": str(settings.home), "MATNEO_DATABASE_URL": settings.database_url}

    def matneo(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "matneo.cli.main", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)

    pdf, html = tmp_path / "pack.pdf", tmp_path / "pack.html"
    done = matneo("board-pack", "--org", PLANTED.lower(), "--month", "2022-06", "--out", str(pdf), "--html", str(html))
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and "Executive summary" in html.read_text()
    assert "archived as pack" in done.stdout
    nobody = matneo("board-pack", "--org", "NOPE", "--month", "2022-06", "--html", str(html))
    assert nobody.returncode == 2 and "no organisation with code NOPE" in nobody.stderr
    england = matneo("board-pack", "--org", "ENG", "--month", "2022-06", "--html", str(html))
    assert england.returncode == 2 and "England" in england.stderr
    neither = matneo("board-pack", "--org", PLANTED, "--month", "2022-06")
    assert neither.returncode == 2 and "--out" in neither.stderr


def test_the_pack_carries_assurance_and_its_reds_reach_page_one(
    loaded: tuple[Settings, OrgHierarchy, ResultCache],
) -> None:
    from matneo.assurance.demo import seed_demo_assurance

    settings, hierarchy, results = loaded
    seed_demo_assurance(settings.database_url, hierarchy, PLANTED, dt.date(2022, 7, 15))
    pack = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 7, 1), scope=None, signals=[],
        generated_at=NOW,
    )  # fmt: skip
    mis = next(a for a in pack.assurance if a.framework == "MIS year 2")
    assert sum(mis.counts.values()) == 10 and mis.counts["red"] == 2  # training overdue, one case reported late
    assert {section for _, section, _, _ in mis.red} == {"Safety action 8", "Safety action 10"}
    assert "2 assurance requirements are red: not met or overdue." in pack.summary
    html = render_html(pack)
    assert "Red requirements" in html and "Safety action 8" in html


def test_the_pack_has_a_reviews_section_in_counts_only(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    from matneo.reviews.board import pack_reviews

    settings, hierarchy, results = loaded
    reviews = pack_reviews(settings, [PLANTED], dt.date(2022, 7, 31))
    assert reviews.waiting > 0, "the synthetic trust has deaths needing a review and no reviews"
    pack = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 7, 1), scope=None, signals=[],
        generated_at=NOW, reviews=reviews,
    )  # fmt: skip
    html = render_html(pack)
    assert "Perinatal mortality reviews" in html and f"{reviews.waiting} deaths in the birth records" in html
    assert any(line.startswith("Perinatal mortality reviews:") for line in pack.summary)
    assert pack.to_dict()["reviews"]["waiting"] == reviews.waiting


def test_the_pack_carries_family_and_staff_voice_known_at_its_month_end(
    loaded: tuple[Settings, OrgHierarchy, ResultCache],
) -> None:
    from matneo.assurance import voice

    settings, hierarchy, results = loaded
    known = voice.layouts()
    fft = "org_code,period,measure,value,responses\n" + "".join(
        f"{PLANTED},2022-{m:02d},positive_percent,{96 - (m == 6) * 9},150\n" for m in range(1, 9)
    )
    voice.import_csv(settings.database_url, known["fft"], fft.encode(), allowed_trusts={PLANTED}, actor="t")
    culture = f"org_code,year,domain,percent_positive,responses\n{PLANTED},2021,safety_climate,60,30\n"
    voice.import_csv(settings.database_url, known["culture_survey"], culture.encode(), allowed_trusts={PLANTED},
                     actor="t")  # fmt: skip
    pack = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 6, 1), scope=None, signals=[],
        generated_at=NOW,
    )  # fmt: skip
    assert [(v.period, v.value, v.worst_recently) for v in pack.voice] == [("Jun 2022", "87.0%", True)]  # not Jul
    html = render_html(pack)
    assert "Family and staff survey figures" in html and "87.0% (worst recently)" in html
    assert "Safety climate" not in html  # culture surveys never reach a pack


def test_a_figure_on_poor_data_says_so_in_the_pack(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    """A threshold above what the synthetic data records (about 1% of smoking statuses are
    missing): the smoke-free figure carries the caveat, in the pack, its summary and its HTML."""
    settings, hierarchy, results = loaded
    cube = quality_cube(settings)
    strict = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 6, 1), scope=None, signals=[],
        generated_at=NOW, quality=cube, rules=QualityRules(default_threshold=99.9),
    )  # fmt: skip
    smoke = next(f for f in strict.measures if f.measure_id == "smoke_free_at_delivery")
    assert any(c.startswith("smoking status at delivery recorded for") for c in smoke.caveats)
    assert any(line.startswith("Treat with caution") and "Smoke-free at delivery" in line for line in strict.summary)
    assert "Data quality: smoking status at delivery recorded for" in render_html(strict)
    usual = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 6, 1), scope=None, signals=[],
        generated_at=NOW, quality=cube, rules=QualityRules(),
    )  # fmt: skip
    assert not any(f.caveats for f in usual.measures if f.measure_id == "smoke_free_at_delivery")


def test_a_signal_on_poor_data_says_so_in_the_pack(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    import dataclasses

    from matneo.board.service import pack_signals
    from matneo.db.models import Signal

    settings, hierarchy, _ = loaded
    with transaction(settings.database_url) as session:
        session.add(
            Signal(trust_code=PLANTED, measure="smoke_free_at_delivery", method="funnel", status="open",
                   first_signal_date=dt.date(2022, 3, 31), last_signal_date=dt.date(2022, 5, 31),
                   summary="planted for the caveat", statistic=3.0)
        )  # fmt: skip
    strict = dataclasses.replace(settings, completeness_threshold=99.9)
    lines = pack_signals(strict, hierarchy, PLANTED, dt.date(2022, 6, 30), comments=True, quality=quality_cube(strict))
    planted = next(line for line in lines if line.summary == "planted for the caveat")
    assert planted.caveats and planted.caveats[0].startswith("smoking status at delivery recorded for")
    usual = pack_signals(
        settings, hierarchy, PLANTED, dt.date(2022, 6, 30), comments=True, quality=quality_cube(settings)
    )
    assert next(line for line in usual if line.summary == "planted for the caveat").caveats == []


def test_the_pack_shows_local_requirements_and_mnvp_themes_in_its_pdf(
    loaded: tuple[Settings, OrgHierarchy, ResultCache],
) -> None:
    """The planted trust's own overdue audit (a local requirement) is red in its pack, the LMNS's
    is counted under the delivery plan, and the partnership's themes known at the month's end are shown."""
    from matneo.assurance.demo import seed_demo_local, seed_demo_themes

    settings, hierarchy, results = loaded
    day = dt.date(2022, 7, 15)
    assert seed_demo_local(settings.database_url, hierarchy, PLANTED, day) == 2
    assert seed_demo_themes(settings.database_url, PLANTED, day) == 16
    pack = build_pack(
        results, hierarchy, settings.database_url, PLANTED, dt.date(2022, 7, 1), scope=None, signals=[],
        generated_at=NOW,
    )  # fmt: skip
    own = next(a for a in pack.assurance if a.framework == "Local")
    assert (
        own.counts["red"] == 1
        and own.red[0][2] == "Audit delays in induction of labour against the trust guideline each quarter"
    )
    plan = next(a for a in pack.assurance if a.framework == "Delivery plan (2023)")
    assert sum(plan.counts.values()) == 17  # four themes, twelve objectives and the LMNS's own requirement
    assert {t.period for t in pack.themes} == {"Apr–Jun 2022"}  # Jul–Sep 2022 had not ended
    induction = next(t for t in pack.themes if t.theme == "Communication during induction of labour")
    assert (induction.mentions, induction.before, induction.rising_concern) == (11, "6", True)
    made = produce(
        settings, results, hierarchy, PLANTED, dt.date(2022, 7, 1), scope=None, actor="champion@test", now=NOW
    )
    assert made.pdf is not None
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(made.pdf)).pages).split())
    assert "Local requirement" in text and "Audit delays in induction of labour" in text
    assert "Maternity and Neonatal Voices Partnership feedback themes" in text
    assert "Communication during induction of labour (rising concern)" in text
    assert "Induction pathway leaflet rewritten with the partnership" in text
