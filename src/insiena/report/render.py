"""Render a Quarto report project to a self-contained HTML and a PDF, with or without Quarto.

    from insiena.report.render import render_report
    result = render_report("results/052/report-src", "results/052", formats=("html", "pdf"))
    result.renderer   # "quarto" or "pandoc"
    result.outputs    # (Path("results/052/report.html"), Path("results/052/report.pdf"))

The project is a folder with `_quarto.yml`, one or more `.qmd` documents (those listed under
`project: render:`, else every top-level `*.qmd` not starting with `_`), `_variables.yml` (the key
numbers, precomputed by the pipeline), table partials (`{{< include tables/x.md >}}`) and figure
files. The documents hold prose, shortcodes and references only: nothing is executed.

Each document `name.qmd` gives `out_dir/name.html` and `out_dir/name.pdf` (or the stem of its
`output-file` option).

`renderer`:
- "auto": Quarto when `quarto --version` on PATH says >= 1.4, else the pandoc fallback;
- "quarto": `quarto render` of a per-call copy of the project (`--no-execute --no-cache`, no
  freeze), HTML with `embed-resources`, PDF through Quarto's `typst` format;
- "pandoc": shortcodes expanded here (`insiena.report.shortcodes`), then pandoc (`pypandoc-binary`)
  with `crossref.lua` -> self-contained HTML, and pandoc -> Typst source -> `typst.compile` -> PDF.
The renderer that ran is logged and returned.

Outputs are written only after every requested format of every document has rendered, each to a
temporary file in `out_dir` renamed into place: a failed render leaves the earlier report untouched.
Intermediate files live in a per-call temporary folder, so several provinces can render at once.

`timestamp` (default: `SOURCE_DATE_EPOCH`, else 0) is the only clock the PDF sees; with Typst's
embedded fonts only, two renders of the same source give byte-identical HTML and PDF.
Data text written into partials or `_variables.yml` must go through `insiena.report.md_escape`.
Command line: `python -m insiena.report PROJECT_DIR OUT_DIR`. See docs/report-rendering.md.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from insiena.errors import InsienaError
from insiena.io import write_bytes
from insiena.report import shortcodes

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FORMATS = {"html": ("html", ".html"), "pdf": ("typst", ".pdf")}  # ours -> (Quarto format, suffix)
MIN_QUARTO = (1, 4)
# Options that steer rendering and are not document metadata.
NOT_METADATA = {"project", "format", "filters", "execute", "freeze", "output-file", "engine",
                "jupyter", "knitr", "css", "embed-resources", "self-contained", "keep-typ"}
UNREPRODUCIBLE_DATES = {"today", "now", "last-modified"}
TOC_TITLES = {"it": "Indice", "en": "Contents"}


class RenderError(InsienaError):
    pass


@dataclass(frozen=True)
class Rendered:
    renderer: str
    outputs: tuple[Path, ...]
    seconds: float


def render_report(project_dir: str | os.PathLike, out_dir: str | os.PathLike,
                  formats: tuple[str, ...] | list[str] = ("html", "pdf"), renderer: str = "auto",
                  timestamp: int | None = None) -> Rendered:
    """Render every document of the Quarto project `project_dir` into `out_dir` (see module doc)."""
    start = time.perf_counter()
    project, out = Path(project_dir).resolve(), Path(out_dir)
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RenderError(f"unknown output format(s) {unknown}: choose among {sorted(FORMATS)}")
    if timestamp is None:
        timestamp = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    config = read_config(project)
    documents = project_documents(project, config)
    name, quarto = choose_renderer(renderer)
    log.info("rendering %s (%s) with %s", project, ", ".join(formats), name)

    with tempfile.TemporaryDirectory(prefix="insiena-render-") as tmp:
        if name == "quarto":
            rendered = render_with_quarto(quarto, project, config, documents, formats, Path(tmp),
                                          timestamp)
        else:
            rendered = render_with_pandoc(project, config, documents, formats, Path(tmp), timestamp)
    outputs = []
    for filename, data in rendered.items():
        write_bytes(out / filename, data)
        outputs.append(out / filename)
    seconds = time.perf_counter() - start
    log.info("report rendered by %s in %.1f s: %s", name, seconds, ", ".join(map(str, outputs)))
    return Rendered(name, tuple(outputs), seconds)


# --- project -------------------------------------------------------------------------------------

def read_config(project: Path) -> dict:
    import yaml

    path = project / "_quarto.yml"
    if not path.is_file():
        raise RenderError(f"{project} is not a Quarto project: no _quarto.yml")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(config, dict):
        raise RenderError(f"{path}: expected a mapping")
    return config


def project_documents(project: Path, config: dict) -> list[Path]:
    listed = (config.get("project") or {}).get("render")
    if listed:
        docs = []
        for pattern in listed:
            matches = sorted(project.glob(pattern))
            if not matches:
                raise RenderError(f"_quarto.yml project.render: '{pattern}' matches no file in {project}")
            docs.extend(m for m in matches if m.suffix in (".qmd", ".md"))
    else:
        docs = sorted(p for p in project.glob("*.qmd") if not p.name.startswith(("_", ".")))
    if not docs:
        raise RenderError(f"no .qmd document to render in {project}")
    return list(dict.fromkeys(docs))


def split_front_matter(text: str) -> tuple[dict, str]:
    import yaml

    match = re.match(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)", text, re.DOTALL)
    if not match:
        return {}, text
    front = yaml.safe_load(match.group(1) or "") or {}
    if not isinstance(front, dict):
        raise RenderError("the front matter of a document must be a mapping")
    # Keep the line count so that pandoc's and our messages point at the right lines.
    return front, "\n" * match.group(0).count("\n") + text[match.end():]


def format_options(options: dict, quarto_format: str) -> dict:
    """Top-level options overlaid with those under `format: <quarto_format>:`."""
    merged = {k: v for k, v in options.items() if k != "format"}
    fmt = options.get("format")
    if isinstance(fmt, dict) and isinstance(fmt.get(quarto_format), dict):
        merged.update(fmt[quarto_format])
    return merged


def output_stem(document: Path, config: dict, front: dict) -> str:
    options = {**format_options(config, "html"), **format_options(front, "html")}
    return Path(str(options["output-file"])).stem if options.get("output-file") else document.stem


# --- renderer choice -----------------------------------------------------------------------------

def quarto_version(executable: str | None = None) -> tuple[int, ...] | None:
    """Version of the Quarto on PATH (or at `executable`), None when absent or unusable."""
    executable = executable or shutil.which("quarto")
    if not executable:
        return None
    try:
        proc = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("quarto at %s does not run (%s): ignored", executable, exc)
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", proc.stdout)
    if proc.returncode != 0 or not match:
        log.warning("quarto at %s gave no version (%r): ignored", executable, proc.stdout[:80])
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def choose_renderer(renderer: str = "auto") -> tuple[str, str | None]:
    """("quarto", path) or ("pandoc", None), following the rule in the module docstring."""
    if renderer not in ("auto", "quarto", "pandoc"):
        raise RenderError(f"renderer must be auto, quarto or pandoc, not {renderer!r}")
    if renderer == "pandoc":
        return "pandoc", None
    path = shutil.which("quarto")
    version = quarto_version(path) if path else None
    if version and version >= MIN_QUARTO:
        return "quarto", path
    why = (f"Quarto {'.'.join(map(str, version))} is older than 1.4" if version
           else "no usable quarto on PATH")
    if renderer == "quarto":
        raise RenderError(f"renderer 'quarto' requested but {why}")
    log.info("%s: rendering with pandoc + Typst", why)
    return "pandoc", None


# --- Quarto --------------------------------------------------------------------------------------

QUARTO_OUTPUT_DIR = "_insiena_output"
QUARTO_SUPPORT_DIR = "_insiena"


def quarto_command(quarto: str, project_copy: Path, quarto_format: str) -> list[str]:
    # No execution and no cache: the pipeline computed everything and Snakemake tracks staleness.
    return [quarto, "render", str(project_copy), "--to", quarto_format, "--no-execute",
            "--no-cache", "--output-dir", QUARTO_OUTPUT_DIR]


def quarto_config(config: dict) -> dict:
    """The project's _quarto.yml plus INSIEna's styling, for the per-call copy."""
    formats = config.get("format")
    if isinstance(formats, str):
        formats = {formats: {}}
    formats = {k: (v if isinstance(v, dict) else {}) for k, v in (formats or {}).items()}
    support = QUARTO_SUPPORT_DIR
    html = dict(formats.get("html") or {})
    html["embed-resources"] = True
    # Only the rules for INSIEna's own classes: the full style.css would fight Quarto's theme.
    html["css"] = _as_list(html.get("css")) + [f"{support}/quarto.css"]
    typst = dict(formats.get("typst") or {})
    typst["include-in-header"] = _as_list(typst.get("include-in-header")) + [f"{support}/typst_header.typ"]
    formats.update(html=html, typst=typst)
    return {**config, "format": formats,
            "filters": [f"{support}/crossref.lua"] + _as_list(config.get("filters")),
            "execute": {**(config.get("execute") or {}), "enabled": False},
            "freeze": False}


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def render_with_quarto(quarto: str, project: Path, config: dict, documents: list[Path],
                       formats: tuple[str, ...], tmp: Path, timestamp: int) -> dict[str, bytes]:
    import yaml

    copy = tmp / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(
        ".quarto", "_freeze", QUARTO_OUTPUT_DIR, QUARTO_SUPPORT_DIR, "*_files"))
    (copy / QUARTO_SUPPORT_DIR).mkdir()
    for name in ("quarto.css", "typst_header.typ", "crossref.lua"):
        shutil.copyfile(HERE / name, copy / QUARTO_SUPPORT_DIR / name)
    (copy / "_quarto.yml").write_text(
        yaml.safe_dump(quarto_config(config), allow_unicode=True, sort_keys=False), encoding="utf-8")
    for doc in documents:  # the same refusal of `date: today` as the fallback
        for fmt in formats:
            document_metadata(config, split_front_matter(doc.read_text(encoding="utf-8"))[0],
                              FORMATS[fmt][0])
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(timestamp)}
    results = {}
    for fmt in formats:
        quarto_format, suffix = FORMATS[fmt]
        cmd = quarto_command(quarto, copy, quarto_format)
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RenderError(f"quarto render --to {quarto_format} failed ({proc.returncode}): "
                              f"{(proc.stderr or proc.stdout)[-3000:]}")
        for doc in documents:
            front, _ = split_front_matter(doc.read_text(encoding="utf-8"))
            stem = output_stem(doc, config, front)
            produced = copy / QUARTO_OUTPUT_DIR / doc.parent.relative_to(project) / f"{stem}{suffix}"
            if not produced.is_file():
                raise RenderError(f"quarto render --to {quarto_format} did not produce {produced.name}: "
                                  f"{proc.stderr[-2000:]}")
            results[f"{stem}{suffix}"] = produced.read_bytes()
    return results


# --- pandoc + Typst ------------------------------------------------------------------------------

def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def document_metadata(config: dict, front: dict, quarto_format: str) -> dict:
    """Quarto's precedence: project, project format, document, document format."""
    options = {**format_options(config, quarto_format), **format_options(front, quarto_format)}
    lang = str(options.get("lang") or "it")
    options.setdefault("lang", lang)
    options.setdefault("toc-title", TOC_TITLES.get(lang.split("-")[0], TOC_TITLES["it"]))
    if quarto_format == "typst" and "-" in lang:  # Typst wants `it` and `IT` apart
        options["lang"], options["region"] = lang.split("-", 1)
    date = options.get("date")
    if isinstance(date, str) and date.strip().lower() in UNREPRODUCIBLE_DATES:
        raise RenderError(f"date: {date} changes with the day of rendering; put the reference date "
                          "in _variables.yml and use {{< var ... >}}")
    return options


def pandoc_arguments(options: dict, quarto_format: str, project: Path, metadata_file: Path,
                     data_dir: Path, document: Path) -> list[str]:
    # The document arrives as pandoc's JSON AST (parse_markdown): read once, written twice.
    args = ["--from=json", "--standalone", f"--lua-filter={HERE / 'crossref.lua'}",
            f"--metadata-file={metadata_file}", f"--data-dir={data_dir}",
            f"--resource-path={document.parent}"]
    if options.get("toc"):
        args += ["--toc", f"--toc-depth={int(options.get('toc-depth', 3))}"]
    if quarto_format == "html":
        args += ["--to=html5", "--embed-resources", "--section-divs",
                 f"--template={HERE / 'template.html'}", f"--css={HERE / 'style.css'}"]
        for css in _as_list(options.get("css")):
            args.append(f"--css={shortcodes.resolve_include(str(css), document, project)}")
        if options.get("number-sections"):
            args.append("--number-sections")
    else:
        args += ["--to=typst", f"--template={HERE / 'template.typ'}",
                 f"--include-in-header={HERE / 'typst_header.typ'}"]
    return args


def parse_markdown(markdown: str, cwd: Path, what: str) -> bytes:
    """Pandoc's JSON AST of the document. Parsing the markdown is the costliest step of a render
    (0.7 s for a province's report): done once, the HTML and Typst writers both start from it, and
    write the same bytes as from the markdown (the crossref filter runs in each writer, per format)."""
    return run_pandoc(["--from=markdown", "--to=json"], markdown.encode("utf-8"), cwd, what)


def run_pandoc(args: list[str], source: bytes, cwd: Path, what: str) -> bytes:
    proc = subprocess.run([pandoc_path(), *args], input=source, cwd=cwd, capture_output=True)
    messages = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RenderError(f"pandoc ({what}) failed: {messages[-3000:]}")
    if "Could not fetch resource" in messages:
        raise RenderError(f"pandoc ({what}): a figure or resource is missing: {messages[-2000:]}")
    for line in messages.splitlines():
        log.warning("pandoc (%s): %s", what, line)
    return proc.stdout


def compile_typst(source: bytes, root: Path, timestamp: int, what: str) -> bytes:
    # One compiler thread: on a 2-core machine two render jobs already fill the cores, and for one
    # report Typst's thread pool costs more than it gains (0.74 s CPU instead of 0.98, 0.68 s wall
    # instead of 0.84, same PDF). Read when the pool starts, so before the first compile.
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    import typst

    # Typst's embedded fonts only: system fonts differ between machines and would change the PDF.
    compiler = typst.Compiler(root=str(root), ignore_system_fonts=True)
    try:
        pdf, warnings = compiler.compile_with_warnings(input=source, format="pdf", timestamp=timestamp)
    except typst.TypstError as exc:
        detail = getattr(exc, "diagnostic", "") or getattr(exc, "message", "") or str(exc)
        raise RenderError(f"typst ({what}) failed: {detail.strip()}") from None
    for warning in warnings:
        log.warning("typst (%s): %s", what, getattr(warning, "message", warning))
    return pdf


def render_with_pandoc(project: Path, config: dict, documents: list[Path], formats: tuple[str, ...],
                       tmp: Path, timestamp: int) -> dict[str, bytes]:
    import yaml

    variables = shortcodes.load_variables(project / "_variables.yml")
    data_dir = tmp / "pandoc-data"  # empty: no user templates or filters leak into the report
    data_dir.mkdir()
    results = {}
    for doc in documents:
        front, body = split_front_matter(doc.read_text(encoding="utf-8"))
        front = expand_strings(front, doc, project, variables)
        body = shortcodes.expand(body, doc, project, variables)
        stem = output_stem(doc, config, front)
        ast = parse_markdown(body, doc.parent, f"{doc.name} -> AST")
        done = {}
        # HTML (pandoc only) runs in a thread while this one does pandoc -> Typst -> PDF:
        # two cores, two jobs.
        with ThreadPoolExecutor(max_workers=1) as pool:
            for fmt in formats:
                quarto_format = FORMATS[fmt][0]
                options = document_metadata(config, front, quarto_format)
                metadata = {k: v for k, v in options.items() if k not in NOT_METADATA}
                if not metadata.get("title"):
                    metadata["pagetitle"] = stem
                metadata_file = tmp / f"{stem}.{quarto_format}.yml"
                metadata_file.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
                args = pandoc_arguments(options, quarto_format, project, metadata_file, data_dir, doc)
                what = f"{doc.name} -> {fmt}"
                if fmt == "html":
                    done[fmt] = pool.submit(run_pandoc, args, ast, doc.parent, what)
                else:
                    typst_source = run_pandoc(args, ast, doc.parent, what)
                    done[fmt] = compile_typst(typst_source, doc.parent, timestamp, what)
            for fmt in formats:
                data = done[fmt]
                results[f"{stem}{FORMATS[fmt][1]}"] = data if isinstance(data, bytes) else data.result()
    return results


def expand_strings(value, document: Path, project: Path, variables: dict):
    """Shortcodes in front matter (a title with `{{< var province.name >}}`), after YAML parsing."""
    if isinstance(value, str):
        return shortcodes.expand(value, document, project, variables)
    if isinstance(value, dict):
        return {k: expand_strings(v, document, project, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_strings(v, document, project, variables) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m insiena.report", description=__doc__.split("\n")[0])
    parser.add_argument("project_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--formats", default="html,pdf")
    parser.add_argument("--renderer", default="auto", choices=("auto", "quarto", "pandoc"))
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = render_report(ns.project_dir, ns.out_dir, ns.formats.split(","), ns.renderer)
    except InsienaError as exc:
        log.error("%s", exc)
        return 1
    for path in result.outputs:
        print(path)
    return 0
