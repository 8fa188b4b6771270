# retrieve: mirror or upstream -> data/raw/<path>, sha256 verified (insiena.retrieve).
# One job per registry dataset (the 132 monthly ANAC files are one job), as a light `shell:` job:
# Snakemake's per-job start-up would otherwise dominate a cold build.


def _mirror_inputs(paths):
    # Declaring the mirror copies makes a changed mirror file visible to Snakemake, which then
    # re-retrieves it and so verifies its checksum again.
    if CFG["download"] == "always":
        return []
    return [str(Path(MIRROR) / p) for p in paths if (Path(MIRROR) / p).is_file()]


for _dataset in sorted({row["dataset"] for row in REGISTRY.values()}):
    _rows = {col: [REGISTRY[i][col] for i in ids_of(_dataset)] for col in ("path", "sha256", "upstream_url")}

    rule:
        name:
            f"retrieve_{_dataset}"
        input:
            _mirror_inputs(list(_rows["path"])),
        output:
            [keep(f"{RAW}/{p}") for p in _rows["path"]],
        log:
            f"logs/retrieve/{_dataset}.log",
        benchmark:
            f"benchmarks/retrieve/{_dataset}.tsv"
        params:
            # Part of the job's identity: a new checksum or URL in the registry re-retrieves.
            checksums=[f"{p}={s}" for p, s in zip(_rows["path"], _rows["sha256"])],
            urls=[u or "" for u in _rows["upstream_url"]],
            dataset=_dataset,
            mirror=MIRROR,
            mode=CFG["download"],
            timeout=CFG["download_timeout"],
            retries=CFG["download_retries"],
            max_bytes=CFG["max_archive_bytes"],
        localrule: True
        shell:
            "{PYTHON} -m insiena.retrieve --registry config/sources.csv --dataset {params.dataset:q}"
            " --raw-dir {RAW} --mirror-dir {params.mirror:q} --mode {params.mode} --timeout {params.timeout}"
            " --retries {params.retries} --max-bytes {params.max_bytes} --log {log:q}"
