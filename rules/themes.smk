# themes stage (issue 10): the theme sources by citizenship -> four national tables and the FJAN check.
# One job for all of them: the files are small, and each Snakemake job pays about 2 s of start-up.
# See docs/theme-sources.md for each file's territorial level, vintage and quirks.

THEME_SOURCES = [
    "istat_29_316_popstrbil1_provinces",
    "istat_29_316_fjan",
    "dcis_permsogg1_12012025111539693",
    "d5_activity_rate_between_foreigners_and_italians",
    "d7_unemployment_rate_between_foreigners_and_italians",
    "dccv_taxoccu1_12012025110922125",
    "dccv_taxdisoccu1_12012025111208359",
    "ni2024_stranieri_altri_dati_2",
]
THEME_TABLES = ["foreign_balance", "protection_permits", "labour_rates", "education_levels"]


rule ingest_themes:
    """Foreigners' balance (POPSTRBIL1), protection permits (PERMSOGG1), LFS rates, Noi Italia education."""
    input:
        **{sid: raw(sid) for sid in THEME_SOURCES},
    output:
        **{name: keep(f"{PROCESSED}/{name}.parquet") for name in THEME_TABLES},
        fjan_check=keep(f"{PROCESSED}/checks/foreign_balance_vs_fjan.csv"),
    log:
        log_of("ingest_themes", "themes"),
    benchmark:
        bench_of("ingest_themes", "themes")
    params:
        # Part of the job's identity: a status changed in the registry rebuilds the tables.
        status={sid: reg(sid, "status") for sid in THEME_SOURCES},
    script:
        "../scripts/ingest_themes.py"


TARGETS.extend([f"{PROCESSED}/{name}.parquet" for name in THEME_TABLES]
               + [f"{PROCESSED}/checks/foreign_balance_vs_fjan.csv"])
