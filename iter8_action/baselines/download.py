"""Bounded downloads: a time limit for the whole body, a size limit checked as bytes arrive.

`httpclient.request` reads a whole answer into memory before its caller can
look at it; an artifact or a result URL is streamed instead and abandoned at
`max_bytes`, so neither a slow server nor a huge answer can hold the run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import requests

from iter8_action.core.errors import ExchangeFailed
from iter8_action.core.secrets import SECRETS

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
TOTAL_TIMEOUT_S = 120.0
MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
_CHUNK = 64 * 1024


class DownloadFailed(ExchangeFailed):
    """No usable answer; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(SECRETS.redact(message))


def fetch(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    total_timeout_s: float = TOTAL_TIMEOUT_S,
    session: requests.Session | None = None,
) -> bytes:
    """GET `url` (redirects followed; requests drops Authorization on a change of host)."""
    sender = session or requests.Session()
    started = time.monotonic()
    try:
        with sender.get(
            url,
            headers=dict(headers or {}),
            stream=True,
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        ) as response:
            if response.status_code != 200:
                raise DownloadFailed(
                    f"{_shown(url)} answered {response.status_code} {response.reason}",
                    status=response.status_code,
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise DownloadFailed(f"{_shown(url)}: {declared} bytes, above {max_bytes}")
            body = bytearray()
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise DownloadFailed(f"{_shown(url)}: more than {max_bytes} bytes")
                if time.monotonic() - started > total_timeout_s:
                    raise DownloadFailed(
                        f"{_shown(url)}: not downloaded within {total_timeout_s:g}s"
                    )
            return bytes(body)
    except requests.RequestException as e:
        raise DownloadFailed(f"cannot download {_shown(url)}: {type(e).__name__}") from e


def _shown(url: str) -> str:
    """The URL without its query (a signed blob URL carries its credential there)."""
    return url.split("?", 1)[0]
