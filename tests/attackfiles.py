"""Parquet files whose ``trust_code`` column names another trust in an unusual physical type.

The scope attack from the security probe, shared by the loader's and the web app's tests.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from matneo.records.schema import FIELD_NAMES
from matneo.reference.organisations import OrgHierarchy
from rowbuilder import valid_row

OWN, OTHER = "R0A", "RJ1"


def trust_column(kind: str, codes: list[str]) -> pa.Array:
    """``codes`` stored as a Parquet column of one physical type."""
    if kind == "binary":
        return pa.array([c.encode() for c in codes], pa.binary())
    if kind == "large_binary":
        return pa.array([c.encode() for c in codes], pa.large_binary())
    if kind == "dictionary":
        return pa.array(codes).dictionary_encode()
    if kind == "large_string":
        return pa.array(codes, pa.large_string())
    if kind == "whitespace":
        return pa.array([f"  {c}\t" for c in codes])
    if kind == "lower_case":
        return pa.array([c.lower() for c in codes])
    if kind == "int":
        return pa.array([12345 for _ in codes], pa.int64())
    raise AssertionError(kind)


KINDS = ["binary", "large_binary", "dictionary", "large_string", "whitespace", "lower_case", "int"]
#: Kinds the loader turns into the other trust's code when nothing stops it (the real attack).
BECOMES_OTHER = {"binary", "large_binary", "dictionary", "large_string", "whitespace"}


def attack_file(path: Path, hierarchy: OrgHierarchy, kind: str, month: str = "2019-06", own_rows: int = 0) -> Path:
    """A Parquet file with rows of the other trust (in the given encoding) and optionally own rows."""
    other_site = hierarchy.sites_of(OTHER)[0].code
    own_site = hierarchy.sites_of(OWN)[0].code
    stamp = {"birth_datetime": f"{month}-15 10:30:00"}
    rows = [valid_row([(OTHER, other_site)], n, record_id=f"ATTACK-{n}", **stamp) for n in range(3)]
    rows += [valid_row([(OWN, own_site)], 100 + n, record_id=f"OWN-{n}", **stamp) for n in range(own_rows)]
    table = pa.table({name: [row[name] or None for row in rows] for name in FIELD_NAMES})
    column = trust_column(kind, [row["trust_code"] for row in rows])  # own rows in the same encoding
    table = table.set_column(table.schema.get_field_index("trust_code"), "trust_code", column)
    pq.write_table(table, path)
    return path
