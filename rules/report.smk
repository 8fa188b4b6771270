# report stage (issue 6): figures, table partials and key numbers per province, then the render.
#   report_shared   once per run: the validated catalogue, benchmarks, initiatives, registry, checks and
#                   age pyramids, pre-digested so that province jobs never import pandera/jsonschema
#   report_data     per province: data/processed/<p>/indicators.*, results/<p>/{tables,figures}/ and the
#                   Quarto project results/<p>/report_src/ (report/ + _variables.yml + partials)
#   render_report   per province: report_src -> results/<p>/report.{html,pdf} (Quarto or pandoc + Typst)
# See report/README.md for the layout of the project and docs/report-rendering.md for the renderer.

from insiena.report.shared import SHARED_FILES

REPORT_SHARED_DIR = f"{PROCESSED}/report"
REPORT_CHECKS = [f"{PROCESSED}/checks/consistency.csv", f"{PROCESSED}/checks/foreign_balance_vs_fjan.csv"]
REPORT_SOURCE_FILES = sorted(str(p) for p in Path("report").rglob("*")
                             if p.is_file() and p.suffix in (".qmd", ".yml", ".md") and p.name != "README.md")


wildcard_constraints:
    province=r"\d{3}",


def _boundaries_id(province):
    return f"limits_p_{int(province)}_municipalities"


def _boundaries(wc):
    sid = _boundaries_id(wc.province)
    return [raw(sid)] if sid in REGISTRY else []


rule report_shared:
    """The report's inputs common to every province, validated once."""
    input:
        catalogue="config/indicators.yaml",
        initiatives="config/initiatives.csv",
        siena2030="config/benchmarks/siena2030.csv",
        samedi="config/benchmarks/samedi.yaml",
        registry="config/sources.csv",
        config="config/config.yaml",
        checks=REPORT_CHECKS,
        population=f"{PROCESSED}/population.parquet",
    output:
        **{key: keep(f"{REPORT_SHARED_DIR}/{name}") for key, name in SHARED_FILES.items()},
    log:
        log_of("report_shared", "national"),
    benchmark:
        bench_of("report_shared", "national")
    script:
        "../scripts/report_shared.py"


rule report_data:
    """One province: its indicators, the report's figures, tables (MD + CSV + XLSX) and key numbers."""
    input:
        indicators=f"{PROCESSED}/indicators.parquet",
        coverage=f"{PROCESSED}/indicators_coverage.csv",
        territories=f"{PROCESSED}/territories.parquet",
        contracts=f"{PROCESSED}/reception_contracts.parquet",
        published=f"{PROCESSED}/reception_published.parquet",
        centres=f"{PROCESSED}/reception_centres.parquet",
        centres_comuni=f"{PROCESSED}/reception_centres_comuni.parquet",
        centres_status=f"{PROCESSED}/reception_centres_status.json",
        shared=[f"{REPORT_SHARED_DIR}/{name}" for name in SHARED_FILES.values()],
        boundaries=_boundaries,
        source=REPORT_SOURCE_FILES,
    output:
        indicators_parquet=keep(f"{PROCESSED}/{{province}}/indicators.parquet"),
        indicators_csv=keep(f"{PROCESSED}/{{province}}/indicators.csv"),
        report_src=keep(directory(f"{RESULTS}/{{province}}/report_src")),
        tables=keep(directory(f"{RESULTS}/{{province}}/tables")),
        figures=keep(directory(f"{RESULTS}/{{province}}/figures")),
    params:
        # The configuration that shapes a province's report is part of the job's identity.
        cfg=lambda wc: {"comparators": CFG["comparators"], "areas": CFG["areas"],
                        "zone_distretto": CFG["zone_distretto"]},
        boundaries_source=lambda wc: _boundaries_id(wc.province),
    log:
        log_of("report_data"),
    benchmark:
        bench_of("report_data")
    script:
        "../scripts/report_data.py"


rule render_report:
    """One province: render its Quarto project to a self-contained HTML and a PDF."""
    input:
        report_src=f"{RESULTS}/{{province}}/report_src",
        # The HTML links to the downloads beside it: render only once they exist.
        tables=f"{RESULTS}/{{province}}/tables",
    output:
        html=keep(f"{RESULTS}/{{province}}/report.html"),
        pdf=keep(f"{RESULTS}/{{province}}/report.pdf"),
    params:
        renderer=CFG["renderer"],
    log:
        log_of("render_report"),
    benchmark:
        bench_of("render_report")
    script:
        "../scripts/report_render.py"


TARGETS.extend(expand([f"{PROCESSED}/{{province}}/indicators.parquet", f"{PROCESSED}/{{province}}/indicators.csv",
                       f"{RESULTS}/{{province}}/report.html", f"{RESULTS}/{{province}}/report.pdf",
                       f"{RESULTS}/{{province}}/tables", f"{RESULTS}/{{province}}/figures"],
                      province=PROVINCES))
