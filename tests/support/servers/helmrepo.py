"""A Helm chart repository on 127.0.0.1: `index.yaml` and `.tgz` archives made with tarfile.

    with HelmRepo() as repo:
        repo.add_chart("my-chart", "1.2.0", {"Chart.yaml": "...", "templates/x.yaml": "..."})
        ... repo.url ...

Archives are packaged as `helm package` does (one top directory named after the
chart); `add_archive` serves hand-made (hostile) archives, `tamper` changes a
served archive after the index recorded its digest.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Mapping
from typing import Any

import yaml

from tests.support.servers.base import RecordingServer, Reply, Request, ServedFake


def package(name: str, files: Mapping[str, str]) -> bytes:
    """A chart archive: `files` (path -> text) under the directory `name/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class HelmRepo(ServedFake):
    def __init__(self) -> None:
        self.server = RecordingServer()
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.archives: dict[str, bytes] = {}
        self.server.route("GET", "/index.yaml", self._index)
        self.server.route("GET", "/charts/(?P<file>[^/]+)", self._archive)

    def add_archive(
        self, name: str, version: str, archive: bytes, *, digest: str | None = None
    ) -> None:
        file = f"{name}-{version}.tgz"
        self.archives[file] = archive
        entry = {
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "urls": [f"charts/{file}"],
            "digest": hashlib.sha256(archive).hexdigest() if digest is None else digest,
        }
        self.entries.setdefault(name, []).append(entry)

    def add_chart(self, name: str, version: str, files: Mapping[str, str]) -> None:
        files = {"Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\n", **files}
        self.add_archive(name, version, package(name, files))

    def tamper(self, name: str, version: str) -> None:
        file = f"{name}-{version}.tgz"
        self.archives[file] = self.archives[file] + b"\0"

    def _index(self, _request: Request) -> Reply:
        body = yaml.safe_dump({"apiVersion": "v1", "entries": self.entries})
        return Reply(200, body, {"Content-Type": "application/x-yaml"})

    def _archive(self, request: Request) -> Reply:
        assert request.match is not None
        data = self.archives.get(request.match.group("file"))
        if data is None:
            return Reply(404, b"not found")
        return Reply(200, data, {"Content-Type": "application/gzip"})

    def downloads(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.endswith(".tgz")]
