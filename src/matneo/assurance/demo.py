"""A realistic set of assurance statuses for the demo: the planted trust mid-year, and its LMNS neighbours.

Written through :func:`matneo.assurance.tracker.update` (so audited, as any change), only for
trusts with nothing recorded yet, so re-running `matneo demo` changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from matneo.assurance import evidence
from matneo.assurance.tracker import update
from matneo.db.models import AssuranceStatus
from matneo.db.session import transaction
from matneo.reference.organisations import OrgHierarchy

__all__ = ["seed_demo_assurance", "seed_demo_evidence", "seed_demo_local", "seed_demo_themes", "seed_demo_voice"]

ACTOR = "matneo demo"


def _plan(today: dt.date) -> dict[str, dict[str, str]]:
    """The planted trust's position: most MIS actions met and signed off, training overdue, SBL under way."""
    soon, later, past = today + dt.timedelta(days=45), today + dt.timedelta(days=120), today - dt.timedelta(days=20)
    signed = (today - dt.timedelta(days=10)).isoformat()

    def met(owner: str, role: str = "Board-level safety champion") -> dict[str, str]:
        return {"status": "met", "owner": owner, "signed_off_on": signed, "signed_off_role": role}

    def doing(owner: str, due: dt.date, comment: str = "") -> dict[str, str]:
        return {"status": "in_progress", "owner": owner, "due": due.isoformat(), "comment": comment}

    return {
        "cnst_mis_y2:SA1": doing("Bereavement midwife", soon, "Two reviews awaiting the panel meeting."),
        "cnst_mis_y2:SA2": met("Maternity data lead", "Director of midwifery"),
        "cnst_mis_y2:SA3": met("Neonatal lead nurse", "Clinical director for neonatology"),
        "cnst_mis_y2:SA4": doing("Clinical director for obstetrics", later),
        "cnst_mis_y2:SA5": met("Head of midwifery", "Director of midwifery"),
        "cnst_mis_y2:SA6": doing("Saving Babies' Lives lead", soon),
        "cnst_mis_y2:SA7": met("Maternity and Neonatal Voices Partnership lead"),
        "cnst_mis_y2:SA8": doing("Practice development midwife", past, "Extra emergencies training booked."),
        "cnst_mis_y2:SA9": met("Board-level safety champion", "Chief executive"),
        "cnst_mis_y2:SA10": {"status": "not_met", "owner": "Risk manager", "due": past.isoformat(),
                             "comment": "One qualifying case reported late."},
        "sblcb_v3:E1": doing("Tobacco dependence lead", later),
        "sblcb_v3:E2": doing("Fetal medicine lead", later),
        "sblcb_v3:E4": met("Fetal monitoring lead midwife", "Clinical director for obstetrics"),
        "ockenden_first:IEA1": met("Head of midwifery"),
        "ockenden_first:IEA2": met("Maternity and Neonatal Voices Partnership lead"),
        "ockenden_first:IEA3": doing("Practice development midwife", soon),
        "delivery_plan_2023:T2": doing("Director of midwifery", later),
    }  # fmt: skip


def seed_demo_assurance(url: str, hierarchy: OrgHierarchy, trust: str, today: dt.date) -> int:
    """Seed the planted trust and two LMNS neighbours if they have nothing recorded; how many statuses were written."""
    lmns = hierarchy.ancestor_at(trust, "lmns").code
    neighbours = [t.code for t in hierarchy.trusts_under(lmns) if t.code != trust][:2]
    plan = _plan(today)
    plans = {trust: plan}
    signed = {"status": "met", "signed_off_on": (today - dt.timedelta(days=3)).isoformat(),
              "signed_off_role": "Board-level safety champion"}  # fmt: skip
    for n, code in enumerate(neighbours):  # further along: everything met and signed off
        plans[code] = {key: {"owner": values.get("owner", ""), **signed} for key, values in plan.items()}
        if n == 1:  # ... except one overdue review, so the LMNS matrix has something to chase
            plans[code]["cnst_mis_y2:SA1"] = plan["cnst_mis_y2:SA1"] | {
                "due": (today - dt.timedelta(days=5)).isoformat()
            }
    written = 0
    with transaction(url) as session:
        recorded = set(
            session.scalars(
                select(AssuranceStatus.trust_code)
                .where(AssuranceStatus.trust_code.in_(list(plans)))
                .group_by(AssuranceStatus.trust_code)
                .having(func.count() > 0)
            )
        )
    for code, entries in plans.items():
        if code in recorded:
            continue
        for key, values in entries.items():
            update(url, code, key, values, actor=ACTOR, actor_org=code, today=today)
            written += 1
    return written


def _demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF of plain text lines (PDF 1.4, Helvetica), so the demo's evidence opens in any reader."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 760 Td {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def seed_demo_evidence(url: str, home: Path, trust: str, today: dt.date) -> int:
    """A small evidence library for the planted trust, each item mapped to every requirement it
    supports (minutes to MIS SA9 and Ockenden IEA 1, a training extract to MIS SA8 and Ockenden IEA 3);
    only if the trust has none yet. All synthetic: the pages say the data is a demonstration."""
    if evidence.counts(url, [trust])[trust].items:
        return 0
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=14)
    minutes = _demo_pdf([
        "Maternity safety champions' meeting (synthetic demonstration)",
        f"Date: {month.isoformat()}",
        "Present: board-level safety champion, obstetric and midwifery safety champions",
        "Escalated: staffing on the labour ward at night; training compliance for anaesthetists",
    ])  # fmt: skip
    extract = f"month,staff_group,trained_percent\n{month:%Y-%m},Midwives,92\n{month:%Y-%m},Obstetricians,88\n"
    plan: list[tuple[dict[str, str], tuple[str, bytes] | None, list[str]]] = [
        ({"kind": "minutes", "title": "Safety champions' meeting", "dated": month.isoformat(),
          "description": "Bi-monthly meeting with the board-level safety champion; issues escalated."},
         ("safety-champions-minutes.pdf", minutes), ["cnst_mis_y2:SA9", "ockenden_first:IEA1"]),
        ({"kind": "extract", "title": "Multi-professional emergencies training by staff group",
          "dated": month.isoformat(), "description": "Share of each staff group trained in the training year."},
         ("training-extract.csv", extract.encode()), ["cnst_mis_y2:SA8", "ockenden_first:IEA3"]),
        ({"kind": "link", "title": "Maternity and Neonatal Voices Partnership work plan",
          "link": "https://intranet.example.invalid/mnvp/work-plan",
          "description": "Co-produced with the partnership; feedback and actions."},
         None, ["cnst_mis_y2:SA7", "ockenden_first:IEA2", "delivery_plan_2023:T1"]),
    ]  # fmt: skip
    for values, upload, keys in plan:
        stored = None
        if upload is not None:
            receiver = evidence.Receiver(evidence.store_dir(home), upload[0])
            receiver.feed(upload[1])
            stored = receiver.finish()
        evidence.add(url, trust, values, stored, maps_to=keys, actor=ACTOR, actor_org=trust, today=today)
    return len(plan)


def seed_demo_voice(url: str, trust: str, today: dt.date) -> int:
    """A year of synthetic Friends and Family Test figures for the planted trust, falling in the
    latest month (so the voice section and the safety picture show it), and two CQC maternity
    survey years; only if the trust has none yet. How many figures were stored."""
    from matneo.assurance import voice

    known = voice.layouts()
    if voice.latest(url, [trust], known, above_trust=False)[trust]:
        return 0
    first = today.replace(day=1)
    months = []
    for back in range(12, 0, -1):  # the 12 full months before this one
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(f"{year:04d}-{month + 1:02d}")
    fft = ["org_code,period,measure,value,responses"]
    for n, period in enumerate(months):
        positive = 88.0 if n == len(months) - 1 else 94.0 + (n % 3) * 0.6  # the latest month dips
        fft.append(f"{trust},{period},positive_percent,{positive},{180 + n * 3}")
    stored = voice.import_csv(url, known["fft"], ("\n".join(fft) + "\n").encode(), allowed_trusts={trust}, actor=ACTOR)
    years = ((today.year - 2, 8.4), (today.year - 1, 8.1))
    cqc = "org_code,year,measure,score,respondents\n"
    cqc += "".join(f"{trust},{year},overall_experience,{score},120\n" for year, score in years)
    more = voice.import_csv(url, known["cqc_maternity_survey"], cqc.encode(), allowed_trusts={trust}, actor=ACTOR)
    return stored.rows_stored + more.rows_stored


def _quarter_ends(today: dt.date, count: int) -> list[str]:
    """The last months (YYYY-MM) of the ``count`` calendar quarters that ended before ``today``, oldest first."""
    month = today.year * 12 + today.month - 1  # months since year 0, January = 0
    last = month - (month % 3) - 1  # the final month of the last complete quarter
    return [f"{(m // 12):04d}-{(m % 12) + 1:02d}" for m in range(last - 3 * (count - 1), last + 1, 3)]


#: The demo MNVP's themes over four quarterly reports (mentions, oldest first; sentiment). The
#: first rises in the latest report, so the voice section, the board pack and the safety picture
#: show a rising concern beside the planted trust's deterioration. All synthetic.
DEMO_THEMES = (
    ("Communication during induction of labour", (4, 5, 6, 11), "negative",
     "Families waited many hours for induction to continue and were not told why.",
     "Induction pathway leaflet rewritten with the partnership; twice-daily updates on the induction bay."),
    ("Kindness of midwives on the birth centre", (12, 14, 13, 15), "positive",
     "Families praised continuity and calm on the birth centre.", "Shared with the team at the safety huddle."),
    ("Partners staying overnight on the postnatal ward", (6, 7, 7, 8), "mixed",
     "Most partners valued staying; some women found the ward noisy at night.",
     "Quiet hours from 23:00 trialled on one bay."),
    ("Waiting for discharge", (9, 8, 10, 7), "negative", "Long waits for discharge medicines on the ward.",
     "Pharmacy pre-packs discharge medicines from 10:00."),
)  # fmt: skip


def seed_demo_themes(url: str, trust: str, today: dt.date) -> int:
    """A year of synthetic Maternity and Neonatal Voices Partnership feedback themes (four quarterly
    reports) for the planted trust, only if it has none yet; how many theme rows were stored."""
    from matneo.assurance import voice

    known = voice.theme_layouts()
    if voice.latest_themes(url, [trust], known, above_trust=False)[trust]:
        return 0
    periods = _quarter_ends(today, 4)
    rows = ["org_code,period_end,theme,mentions,sentiment,what_we_heard,what_we_did"]
    for theme, counts, feeling, heard, did in DEMO_THEMES:
        for n, (period, count) in enumerate(zip(periods, counts, strict=True)):
            latest = n == len(periods) - 1
            rows.append(f'{trust},{period},"{theme}",{count},{feeling},"{heard if latest else ""}",'
                        f'"{did if latest else ""}"')  # fmt: skip
    data = ("\n".join(rows) + "\n").encode()
    return voice.import_themes(url, known["mnvp_themes"], data, allowed_trusts={trust}, actor=ACTOR).rows_stored


def seed_demo_local(url: str, hierarchy: OrgHierarchy, trust: str, today: dt.date) -> int:
    """Two local requirements, only if the planted trust and its LMNS have none yet: the LMNS asks every
    trust to report its partnership's "you said, we did" each quarter (listed under the delivery plan),
    and the trust added an induction-of-labour audit after its own review (overdue, so red in its pack).
    How many requirements were added. All synthetic."""
    from matneo.assurance import local

    lmns = hierarchy.ancestor_at(trust, "lmns").code
    if local.kept_by(url, trust) or local.kept_by(url, lmns):
        return 0
    asked = local.add(url, lmns, {
        "title": "Report the Maternity and Neonatal Voices Partnership's 'you said, we did' to the LMNS board "
        "each quarter",
        "description": "A one-page summary of the partnership's themes and the service's response.",
        "framework": "delivery_plan_2023", "source": "LMNS board decision (synthetic demonstration).",
        "due": (today + dt.timedelta(days=60)).isoformat(),
    }, actor=ACTOR, actor_org=lmns)  # fmt: skip
    own = local.add(url, trust, {
        "title": "Audit delays in induction of labour against the trust guideline each quarter",
        "description": "Time from decision to start of induction, and from start to transfer to the labour ward.",
        "source": "Action from the trust's own review of induction delays (synthetic demonstration).",
    }, actor=ACTOR, actor_org=trust)  # fmt: skip
    update(url, trust, own.key, {"status": "in_progress", "owner": "Intrapartum matron",
                                 "due": (today - dt.timedelta(days=14)).isoformat(),
                                 "comment": "First quarter audited; second under way."},
           actor=ACTOR, actor_org=trust, today=today)  # fmt: skip
    update(url, trust, asked.key, {"status": "in_progress", "owner": "Head of midwifery"}, actor=ACTOR,
           actor_org=trust, today=today)  # fmt: skip
    return 2
