"""FHIR in and out: birth records from FHIR Bundles, measures as FHIR Measure and MeasureReport.

Every resource is read and written with the ``fhir.resources`` R4B models (pydantic): MatNeo
never parses FHIR JSON by hand. Which element and which code carries each birth-record field
is data (``data/codes.json``), documented in docs/fhir.md (``reference_doc.py``).
"""
