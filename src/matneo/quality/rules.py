"""Which fields the measures rely on, and what "complete" and "valid" mean for each.

The list of fields is *derived* from the measure registry (:mod:`matneo.measures.definitions`),
never written by hand, so a new measure brings its inputs into the data-quality report and into
the caveats on its figures by itself. For each measure, every birth-record field named in its
numerator or denominator (through :data:`~matneo.measures.definitions.DERIVED_COLUMNS`) is an
*input*, judged among the records that measure looks at:

* a field the denominator requires to be recorded (``smoking_at_delivery IS NOT NULL``) is an
  input whose missing values silently shrink the denominator: completeness is the share of the
  denominator's *other* conditions (the "population", e.g. maternities) where it is recorded;
* any other optional field (mode of delivery, brain injury, ethnic category) is judged among the
  denominator's conditions that do not themselves use the field;
* required fields are complete by construction (the loader refuses a record without them) and
  are still counted, so the report shows it;
* fields whose absence means "did not happen" (:data:`ABSENCE_MEANS_NONE`: a death date) have no
  measurable completeness and are listed as such.

Ethnic category counts as known only with a code other than Z (not stated) and 99 (not known):
NHS Data Dictionary, data element ETHNIC CATEGORY (https://www.datadictionary.nhs.uk/
data_elements/ethnic_category.html).

The completeness threshold under which a figure carries a caveat, the birth-weight fence and
the lateness rule are MatNeo's defaults and **need local confirmation**; each is a setting
(:class:`matneo.config.Settings`, docs/data-quality.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from matneo.measures.counts import DIMENSIONS
from matneo.measures.definitions import DERIVED_COLUMNS, MEASURES, Measure
from matneo.records.schema import FIELDS_BY_NAME

if TYPE_CHECKING:
    from matneo.config import Settings

#: Percentage of a figure's population with an input recorded below which the figure carries a
#: caveat. MatNeo's default: NEEDS LOCAL CONFIRMATION (``MATNEO_COMPLETENESS_THRESHOLD``, which
#: also takes per-field values, docs/data-quality.md). No national source sets one number for
#: every field; NHS England's MSDS data quality reports show completeness without a cut-off.
DEFAULT_COMPLETENESS_THRESHOLD = 90.0
#: Tukey's "far out" fence multiplier: a value more than 3 interquartile ranges outside the
#: quartiles (J. W. Tukey, Exploratory Data Analysis, Addison-Wesley, 1977, chapter 2,
#: "outside" 1.5 and "far out" 3 steps). Applied to birth weight within each completed week of
#: gestation across the whole store. The choice of 3 NEEDS LOCAL CONFIRMATION
#: (``MATNEO_BIRTH_WEIGHT_FENCE``).
DEFAULT_BIRTH_WEIGHT_FENCE = 3.0
#: Percentage of a figure's births with weight and gestation both recorded whose weight is outside
#: the fences for its week, above which a figure resting on gestation or birth weight carries a
#: caveat (one of the pair is probably wrong). Far-out fences leave well under 0.1% of real weights
#: outside them, so 1% points to recording errors rather than small babies; MatNeo's default, NEEDS
#: LOCAL CONFIRMATION (``MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT``).
DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT = 1.0
#: A week of gestation with fewer stored birth weights than this has no fences (quartiles of a
#: handful of babies say nothing). A product choice that NEEDS LOCAL CONFIRMATION.
MIN_WEIGHTS_PER_WEEK = 20
#: A trust-month first loaded more than this many days after the month ended is late. MatNeo's
#: default, NEEDS LOCAL CONFIRMATION against the submission timetable the trust works to
#: (``MATNEO_LATE_AFTER_DAYS``). Months that arrived in a trust's first load (its history,
#: loaded when it joined) are never late.
DEFAULT_LATE_AFTER_DAYS = 60

#: Fields whose empty value means the event did not happen (schema: "if the baby died…"), so
#: missing and "none" cannot be told apart and completeness cannot be measured.
ABSENCE_MEANS_NONE = frozenset({"neonatal_death_datetime", "maternal_death_datetime", "maternal_death_cause_class"})

#: Each measured field in words, as caveats and pages name it ("smoking status at delivery
#: recorded for 62% of maternities"). A test checks every derived input has one.
FIELD_LABELS: dict[str, str] = {
    "outcome": "pregnancy outcome",
    "gestation_weeks": "gestation at birth (weeks)",
    "gestation_days": "gestation at birth (days)",
    "birth_order": "birth order",
    "birth_datetime": "date and time of birth",
    "smoking_at_delivery": "smoking status at delivery",
    "ethnic_category": "ethnic category",
    "imd_decile": "deprivation (IMD decile)",
    "mode_of_delivery": "mode of birth",
    "brain_injury": "brain injury",
    "mgso4_within_24h": "magnesium sulphate before birth",
    "antenatal_steroids": "antenatal steroids",
    "birth_site_level": "neonatal unit level at the place of birth",
    "continuity_of_carer": "Continuity of Carer pathway",
    "nnu_admission": "neonatal unit admission",
    "pph_ml": "blood loss",
    "perineal_tear_degree": "perineal tear degree",
    "apgar_5min": "Apgar score at 5 minutes",
    "neonatal_death_datetime": "date of neonatal death",
    "maternal_death_datetime": "date of maternal death",
    "maternal_death_cause_class": "class of maternal death",
    "birth_weight_g": "birth weight",
}
#: How each field counts as "known" when it is not simply non-empty.
KNOWN_SQL: dict[str, str] = {
    "ethnic_category": "ethnic_category IS NOT NULL AND ethnic_category NOT IN ('Z', '99')",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_NULL = re.compile(r"^\s*([a-z_0-9]+)\s+IS\s+NOT\s+NULL\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Input:
    """One field judged among one population: a column pair of the quality cube."""

    field: str
    population: str  # SQL condition over a record and DERIVED_COLUMNS; "TRUE" for every record
    measures: tuple[str, ...]  # the measures whose figures this input carries into
    kind: str  # "required" | "recorded" (the denominator needs it) | "optional"

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.population.encode()).hexdigest()[:6]
        return f"{self.field}__{digest}"

    @property
    def known(self) -> str:
        return KNOWN_SQL.get(self.field, f"{self.field} IS NOT NULL")

    @property
    def noun(self) -> str:
        """What the population counts: maternities (one per delivery) or births (babies)."""
        return "maternities" if re.search(r"\bmaternity\b", self.population) else "births"

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field.replace("_", " "))


def _strip_strings(sql: str) -> str:
    return re.sub(r"'[^']*'", "''", sql)


def fields_of(sql: str) -> frozenset[str]:
    """Birth-record fields an SQL condition reads, through the derived columns."""
    found: set[str] = set()
    for word in _WORD.findall(_strip_strings(sql)):
        if word in FIELDS_BY_NAME:
            found.add(word)
        elif word in DERIVED_COLUMNS:
            found |= fields_of(DERIVED_COLUMNS[word])
    return frozenset(found)


def conjuncts(sql: str) -> list[str]:
    """The top-level ``AND`` terms of a condition (terms inside brackets stay whole)."""
    terms, depth, start = [], 0, 0
    text = re.sub(r"'[^']*'", lambda m: "'" + "x" * (len(m.group(0)) - 2) + "'", sql)  # same length
    i = 0
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            match = _AND.match(text, i)
            if match and (i == 0 or text[i].isspace()):
                terms.append(sql[start:i].strip())
                start = i = match.end()
                continue
        i += 1
    terms.append(sql[start:].strip())
    return [t for t in terms if t]


def measure_inputs(measure: Measure) -> list[Input]:
    """The inputs of one measure, each with the population it is judged in."""
    terms = conjuncts(measure.denominator)
    recorded = {m.group(1) for t in terms if (m := _NOT_NULL.match(t))}
    used = fields_of(measure.numerator) | fields_of(measure.denominator)
    inputs = []
    for name in sorted(used):
        if name in ABSENCE_MEANS_NONE:
            continue
        if FIELDS_BY_NAME[name].required:
            inputs.append(Input(name, "TRUE", (measure.id,), "required"))
            continue
        kept = [t for t in terms if not _NOT_NULL.match(t) and name not in fields_of(t)]
        population = " AND ".join(f"({t})" for t in kept) or "TRUE"
        inputs.append(Input(name, population, (measure.id,), "recorded" if name in recorded else "optional"))
    return inputs


@cache
def all_inputs() -> tuple[Input, ...]:
    """Every input of every measure, one per (field, population), in registry order."""
    merged: dict[tuple[str, str], Input] = {}
    for measure in MEASURES:
        for found in measure_inputs(measure):
            key = (found.field, found.population)
            if key in merged:
                old = merged[key]
                merged[key] = Input(old.field, old.population, (*old.measures, measure.id), old.kind)
            else:
                merged[key] = found
    return tuple(merged.values())


@cache
def breakdown_inputs() -> tuple[Input, ...]:
    """The fields behind the count cube's breakdown dimensions (ethnic group, IMD quintile),
    among every record: the inequality charts of every measure rest on them."""
    fields = sorted(fields_of(" ".join(d for d in DIMENSIONS if d in DERIVED_COLUMNS)))
    return tuple(Input(name, "TRUE", (), "breakdown") for name in fields)


def inputs_of(measure_id: str) -> list[Input]:
    return [i for i in all_inputs() if measure_id in i.measures]


def measured_fields() -> list[str]:
    """Every birth-record field a measure uses, in schema order (derived, never by hand)."""
    used: set[str] = set()
    for measure in MEASURES:
        used |= fields_of(measure.numerator) | fields_of(measure.denominator)
    return [name for name in FIELDS_BY_NAME if name in used]


def fingerprint() -> str:
    """Changes whenever an input or rule changes, so a cached quality cube is never stale."""
    text = repr([(i.field, i.population, i.known) for i in (*all_inputs(), *breakdown_inputs())]) + repr(
        MIN_WEIGHTS_PER_WEEK
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class QualityRules:
    """The configurable part: thresholds and limits (all NEED LOCAL CONFIRMATION)."""

    default_threshold: float = DEFAULT_COMPLETENESS_THRESHOLD
    thresholds: tuple[tuple[str, float], ...] = ()  # per field, overriding the default
    birth_weight_fence: float = DEFAULT_BIRTH_WEIGHT_FENCE
    late_after_days: int = DEFAULT_LATE_AFTER_DAYS
    implausible_weight_percent: float = DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT

    def threshold(self, field: str) -> float:
        return dict(self.thresholds).get(field, self.default_threshold)


def rules_from(settings: Settings) -> QualityRules:
    """The instance's rules: its settings where given, MatNeo's defaults otherwise."""
    return QualityRules(
        default_threshold=DEFAULT_COMPLETENESS_THRESHOLD
        if settings.completeness_threshold is None
        else settings.completeness_threshold,
        thresholds=settings.completeness_thresholds,
        birth_weight_fence=settings.birth_weight_fence or DEFAULT_BIRTH_WEIGHT_FENCE,
        late_after_days=DEFAULT_LATE_AFTER_DAYS if settings.late_after_days is None else settings.late_after_days,
        implausible_weight_percent=DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT
        if settings.implausible_weight_percent is None
        else settings.implausible_weight_percent,
    )


def parse_thresholds(text: str) -> tuple[float, tuple[tuple[str, float], ...]]:
    """``"90"`` or ``"90,smoking_at_delivery=95,ethnic_category=80"`` → (default, per field).

    ValueError naming what is wrong: a number outside 0–100 or a field no measure uses.
    """
    default = DEFAULT_COMPLETENESS_THRESHOLD
    per_field: list[tuple[str, float]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, value = part.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"completeness threshold {value!r} is not a number") from None
        if not 0 <= number <= 100:
            raise ValueError(f"completeness threshold {number:g} is not a percentage from 0 to 100")
        if not name:
            default = number
        elif name.strip() not in measured_fields():
            raise ValueError(f"{name.strip()!r} is not a field any measure uses: {', '.join(measured_fields())}")
        else:
            per_field.append((name.strip(), number))
    return default, tuple(per_field)
