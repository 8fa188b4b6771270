"""Quarto shortcodes for the pandoc fallback renderer, and escaping of data text for markdown.

Supported: `{{< var a.b >}}` (nested keys of `_variables.yml`), `{{< include path >}}` (relative to
the including file, or to the project root when it starts with `/`; recursive; never outside the
project) and `{{< pagebreak >}}`. Anything else between `{{<` and `>}}` is an error, so that no
shortcode can reach a reader unexpanded.

Variable values are inserted as they are, as Quarto does (it parses them as markdown). Text that
comes from data (names of comuni, projects, organisations) must go through `md_escape` where it is
written: into table partials and into `_variables.yml`.
"""

from __future__ import annotations

import re
from pathlib import Path

from insiena.errors import InsienaError


class ShortcodeError(InsienaError):
    pass


SHORTCODE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)(?P<args>[^\n]*?)>\}\}")
MAX_DEPTH = 20

# Every ASCII punctuation mark that starts markdown syntax somewhere (emphasis, links, raw HTML,
# entities, shortcodes, citations/cross-references, lists, tables, headings, sub/superscripts,
# math, definition lists). Quotes, commas, semicolons, slashes, question marks and percent signs
# stay as they are: they are safe and keep smart typography.
_SPECIAL = set("\\`*_{}[]<>()#+-.!|~^$@&=:")

PAGEBREAK = (
    "\n\n```{=html}\n<div class=\"pagebreak\" style=\"page-break-after: always;\"></div>\n```\n\n"
    "```{=typst}\n#pagebreak(weak: true)\n```\n\n"
)


def md_escape(text) -> str:
    """Make a data value safe to place in markdown prose or a pipe-table cell: shown as typed.

    `<script>` stays text (no raw HTML), `|` does not split a cell, `@x` is no cross-reference,
    `{{< ... >}}` is no shortcode, line breaks become spaces. Missing values (None, NaN, pd.NA) give "".
    """
    try:
        missing = text is None or bool(text != text)
    except TypeError:  # pd.NA refuses to be a bool
        missing = True
    if missing:
        return ""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in flat)


def load_variables(path: str | Path) -> dict:
    import yaml

    path = Path(path)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ShortcodeError(f"{path}: expected a mapping of names to values")
    return data


def lookup(variables: dict, key: str):
    """The value at a dotted key; the error names the key and the first missing part."""
    value = variables
    for depth, part in enumerate(key.split(".")):
        if not isinstance(value, dict) or part not in value:
            known = ", ".join(sorted(map(str, value))) if isinstance(value, dict) else "none"
            where = ".".join(key.split(".")[:depth]) or "the top level"
            raise ShortcodeError(f"variable '{key}' is not in _variables.yml "
                                 f"('{part}' missing under {where}; there: {known})")
        value = value[part]
    if isinstance(value, (dict, list)):
        raise ShortcodeError(f"variable '{key}' is a {type(value).__name__}, not a single value")
    if value is None:
        raise ShortcodeError(f"variable '{key}' is empty in _variables.yml")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _arguments(args: str) -> list[str]:
    import shlex

    try:
        return shlex.split(args)
    except ValueError as exc:
        raise ShortcodeError(f"malformed shortcode arguments {args!r}: {exc}") from None


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def resolve_include(target: str, including: Path, root: Path) -> Path:
    root = root.resolve()
    base = root if target.startswith("/") else including.parent
    path = (base / target.lstrip("/")).resolve()
    if not path.is_relative_to(root):
        raise ShortcodeError(f"include '{target}' in {including} points outside the project "
                             f"folder {root}: refused")
    if not path.is_file():
        raise ShortcodeError(f"include '{target}' in {including}: no such file ({path})")
    return path


def expand(text: str, source: str | Path, root: str | Path, variables: dict,
           _stack: tuple[Path, ...] = ()) -> str:
    """Expand the shortcodes of `text` (the content of file `source`, inside project `root`).

    Expanded text is never scanned again: a variable value or an included file cannot inject a
    shortcode into its includer (included files are expanded on their own first).
    """
    source, root = Path(source).resolve(), Path(root)
    if len(_stack) > MAX_DEPTH:
        raise ShortcodeError(f"includes nested deeper than {MAX_DEPTH}: {' -> '.join(map(str, _stack))}")

    def replace(match: re.Match) -> str:
        name, where = match["name"], f"{source}:{_line(text, match.start())}"
        try:
            args = _arguments(match["args"])
            if name == "var":
                if len(args) != 1:
                    raise ShortcodeError("var takes exactly one name")
                return lookup(variables, args[0])
            if name == "pagebreak":
                return PAGEBREAK
            if name != "include":
                raise ShortcodeError(f"unsupported shortcode '{name}' (the fallback renderer "
                                     "knows var, include and pagebreak)")
            if len(args) != 1:
                raise ShortcodeError("include takes exactly one path")
            path = resolve_include(args[0], source, root)
            if path in _stack or path == source:
                raise ShortcodeError(f"include cycle through {path}")
        except ShortcodeError as exc:
            raise ShortcodeError(f"{where}: {match.group(0).strip()}: {exc}") from None
        # Errors inside the included file carry their own file and line.
        return expand(path.read_text(encoding="utf-8"), path, root, variables,
                      (*_stack, source)).rstrip("\n")

    stray = SHORTCODE.sub("", text).find("{{<")
    if stray >= 0:
        raise ShortcodeError(f"{source}: unterminated shortcode "
                             f"{SHORTCODE.sub('', text)[stray:stray + 40]!r}")
    return SHORTCODE.sub(replace, text)
