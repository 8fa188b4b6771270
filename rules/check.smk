# check stage (issue 8): `make check` = retrieve every registered file (sha256 verified), run every
# ingest (parse + validate), then summarise per source what was checked. Nothing downstream of the
# ingest runs, so an analyst who drops in a new file learns in a minute whether it is accepted.
# Not part of `all`: the report does not need the summary, and `make check` stays cheap after it.

INGEST_RULES = ["ingest_istat", "ingest_reception_presences", "ingest_reception_contracts",
                "ingest_reception_published", "ingest_themes"]


def _ingested():
    """registry id -> the ingest rules that read (and so validate) its raw file, joined with ';'."""
    by_path = {raw(i): i for i in REGISTRY}
    out = {}
    for name in INGEST_RULES:
        for path in getattr(rules, name).input:
            if path in by_path:
                out.setdefault(by_path[path], []).append(name)
    return {i: ";".join(sorted(set(names))) for i, names in sorted(out.items())}


def _ingest_outputs():
    return sorted({str(p) for name in INGEST_RULES for p in getattr(rules, name).output})


rule check_inputs:
    """Retrieve and validate every input; write the per-source summary that `make check` prints."""
    input:
        raw=[raw(i) for i in REGISTRY],
        tables=_ingest_outputs(),
        registry="config/sources.csv",
    output:
        summary=keep(f"{PROCESSED}/input_summary.csv"),
    params:
        ingested=_ingested(),
        checks=[p for p in _ingest_outputs() if p.startswith(f"{PROCESSED}/checks/")],
        raw_dir=RAW,
        processed=PROCESSED,
    log:
        log_of("check_inputs", "national"),
    benchmark:
        bench_of("check_inputs", "national")
    script:
        "../scripts/check_inputs.py"
