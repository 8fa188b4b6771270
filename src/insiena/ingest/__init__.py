"""Ingest: one parser per official format, each writing tidy, validated national tables.

ISTAT demography: `insiena.ingest.istat` (entry point `build_istat`) with one module per format family
(`istat_posas`, `istat_bilancio`, `istat_sdmx`) on top of the shared reader `istat_csv`.
"""
