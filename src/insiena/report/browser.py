"""Open a rendered HTML report in headless Debian Chromium and report what a reader would hit.

    from insiena.report.browser import check_page
    result = check_page("results/052/report.html", tmp_path / "report.png")
    assert not result["console_errors"] and not result["broken_images"] and not result["alerts"]

Uses the system browser and driver (`chromium`, `chromium-driver`) through selenium; nothing is
downloaded (Selenium Manager is bypassed by giving both paths). Requires the `dev` extra.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--allow-file-access-from-files")

# Runs before any script of the page: records alert()/confirm()/prompt() instead of blocking, so an
# injected `<script>alert(1)</script>` that executed shows up in the result.
RECORD_DIALOGS = """
window.__insiena_alerts = [];
for (const name of ['alert', 'confirm', 'prompt']) {
  window[name] = (msg) => { window.__insiena_alerts.push(name + ':' + String(msg)); };
}
"""

INSPECT = """
const images = Array.from(document.images).map(img => ({
  src: (img.getAttribute('src') || '').slice(0, 80),
  alt: img.getAttribute('alt'),
  loaded: img.complete && img.naturalWidth > 0,
}));
const links = Array.from(document.querySelectorAll('a[href^="#"]')).map(a => a.getAttribute('href'));
const brokenLinks = links.filter(h => h.length > 1 && !document.getElementById(decodeURIComponent(h.slice(1))));
return {
  title: document.title,
  lang: document.documentElement.lang,
  images: images,
  internal_links: links.length,
  broken_links: brokenLinks,
  alerts: window.__insiena_alerts || [],
  scripts: document.scripts.length,
  text: document.body.innerText,
  height: Math.ceil(document.documentElement.scrollHeight),
};
"""


def browser_paths() -> tuple[str, str]:
    """The Chromium and chromedriver executables, or an error saying how to install them."""
    chromium = os.environ.get("INSIENA_CHROMIUM") or shutil.which("chromium") or CHROMIUM
    driver = os.environ.get("INSIENA_CHROMEDRIVER") or shutil.which("chromedriver") or CHROMEDRIVER
    missing = [p for p in (chromium, driver) if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found: apt-get install chromium chromium-driver")
    return chromium, driver


def check_page(html_path: str | os.PathLike, screenshot_path: str | os.PathLike | None = None,
               width: int = 1280, max_height: int = 12000, timeout: float = 60) -> dict:
    """Load `html_path` (file) and return what a reader's browser saw.

    Keys: `console_errors` (SEVERE console messages), `images` (src, alt, loaded),
    `broken_images`, `images_without_alt`, `broken_links` (in-page `#id` links with no target),
    `alerts` (dialogs opened by scripts), `scripts` (number of <script> elements), `title`, `lang`,
    `text` (the visible text), `screenshot` (path, the whole page up to `max_height` pixels).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = browser_paths()
    html = Path(html_path).resolve()
    profile = tempfile.mkdtemp(prefix="insiena-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(timeout)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_DIALOGS})
        driver.get(html.as_uri())
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))"
            ".then(() => done(true));")
        result = driver.execute_script(INSPECT)
        logs = driver.get_log("browser")
        result["console_errors"] = [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]
        result["console"] = [f"{entry.get('level')}: {entry.get('message')}" for entry in logs]
        result["broken_images"] = [img["src"] for img in result["images"] if not img["loaded"]]
        result["images_without_alt"] = [img["src"] for img in result["images"] if not (img["alt"] or "").strip()]
        if screenshot_path is not None:
            shot = Path(screenshot_path)
            shot.parent.mkdir(parents=True, exist_ok=True)
            driver.set_window_size(width, min(max(result["height"], 900), max_height))
            driver.save_screenshot(str(shot))
            result["screenshot"] = shot
        return result
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
