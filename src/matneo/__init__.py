"""MatNeo: maternity and neonatal safety surveillance for the NHS in England."""

__version__ = "0.1.0"
