"""The HTML report opened in headless Chromium: its charts render, with no console errors.

Chromium is driven over the DevTools protocol (a websocket, through aiohttp):
console errors, uncaught exceptions and log errors are collected as events, so
nothing depends on scraping Chromium's own stderr. A screenshot of the page is
saved under `artifacts/` for people to look at.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from iter8_action.report import render
from tests.support.paths import RESULTS, ROOT
from tests.support.requires import CHROMIUM

ARTIFACTS = ROOT / "artifacts"
START_TIMEOUT_S = 30.0
RENDER_TIMEOUT_S = 30.0  # generous: a loaded CI machine parses 5 MB of plotly.js slowly
VIEWPORT = {"width": 1200, "height": 900}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
# A chart is drawn when plotly made it a plot and drew at least one trace in its SVG.
_DRAWN_CHARTS = (
    "[...document.querySelectorAll('div.chart')].filter(d => "
    "d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg .trace')).length"
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def _chromium() -> str:
    """Chromium's executable; the tests that start it are marked `requires("chromium")`."""
    [path, *_] = [path for path in map(shutil.which, CHROMIUM) if path]
    return path


@contextlib.contextmanager
def _browser() -> Iterator[str]:
    """A headless Chromium with a fresh profile; yields its DevTools HTTP endpoint."""
    # Chromium's helper processes may still write to the profile after the browser
    # exits: they share its session and are ended with it, and what they leave behind
    # must not fail the test in clean-up.
    with tempfile.TemporaryDirectory(
        prefix="iter8-chromium-", ignore_cleanup_errors=True
    ) as profile:
        proc = subprocess.Popen(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            yield _wait_listening(proc)
        finally:
            _end_session(proc)


def _end_session(proc: subprocess.Popen[str]) -> None:
    """Terminate the browser and every process of its session, then reap the browser."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # blocks per line; Chromium prints the address within a second
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            ws = match.group(1)
            return "http://" + ws.removeprefix("ws://").split("/", 1)[0]
    pytest.fail("Chromium exited before DevTools listened:\n" + "".join(seen[-20:]))


@dataclass
class _Page:
    """One tab, driven over the DevTools protocol."""

    ws: aiohttp.ClientWebSocketResponse
    errors: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=RENDER_TIMEOUT_S)
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)

    async def wait_event(self, name: str) -> None:
        while name not in self.events:
            self._event(await self.ws.receive_json(timeout=RENDER_TIMEOUT_S))

    def _event(self, message: dict[str, Any]) -> None:
        method = message.get("method", "")
        params = message.get("params", {})
        self.events.append(method)
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']}")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextlib.asynccontextmanager
async def _open(endpoint: str, url: str) -> AsyncIterator[_Page]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{endpoint}/json/list") as response:
            targets = await response.json()
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with session.ws_connect(page_ws, max_msg_size=0) as ws:
            page = _Page(ws)
            for domain in ("Runtime", "Log", "Page"):
                await page.call(f"{domain}.enable")
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                deviceScaleFactor=1,
                mobile=False,
                **VIEWPORT,
            )
            await page.call("Page.navigate", url=url)
            await page.wait_event("Page.loadEventFired")
            yield page


async def _rendered_charts(page: _Page, expected: int) -> int:
    """How many chart divs hold a plot with its traces drawn (waits for all, or the timeout)."""
    count = 0
    deadline = asyncio.get_running_loop().time() + RENDER_TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        count = int(await page.evaluate(_DRAWN_CHARTS))
        if count >= expected:
            break
        await asyncio.sleep(0.1)
    return count


async def _screenshot(page: _Page, path: Path) -> None:
    metrics = await page.call("Page.getLayoutMetrics")
    height = int(metrics["cssContentSize"]["height"])
    shot = await page.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height, "scale": 1},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def _write_report(tmp_path: Path, fixture: str) -> tuple[Path, int]:
    document = yaml.safe_load((RESULTS / f"{fixture}.yaml").read_text(encoding="utf-8"))
    page = render(document, "html")
    path = tmp_path / f"{fixture}.html"
    path.write_text(page, encoding="utf-8")
    return path, page.count('<div class="chart" id=')


@pytest.mark.slow
@pytest.mark.requires("chromium")
def test_html_report_renders_its_charts_in_chromium_without_errors(tmp_path: Path) -> None:
    path, charts = _write_report(tmp_path, "three-versions")
    assert charts == 4  # latency histogram, percentiles, error rate, request rate over time

    async def check(endpoint: str) -> tuple[int, list[str], str]:
        async with _open(endpoint, path.as_uri()) as page:
            drawn = await _rendered_charts(page, charts)
            verdict = await page.evaluate("document.getElementById('verdict').dataset.verdict")
            await _screenshot(page, ARTIFACTS / "report-three-versions.png")
            return drawn, page.errors, str(verdict)

    with _browser() as endpoint:
        drawn, errors, verdict = asyncio.run(check(endpoint))
    assert errors == []
    assert drawn == charts
    assert verdict == "failed"
    assert (ARTIFACTS / "report-three-versions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.requires("chromium")
def test_the_harness_sees_console_errors_and_exceptions(tmp_path: Path) -> None:
    """Guards the test above: a page that logs an error and throws must not pass."""
    path = tmp_path / "broken.html"
    path.write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom');"
        "undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )

    async def check(endpoint: str) -> list[str]:
        async with _open(endpoint, path.as_uri()) as page:
            await page.evaluate("1")
            return page.errors

    with _browser() as endpoint:
        errors = asyncio.run(check(endpoint))
    assert errors[0] == "console.error: boom"
    assert errors[1].startswith("exception: ReferenceError: undefinedFunction is not defined")
    assert json.dumps(errors)
