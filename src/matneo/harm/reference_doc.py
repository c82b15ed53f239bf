"""Render ``docs/harm-routing.md`` from the rule set (a test keeps it current).

Regenerate with ``python -m matneo.harm.reference_doc > docs/harm-routing.md``.
"""

from __future__ import annotations

from matneo.harm.calendar import COVERED_FROM, COVERED_TO
from matneo.harm.rules import (
    BRAIN_INJURY_CRITERIA,
    DEADLINES,
    EXCLUSIONS,
    ROUTE_IDS,
    ROUTE_TITLES,
    RULES,
    RULESET_VERSION,
    SOURCES,
)

#: The input fields: (name, type, when it is required, meaning); validated by :mod:`matneo.harm.report`.
INPUT_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("incident_known_date", "date", "optional (default: the routing date)", "Day the trust became aware of the event."),
    (
        "gestation.weeks",
        "int 0–45",
        "with `gestation`",
        "Completed weeks at birth (or at death, in-pregnancy maternal death).",
    ),
    (
        "gestation.days",
        "int 0–6",
        "with `gestation`",
        "Extra days; `ga = weeks*7 + days`. `gestation: null` = not known.",
    ),
    (
        "labour",
        "enum",
        "when there is a baby",
        "`spontaneous`, `induced`, `prelabour_rupture_of_membranes`, `self_reported_labour_call`, `none`",
    ),
    (
        "mode_of_birth",
        "enum/null",
        "no (null = not known)",
        "`vaginal`, `emergency_caesarean`, `elective_caesarean_before_labour`, `caesarean_before_labour`",
    ),
    ("termination_of_pregnancy", "bool", "always", "The pregnancy ended by a termination (any gestation)."),
    ("multiple_pregnancy", "bool", "no", "Used only to cross-check `mother.days_after_end_of_pregnancy`."),
    ("notifiable_safety_incident", "bool/null", "no (null = not yet judged)", "Duty of Candour threshold met."),
    ("never_event", "bool/null", "no (null = not yet judged)", "PSIRF Never Event."),
    (
        "death_likely_due_to_problems_in_care",
        "bool/null",
        "no (null = not yet judged)",
        "Learning from Deaths judgement: a death more likely than not due to problems in care (PSIRF).",
    ),
    (
        "baby",
        "object/null",
        "key always present",
        "`null` when the report has no baby outcome (e.g. a maternal death).",
    ),
    ("baby.birth_date", "date", "with `baby`", "Date of birth (the end of pregnancy)."),
    ("baby.signs_of_life_at_birth", "bool", "with `baby`", "`false` = late fetal loss or stillbirth."),
    (
        "baby.fetal_death_timing",
        "enum/null",
        "no (no signs of life only)",
        "`antepartum`, `intrapartum`, `unknown` (= null).",
    ),
    ("baby.died", "bool", "born alive", "For no signs of life it is implied `true`."),
    ("baby.age_at_death_completed_days", "int ≥ 0", "born alive and died", "0 = died within the first 24 h."),
    ("baby.death_date", "date", "born alive and died", "Must be the birth date + age or + age + 1 day."),
    (
        "baby.received_neonatal_care",
        "bool/null",
        "no (born alive only)",
        "Admitted to or cared for by a neonatal unit.",
    ),
    ("baby.birthweight_g", "int/null", "no", "Used only when gestation is not known."),
    ("baby.therapeutic_cooling", "enum/null", "no (born alive only)", "`active`, `passive`, `none`."),
    ("baby.hie_grade", "int 0–3/null", "no (born alive only)", "Hypoxic-ischaemic encephalopathy grade."),
    ("baby.decreased_central_tone", "bool/null", "no (born alive only)", "In the first 7 days."),
    ("baby.comatose", "bool/null", "no (born alive only)", "In the first 7 days."),
    ("baby.seizures", "bool/null", "no (born alive only)", "In the first 7 days."),
    (
        "baby.moderate_severe_encephalopathy",
        "bool/null",
        "no (born alive only)",
        "Altered consciousness plus at least one of hypotonia, abnormal reflexes, absent/weak suck, clinical seizures.",
    ),
    ("baby.mri_evidence_hypoxic_injury", "bool/null", "no (born alive only)", "null = MRI result not known yet."),
    (
        "baby.outcome_due_to_congenital_condition",
        "bool/null",
        "no",
        "Caused by a health issue or congenital condition present before or at birth.",
    ),
    ("mother", "object", "always", ""),
    ("mother.died", "bool", "always", ""),
    ("mother.death_date", "date", "mother died", "Date of the mother's death."),
    ("mother.death_timing", "enum", "mother died", "`during_pregnancy`, `after_end_of_pregnancy`."),
    (
        "mother.days_after_end_of_pregnancy",
        "int ≥ 0",
        "death after the end of pregnancy",
        "Date of death minus the date the pregnancy ended (0 = same day). Must be empty for a death during pregnancy.",
    ),
    ("mother.pregnancy_outcome", "enum/null", "no", "`birth`, `ectopic`, `miscarriage`, `termination`, `ongoing`."),
    (
        "mother.cause_classification",
        "enum/null",
        "no (null = not known)",
        "`direct`, `indirect`, `suicide`, `accidental`, `coincidental`.",
    ),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [
        "# Harm routing",
        "",
        "<!-- Generated by `python -m matneo.harm.reference_doc`; do not edit by hand. -->",
        "",
        f"Rule set **{RULESET_VERSION}**. `matneo.harm.route(report)` (CLI: `matneo harm route FILE.json`) tells",
        "which national and local bodies a maternity or neonatal harm report goes to, the deadlines as dates,",
        "and which unknown answers would change that. Each rule names the document it restates; the documents,",
        "with their addresses, are listed under [Sources](#sources).",
        "Confidence tags: **CONFIRMED** (primary or official source), **SECONDARY** (reputable secondary",
        "source only), **UNCONFIRMED** (not found in the stored sources: switchable, and reported with",
        "`needs_local_confirmation: true`).",
        "",
        "## Input",
        "",
        "A JSON object. Dates are ISO `YYYY-MM-DD`, not in the future and within the deadline calendar",
        f"({COVERED_FROM.isoformat()} to {COVERED_TO.isoformat()}). Unknown keys, wrong types, values out of range",
        "and contradictions (death before birth, an age at death for a stillbirth, days after the end of",
        "pregnancy for a death during pregnancy, brain-injury findings for a baby born with no signs of life...)",
        "raise `HarmReportError` (a `ValueError`) whose `.errors` lists every problem with its field.",
        "",
        "| field | type | required | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{n}` | {_cell(t)} | {_cell(r)} | {_cell(m)} |" for n, t, r, m in INPUT_FIELDS]
    lines += [
        "",
        "Derived values: `term` = gestation 37+0 or more; `in_labour_before_birth` = `labour` is not",
        "`none` and `mode_of_birth` is not a caesarean before labour; early neonatal death = born alive and died",
        "at 0–6 completed days; neonatal death = born alive and died at 0–27 completed days.",
        "",
        '**Unknown values.** `null` is never read as "no". For each rule the router tries every value of the',
        "unknown fields it depends on (gestation and birthweight by the bands between the thresholds). A rule",
        "that holds whatever they are applies; one that holds for some values is *pending*, and each unknown",
        "field that can tip it is listed in `pending` with what it would add.",
        "",
        "## Output",
        "",
        "```",
        '{"ruleset": "' + RULESET_VERSION + '",',
        ' "routes": [{"id": ROUTE, "reasons": [{"rule", "text", "source", "confidence", "needs_local_confirmation"}],',
        '             "deadlines": {name: "YYYY-MM-DD"},',
        '             "deadline_details": [{"name", "label", "kind", "due", "rule", "text", "source",',
        '                                   "confidence", "needs_local_confirmation"}]}],',
        ' "pending": [{"field", "why", "routes"}],',
        ' "not_routed": [{"route", "rule", "why", "source", "confidence", "needs_local_confirmation"}]}',
        "```",
        "",
        "Routes appear in the order " + ", ".join(f"`{r}`" for r in ROUTE_IDS) + ". `not_routed` shows rules that",
        "hold but are switched off and routes removed by an exclusion, so nothing is dropped silently.",
        "",
        "A deadline's `kind` is `date` (`due` is its date), `as_soon_as_possible` (the source sets no timescale:",
        "no date, never overdue, no overdue notification) or `none` (no timescale found and none configured",
        "locally: no date). `deadlines` holds the dated ones only; `label` is the deadline's plain name.",
        "",
        "## Rules",
        "",
        "A rule's id carries its section number, used across the code and tests as §: 0 the input and",
        "definitions shared by all rules, 1 MNSI (1a babies, 1b mothers, 1c process), 2 NHS Resolution EN",
        "(2a criteria, 2b process), 3 MBRRACE-UK (3a perinatal, 3b maternal), 4 PMRT (4a eligibility, 4b MIS",
        "Safety Action 1), 5 PSIRF, 6 LFPSE, 7 Duty of Candour, 8 CDOP, 10 deadlines and the calendar.",
        "",
    ]
    for route_id in ROUTE_IDS:
        lines += [f"### `{route_id}`: {ROUTE_TITLES[route_id]}", ""]
        for rule in (r for r in RULES if r.route == route_id):
            switch = ""
            if rule.switchable:
                default = "on" if rule.enabled_by_default else "off"
                switch = f' Switchable (`rules["{rule.id}"]`), default **{default}**.'
            flag = ", needs local confirmation" if rule.needs_local_confirmation else ""
            lines += [
                f"- **{rule.id}** ({rule.confidence}{flag}). {rule.text}{switch}",
                f"  - Source: {rule.source}.",
            ]
            if rule.note:
                lines.append(f"  - Note: {rule.note}")
        for exclusion in (e for e in EXCLUSIONS if e.route == route_id):
            lines += [
                f"- **{exclusion.id}** ({exclusion.confidence}): not routed when `{exclusion.excluded_by}` applies. "
                f"{exclusion.text}",
                f"  - Source: {exclusion.source}.",
            ]
        deadlines = [d for d in DEADLINES if d.id.split(".")[0] == route_id]
        if deadlines:
            lines.append("- Deadlines:")
            for d in deadlines:
                flag = ", needs local confirmation" if d.needs_local_confirmation else ""
                configurable = " Timescale configurable." if d.configurable else ""
                lines.append(
                    f"  - `{d.name}`: {d.rule_text(d.period)} ({d.confidence}{flag}). {d.text}"
                    f"{(' ' + d.conflict) if d.conflict else ''}{configurable} Source: {d.source}."
                )
        lines.append("")
    lines += [
        "## Potential severe brain injury criteria",
        "",
        "Any of these, diagnosed in the first 7 days. MNSI-1a-PSBI uses the first three (the legacy",
        '"Each Baby Counts" set); MNSI-1a-MSE uses the fourth; NHSR-2a uses all four. Each criterion can be',
        'switched off everywhere with `brain_injury_criteria["<id>"] = false`.',
        "",
        "| id | criterion | confidence | source |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.id}` | {_cell(c.text)} | {c.confidence} | {_cell(c.source)} |" for c in BRAIN_INJURY_CRITERIA]
    lines += [
        "",
        "## Local switches",
        "",
        "`RoutingOptions` (Python) or `--options FILE.json` (CLI):",
        "",
        "```json",
        "{",
        '  "rules": {"MNSI-1b-SUICIDE": true, "MNSI-1a-MSE": false},',
        '  "brain_injury_criteria": {"moderate_severe_encephalopathy": false},',
        '  "deadlines": {"MBRRACE_MATERNAL.notify": {"amount": 5, "unit": "working_days"},',
        '                "LFPSE.record": {"amount": 1, "unit": "calendar_days"},',
        '                "CDOP.notify": "as_soon_as_possible"}',
        "}",
        "```",
        "",
        "Only rules and deadline timescales that are not CONFIRMED can be changed; units are `calendar_days`,",
        '`working_days` and `months`; `"as_soon_as_possible"` makes a deadline undated and never overdue;',
        "`null` removes a deadline's date until one is configured.",
        "",
        "## Deadline calendar",
        "",
        "- A deadline counts from its clock (day 0): the incident-known date, the birth, or the death (for a baby",
        "  born with no signs of life, the birth date).",
        "- **Working days** skip Saturdays, Sundays and England and Wales bank holidays: the *n*-th working day",
        "  after day 0. Bank holidays are packaged data, `src/matneo/harm/data/bank_holidays_england_wales.csv`",
        f"  (GOV.UK list, {COVERED_FROM.year}–{COVERED_TO.year}; see its README). A date outside that range is an",
        "  error, never a guess.",
        "- **Calendar days** count every day. 72 hours is counted as 3 days (the report has dates, not times).",
        "- **Months** keep the day of the month, clamped to the month end (31 January + 1 month = 28 or 29",
        "  February).",
        "",
        "## Sources",
        "",
        "The documents the rules restate (secondary sources are named in the rule itself). Where no address is",
        "given, none was confirmed: find the document by its publisher and title.",
        "",
    ]
    for source in SOURCES:
        when = f" ({source.date})" if source.date else ""
        where = f" <{source.url}>" if source.url else ""
        lines.append(f"- {source.publisher}, *{source.title}*{when}.{where}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
