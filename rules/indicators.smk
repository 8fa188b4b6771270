# indicators stage (issue 5, indicator part of issue 10): every computed indicator of the catalogue for
# every territory of Italy, in one national job (one run serves every configured province; the
# per-province selection is insiena.indicators.indicators_for_province). Method: docs/indicators-method.md.

INDICATOR_TABLES = ["territories", "population", "demographic_balance", "foreign_balance", "protection_permits",
                    "labour_rates", "education_levels", "reception_presences", "reception_contracts_summary"]


rule indicators:
    """Indicators table (Parquet; its CSV twin is rule indicators_csv), coverage against the catalogue,
    SIENA2030 and SAMEDI comparisons."""
    input:
        **{name: f"{PROCESSED}/{name}.parquet" for name in INDICATOR_TABLES},
        catalogue="config/indicators.yaml",
        siena2030="config/benchmarks/siena2030.csv",
        samedi="config/benchmarks/samedi.yaml",
        registry="config/sources.csv",
    output:
        table=keep(f"{PROCESSED}/indicators.parquet"),
        coverage=keep(f"{PROCESSED}/indicators_coverage.csv"),
        siena2030=keep(f"{PROCESSED}/benchmark_siena2030.csv"),
        samedi=keep(f"{PROCESSED}/benchmark_samedi.csv"),
    params:
        tables=INDICATOR_TABLES,
        # Part of the job's identity: a new area or zone mapping recomputes the table.
        areas=CFG["areas"],
        zone_distretto=CFG["zone_distretto"],
    log:
        log_of("indicators", "national"),
    benchmark:
        bench_of("indicators", "national")
    script:
        "../scripts/indicators.py"


rule indicators_csv:
    """The CSV twin of the indicators table, in its own job: writing 50 MB of text takes seconds that
    the reports need not wait for."""
    input:
        table=f"{PROCESSED}/indicators.parquet",
    output:
        csv=keep(f"{PROCESSED}/indicators.csv"),
    log:
        log_of("indicators_csv", "national"),
    benchmark:
        bench_of("indicators_csv", "national")
    script:
        "../scripts/indicators_csv.py"


TARGETS.extend([
    f"{PROCESSED}/indicators.parquet",
    f"{PROCESSED}/indicators.csv",
    f"{PROCESSED}/indicators_coverage.csv",
    f"{PROCESSED}/benchmark_siena2030.csv",
    f"{PROCESSED}/benchmark_samedi.csv",
])
