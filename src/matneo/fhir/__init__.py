"""FHIR in and out: birth records from FHIR Bundles, measures as FHIR Measure and MeasureReport.

Every resource written is checked by the ``fhir.resources`` R4B models (pydantic). Bundles are
read by a fast path (``fastcheck.py``) that vouches for exactly the elements MatNeo knows and
hands everything else to those models, so it accepts and refuses what they do (``inbound.py``).
Which element and which code carries each birth-record field is data (``data/codes.json``),
documented in docs/fhir.md (``reference_doc.py``).
"""
