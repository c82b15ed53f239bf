"""Synthetic national birth records: seeded, vectorised, calibrated to published figures.

MatNeo cannot ship patient data, but its measures, signals and reports need national-scale
input with realistic variation between trusts to be developed, tested and demonstrated.
``generate_year`` makes one year (about 650,000 babies at ``scale=1.0``) in one to two seconds;
``write_dataset`` writes years to Parquet or CSV files that the loader accepts unchanged.
The national figures it tracks are in :mod:`matneo.synth.targets`.
"""

from matneo.synth.generator import Struggling, generate_year, parse_struggling
from matneo.synth.output import write_dataset
from matneo.synth.targets import TARGETS, target

__all__ = ["TARGETS", "Struggling", "generate_year", "parse_struggling", "target", "write_dataset"]
