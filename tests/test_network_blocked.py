"""The suite runs with the network cut off, loopback excepted (tools/nonet, used by `make test`).

Run outside tools/nonet (a bare `pytest`), these tests are skipped with the reason: they check the
wrapper, not the machine.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODE = os.environ.get("INSIENA_NONET")
# Public addresses that answer on the open internet (Cloudflare and Google DNS, a TEST-NET host is
# not enough: it would fail even with the network up).
PUBLIC = [("1.1.1.1", 443), ("8.8.8.8", 53)]

needs_nonet = pytest.mark.skipif(not MODE, reason="not run through tools/nonet (use `make test`)")


@needs_nonet
@pytest.mark.parametrize("address", PUBLIC, ids=[a for a, _ in PUBLIC])
def test_public_address_is_unreachable_and_fails_fast(address):
    start = time.monotonic()
    with pytest.raises(OSError) as exc:
        socket.create_connection(address, timeout=10).close()
    elapsed = time.monotonic() - start
    # Refused on the spot (no route, or the guard), not after a timeout that would slow the suite.
    assert elapsed < 2, f"took {elapsed:.1f} s"
    assert exc.value.errno == 101 or "unreachable" in str(exc.value).lower(), exc.value


@needs_nonet
def test_child_processes_are_cut_off_too():
    # Snakemake jobs and retrieval run in child processes: they must inherit the block.
    code = ("import socket, sys\n"
            "try:\n    socket.create_connection(('1.1.1.1', 443), timeout=10)\n"
            "except OSError as exc:\n    print('refused', exc.errno)\n    sys.exit(0)\n"
            "sys.exit('connected')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("refused")


@needs_nonet
def test_download_of_a_public_url_fails_fast(tmp_path):
    from insiena.errors import RetrievalError
    from insiena.retrieve import download

    start = time.monotonic()
    with pytest.raises(RetrievalError, match="download failed"):
        download("http://1.1.1.1/", tmp_path / "x", timeout=10, retries=1, max_bytes=1000)
    assert time.monotonic() - start < 2


@needs_nonet
def test_a_loopback_server_answers():
    payload = b"served on loopback"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_address[1]}/", timeout=5) as resp:
            assert resp.read() == payload
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("mode", ["namespace", "guard"])
def test_the_wrapper_announces_its_mode_and_blocks(mode, tmp_path):
    # Both modes of tools/nonet, whatever mode this run uses: the fallback must work where unshare
    # does not, and each run must say which one is active.
    if mode == "namespace" and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n is not usable on this machine (the guard is what `make test` uses)")
    env = {k: v for k, v in os.environ.items() if k not in ("INSIENA_NONET", "INSIENA_NONET_MODE")}
    env["NONET_PYTHON"] = sys.executable
    if mode == "guard":
        env["INSIENA_NONET_MODE"] = "guard"
    code = ("import os, socket\n"
            "try:\n    socket.create_connection(('1.1.1.1', 443), timeout=10); print('connected')\n"
            "except OSError as exc:\n    print('refused', os.environ['INSIENA_NONET'])\n")
    proc = subprocess.run([str(ROOT / "tools" / "nonet"), sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"refused {mode}"
    assert proc.stderr.startswith("nonet: "), proc.stderr
    assert ("network namespace" in proc.stderr) == (mode == "namespace")
