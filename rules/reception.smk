# reception stage (issue 4): the Ministry's cruscotto, ANAC contracts, published figures, per-centre data.
# Three jobs: each Snakemake job pays about 2 s of start-up, so each source is read in one job (the
# 132 monthly ANAC files together). Every table says the territory it covers (territory_level);
# see docs/reception-sources.md for definitions and caveats, docs/centres-format.md for centres_file.

ANAC_IDS = ids_of("anac_contracts")
CENTRES_FILE = CFG["centres_file"]


rule ingest_reception_presences:
    """Cruscotto statistico giornaliero: people in reception per region, plus the missing report dates."""
    input:
        accoglienza=raw("cruscotto_accoglienza"),
        reports=raw("cruscotto_anagrafica_report"),
    output:
        table=keep(f"{PROCESSED}/reception_presences.parquet"),
        gaps=keep(f"{PROCESSED}/reception_presences_gaps.csv"),
    log:
        log_of("ingest_reception_presences", "national"),
    benchmark:
        bench_of("ingest_reception_presences", "national")
    params:
        status=reg("cruscotto_accoglienza", "status"),
    script:
        "../scripts/ingest_reception_presences.py"


rule ingest_reception_contracts:
    """ANAC contracts for reception services: one row per CIG, province, category, framework flag."""
    input:
        files=raw_dataset("anac_contracts"),
        territories=f"{PROCESSED}/territories.parquet",
    output:
        table=keep(f"{PROCESSED}/reception_contracts.parquet"),
        summary=keep(f"{PROCESSED}/reception_contracts_summary.parquet"),
    log:
        log_of("ingest_reception_contracts", "national"),
    benchmark:
        bench_of("ingest_reception_contracts", "national")
    params:
        # Aligned with input.files (raw_dataset keeps registry order).
        source_ids=ANAC_IDS,
        status=reg(ANAC_IDS[0], "status") if ANAC_IDS else "final",
    script:
        "../scripts/ingest_reception_contracts.py"


rule ingest_reception_published:
    """Published figures (curated statements) and the optional per-centre file (config centres_file)."""
    input:
        figures=CFG["published_figures"],
        centres=[CENTRES_FILE] if CENTRES_FILE else [],
    output:
        published=keep(f"{PROCESSED}/reception_published.parquet"),
        centres=keep(f"{PROCESSED}/reception_centres.parquet"),
        centres_comuni=keep(f"{PROCESSED}/reception_centres_comuni.parquet"),
        centres_status=keep(f"{PROCESSED}/reception_centres_status.json"),
    log:
        log_of("ingest_reception_published", "national"),
    benchmark:
        bench_of("ingest_reception_published", "national")
    params:
        # Part of the job's identity: switching centres_file on or off rebuilds the tables.
        centres_file=CENTRES_FILE,
    script:
        "../scripts/ingest_reception_published.py"


TARGETS.extend([
    f"{PROCESSED}/reception_presences.parquet",
    f"{PROCESSED}/reception_presences_gaps.csv",
    f"{PROCESSED}/reception_contracts.parquet",
    f"{PROCESSED}/reception_contracts_summary.parquet",
    f"{PROCESSED}/reception_published.parquet",
    f"{PROCESSED}/reception_centres.parquet",
    f"{PROCESSED}/reception_centres_comuni.parquet",
    f"{PROCESSED}/reception_centres_status.json",
])
