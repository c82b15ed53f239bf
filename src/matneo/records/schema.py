"""The birth record: one row per baby, the contract between data producers and MatNeo.

Field names are ours, modelled on the Maternity Services Data Set v2 (MSDS, information
standard DCB1513; NHS England, "Maternity Services Data Set" on digital.nhs.uk, v2.0 from April
2019) and its tables MSD001 (mother), MSD101 (booking), MSD301 (labour and delivery) and MSD401/405
(baby). Every field is declared here once, as data:
the synthetic generator writes it, the loader validates against it, the store's Parquet
schema is derived from it and ``docs/birth-record.md`` documents it.

Gestation is always two integers (completed weeks, days 0–6), never a float, so that
boundaries such as 23+6 / 24+0 are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

FieldType = Literal["string", "int", "bool", "datetime", "code"]

OUTCOMES = ("live_birth", "stillbirth", "late_fetal_loss")
STILLBIRTH_TIMINGS = ("antepartum", "intrapartum", "unknown")
SEXES = ("male", "female", "indeterminate", "not_known")
ONSETS_OF_LABOUR = ("spontaneous", "induced", "not_in_labour")
# MSDS DeliveryMethodCode 0–9 in words (MSD401BabyDemographics; NHS Data Dictionary data element
# DELIVERY METHOD, https://www.datadictionary.nhs.uk/): 0 spontaneous vertex, 1 other cephalic,
# 2–3 forceps, 4 ventouse, 5 breech, 6 breech extraction, 7 elective and 8 emergency caesarean,
# 9 other — as NHS England's github.com/nhsengland/msds-monthly-to-cml reads it.
MODES_OF_DELIVERY = (
    "spontaneous_vertex",
    "spontaneous_other_cephalic",
    "forceps",
    "ventouse",
    "breech",
    "breech_extraction",
    "elective_caesarean",
    "emergency_caesarean",
    "other",
)
MATERNAL_DEATH_CAUSE_CLASSES = ("direct", "indirect", "coincidental")
ANTENATAL_STEROIDS = ("full_course_within_7d", "partial", "none")
NEONATAL_UNIT_LEVELS = ("NICU", "LNU", "SCU", "none")
# NHS Data Dictionary ETHNIC CATEGORY (2001 census) codes, plus Z (not stated) and
# 99 (not known), which MSDS submissions also carry.
ETHNIC_CATEGORY_CODES = (*tuple("ABCDEFGHJKLMNPRSZ"), "99")


@dataclass(frozen=True)
class Field:
    """One column of the birth record.

    ``minimum``/``maximum`` are inclusive plausibility bounds for integers; ``codes`` are the
    allowed values of a code field. Bounds are data-quality limits, not clinical thresholds.
    """

    name: str
    type: FieldType
    required: bool
    description: str
    codes: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "string": pa.string(),
            "code": pa.string(),
            "int": pa.int16() if self.name != "pph_ml" else pa.int32(),
            "bool": pa.bool_(),
            "datetime": pa.timestamp("s"),
        }[self.type]

    @property
    def sql_type(self) -> str:
        return {
            "string": "VARCHAR",
            "code": "VARCHAR",
            "int": "INTEGER",
            "bool": "BOOLEAN",
            "datetime": "TIMESTAMP",
        }[self.type]


FIELDS: tuple[Field, ...] = (
    Field("record_id", "string", True, "Unique identifier of this baby's record, assigned by the trust."),
    Field("trust_code", "string", True, "ODS code of the trust where the baby was born."),
    Field("site_code", "string", False, "ODS code of the site of birth; must belong to the trust."),
    Field("lmns_code", "string", False, "LMNS of the trust; filled from reference data, checked if given."),
    Field(
        "region_code", "string", False, "NHS England region of the trust; filled from reference data, checked if given."
    ),
    Field("birth_datetime", "datetime", True, "Date and time of birth (ISO 8601, local time)."),
    Field("gestation_weeks", "int", True, "Completed weeks of gestation at birth.", minimum=20, maximum=44),
    Field("gestation_days", "int", True, "Days beyond the completed weeks (0–6).", minimum=0, maximum=6),
    Field("birth_weight_g", "int", False, "Birth weight in grams.", minimum=200, maximum=7000),
    Field("plurality", "int", True, "Number of babies born in this delivery (1 = singleton).", minimum=1, maximum=8),
    Field(
        "birth_order", "int", True, "Order of this baby within the delivery (1 for a singleton).", minimum=1, maximum=8
    ),
    Field("sex", "code", False, "Phenotypic sex.", codes=SEXES),
    Field("outcome", "code", True, "Pregnancy outcome for this baby.", codes=OUTCOMES),
    Field(
        "stillbirth_timing",
        "code",
        False,
        "Timing of a stillbirth; required for stillbirths only.",
        codes=STILLBIRTH_TIMINGS,
    ),
    Field("onset_of_labour", "code", False, "How labour started.", codes=ONSETS_OF_LABOUR),
    Field(
        "mode_of_delivery",
        "code",
        False,
        "Method of delivery (MSDS DeliveryMethodCode in words).",
        codes=MODES_OF_DELIVERY,
    ),
    Field(
        "neonatal_death_datetime", "datetime", False, "Date and time of death if the baby died within 28 days of birth."
    ),
    Field(
        "brain_injury",
        "bool",
        False,
        "Brain injury during or soon after birth, per the national (Imperial NDAU) definition.",
    ),
    Field("hie_grade", "int", False, "Hypoxic-ischaemic encephalopathy grade (1–3), if any.", minimum=1, maximum=3),
    Field("therapeutic_cooling", "bool", False, "Baby received therapeutic hypothermia."),
    Field("maternal_age", "int", False, "Mother's age in completed years at the birth.", minimum=10, maximum=65),
    Field(
        "ethnic_category",
        "code",
        False,
        "Mother's ethnic category (NHS Data Dictionary 2001 code).",
        codes=ETHNIC_CATEGORY_CODES,
    ),
    Field(
        "imd_decile",
        "int",
        False,
        "Index of Multiple Deprivation decile of residence (1 = most deprived).",
        minimum=1,
        maximum=10,
    ),
    Field("smoking_at_delivery", "bool", False, "Mother smoking at the time of delivery."),
    Field(
        "parity",
        "int",
        False,
        "Number of previous births (live or still) before this pregnancy.",
        minimum=0,
        maximum=20,
    ),
    Field(
        "booking_gestation_weeks",
        "int",
        False,
        "Completed weeks of gestation at the booking appointment.",
        minimum=0,
        maximum=44,
    ),
    Field("continuity_of_carer", "bool", False, "Mother was placed on a Continuity of Carer pathway at booking."),
    Field("mother_id", "string", True, "Pseudonymised identifier of the mother; babies of one delivery share it."),
    Field(
        "maternal_death_datetime",
        "datetime",
        False,
        "Date and time of the mother's death, if she died within a year of the birth.",
    ),
    Field("maternal_death_cause_class", "code", False, "Class of maternal death.", codes=MATERNAL_DEATH_CAUSE_CLASSES),
    Field(
        "mgso4_within_24h",
        "bool",
        False,
        "Magnesium sulphate given within 24 h before birth (recorded for births <30 weeks).",
    ),
    Field("antenatal_steroids", "code", False, "Antenatal corticosteroids before birth.", codes=ANTENATAL_STEROIDS),
    Field("birth_site_level", "code", False, "Neonatal unit level at the place of birth.", codes=NEONATAL_UNIT_LEVELS),
    Field("nnu_admission", "bool", False, "Baby admitted to a neonatal unit."),
    Field("apgar_5min", "int", False, "Apgar score at 5 minutes.", minimum=0, maximum=10),
    Field("pph_ml", "int", False, "Estimated postpartum blood loss in ml.", minimum=0, maximum=20000),
    Field("perineal_tear_degree", "int", False, "Degree of perineal tear (0 = none, 1–4).", minimum=0, maximum=4),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
# Columns a file may omit entirely: the loader fills them from the organisation reference.
#: Longest text a text field may hold. A data-quality limit, not a clinical one: far longer than
#: any ODS code or local record identifier, short enough that a file cannot put free text
#: (a note, a name, a pasted row) into the store through an identifier column.
MAX_TEXT_LENGTH = 64

DERIVABLE_FIELDS: frozenset[str] = frozenset({"lmns_code", "region_code"})

ARROW_SCHEMA: pa.Schema = pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in FIELDS])
