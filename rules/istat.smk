# ISTAT ingest: every registered ISTAT demographic file -> the national tables territories,
# population, demographic_balance and the consistency report (insiena.ingest.istat).
# One job for all of them: they share the territory list and the checks compare files with each
# other, and each extra job would pay Python's start-up again.

ISTAT_DATASETS = ["itter107", "bilancio_p2", "bilancio_p3", "bilancio_mensile", "posas", "posas_italia",
                  "strasa", "sdmx_22_289", "sdmx_29_316_fjan"]


def _istat_source_ids():
    ids = ids_of(*ISTAT_DATASETS)
    for province, source_id in sorted(CFG["zone_distretto"].items()):
        if source_id not in REGISTRY:
            sys.exit(f"INSIEna: config key 'zone_distretto.{province}': '{source_id}' is not in config/sources.csv")
        ids.append(source_id)
    return sorted(set(ids))


ISTAT_SOURCES = {
    i: {"path": raw(i), "dataset": reg(i, "dataset"), "reference_date": reg(i, "reference_date"),
        "status": reg(i, "status")}
    for i in _istat_source_ids()
}


rule ingest_istat:
    """Parse and validate the ISTAT files; write the national ISTAT tables and the consistency report."""
    input:
        raw=[s["path"] for s in ISTAT_SOURCES.values()],
        crosswalk="config/territory_crosswalk.csv",
    output:
        territories=keep(f"{PROCESSED}/territories.parquet"),
        population=keep(f"{PROCESSED}/population.parquet"),
        balance=keep(f"{PROCESSED}/demographic_balance.parquet"),
        consistency=keep(f"{PROCESSED}/checks/consistency.csv"),
    params:
        # Registry metadata and the configured provinces are part of the job's identity: a new
        # reference date, status or province re-runs the ingest and its presence checks.
        sources=ISTAT_SOURCES,
        provinces=PROVINCES,
        zone_distretto=CFG["zone_distretto"],
    log:
        "logs/ingest_istat/ingest_istat.log",
    benchmark:
        "benchmarks/ingest_istat/ingest_istat.tsv"
    script:
        "../scripts/ingest_istat.py"


TARGETS.extend([
    f"{PROCESSED}/territories.parquet",
    f"{PROCESSED}/population.parquet",
    f"{PROCESSED}/demographic_balance.parquet",
    f"{PROCESSED}/checks/consistency.csv",
])
