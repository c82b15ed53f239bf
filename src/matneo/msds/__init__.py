"""Maternity Services Data Set (MSDS) v2.0 extracts in: the mapping to birth records, a reader and a writer."""
