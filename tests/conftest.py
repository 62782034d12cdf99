"""Shared fixtures: every test runs offline, with its own data cache, and never sees the user's mirror.

Tests marked ``mirror`` need the real files of ``$ZOO_DATA_MIRROR`` (CI sets it) and skip otherwise, saying why.
Operating-system copies of datasets (`datamodules.fashion_mnist.SYSTEM_FOLDERS`) are hidden from every test but those
marked ``system_copy``, which skip where the package is not installed.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REAL_MIRROR = os.environ.get("ZOO_DATA_MIRROR")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _offline_and_isolated(request, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # public URLs are never tried; download tests use a local server
    monkeypatch.delenv("ZOO_DATA_MIRROR", raising=False)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    if not request.node.get_closest_marker("system_copy"):  # the machine's dataset packages are not seen by default
        import datamodules.fashion_mnist

        monkeypatch.setattr(datamodules.fashion_mnist, "SYSTEM_FOLDERS", ())
    if request.node.get_closest_marker("mirror"):
        if not REAL_MIRROR or not Path(REAL_MIRROR).is_dir():
            pytest.skip("needs the real data files: set ZOO_DATA_MIRROR to a folder that holds them (CI does)")
        monkeypatch.setenv("ZOO_DATA_MIRROR", REAL_MIRROR)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a fresh folder; yields (base URL, folder)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
