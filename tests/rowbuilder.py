"""One valid birth record as CSV text, for tests to change one thing at a time."""

from __future__ import annotations


def valid_row(trusts: list[tuple[str, str]], n: int, **changes: str) -> dict[str, str]:
    """A valid term singleton live birth at ``trusts[0]``; ``n`` makes the ids unique."""
    trust, site = trusts[0]
    row = {
        "record_id": f"REC{n:06d}",
        "trust_code": trust,
        "site_code": site,
        "lmns_code": "",
        "region_code": "",
        "birth_datetime": "2019-06-15 10:30:00",
        "gestation_weeks": "39",
        "gestation_days": "2",
        "birth_weight_g": "3400",
        "plurality": "1",
        "birth_order": "1",
        "sex": "female",
        "outcome": "live_birth",
        "stillbirth_timing": "",
        "onset_of_labour": "spontaneous",
        "mode_of_delivery": "spontaneous_vertex",
        "neonatal_death_datetime": "",
        "brain_injury": "false",
        "hie_grade": "",
        "therapeutic_cooling": "false",
        "maternal_age": "31",
        "ethnic_category": "A",
        "imd_decile": "5",
        "smoking_at_delivery": "false",
        "parity": "1",
        "booking_gestation_weeks": "10",
        "continuity_of_carer": "false",
        "mother_id": f"M{n:06d}",
        "maternal_death_datetime": "",
        "maternal_death_cause_class": "",
        "mgso4_within_24h": "",
        "antenatal_steroids": "",
        "birth_site_level": "LNU",
        "nnu_admission": "false",
        "apgar_5min": "9",
        "pph_ml": "350",
        "perineal_tear_degree": "1",
    }
    unknown = set(changes) - set(row)
    assert not unknown, f"unknown fields {unknown}"
    row.update(changes)
    return row
