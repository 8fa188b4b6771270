"""The report: rendering a Quarto project to HTML and PDF (`render`), shortcodes and escaping of data
text for markdown (`shortcodes`), and a headless-browser check of the HTML (`browser`).

    from insiena.report import render_report, md_escape
"""

from insiena.report.render import Rendered, RenderError, choose_renderer, render_report
from insiena.report.shortcodes import ShortcodeError, md_escape

__all__ = ["Rendered", "RenderError", "ShortcodeError", "choose_renderer", "md_escape", "render_report"]
