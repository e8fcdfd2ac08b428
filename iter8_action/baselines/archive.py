"""The result file inside an artifact zip, read within bounds (zip bombs stop here).

Only the entry that is read is decompressed, in chunks, and reading stops past
`MAX_RESULT_BYTES` whatever the entry's header claims; the entry count and
the sizes the headers declare are capped before anything is decompressed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from iter8_action.baselines.model import BaselineInvalid
from iter8_action.baselines.reading import MAX_RESULT_BYTES, read_store
from iter8_action.metrics.store import MetricStore

MAX_ENTRIES = 1000
MAX_DECLARED_BYTES = 1024 * 1024 * 1024
"""The sum of the entries' declared sizes: an artifact of reports is far below 1 GiB."""
RESULT_NAMES = ("result.yaml", "result.yml", "result.json")
_CHUNK = 64 * 1024


def read_artifact(data: bytes, origin: str) -> tuple[MetricStore, int]:
    """The store (and own baseline index) of the result file in an artifact zip."""
    inside = result_from_zip(data, origin)
    if inside is None:
        raise BaselineInvalid(f"{origin}: the artifact holds no result.yaml or result.json")
    return read_store(inside[1], f"{origin}: {inside[0]}")


def result_from_zip(data: bytes, origin: str) -> tuple[str, bytes] | None:
    """(entry name, bytes) of the result file in a zip, or None when it holds none."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as e:
        raise BaselineInvalid(f"{origin}: the artifact is not a zip archive ({e})") from e
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise BaselineInvalid(
                f"{origin}: the artifact has {len(entries)} entries, above {MAX_ENTRIES}; "
                "upload the report directory only"
            )
        declared = sum(e.file_size for e in entries)
        if declared > MAX_DECLARED_BYTES:
            raise BaselineInvalid(
                f"{origin}: the artifact declares {declared} bytes uncompressed, above "
                f"{MAX_DECLARED_BYTES // (1024 * 1024)} MiB; it is not read"
            )
        found = sorted(
            (
                e
                for e in entries
                if not e.is_dir() and PurePosixPath(e.filename).name in RESULT_NAMES
            ),
            key=lambda e: (e.filename.count("/"), e.filename),
        )
        if not found:
            return None
        entry = found[0]
        return entry.filename, _read_bounded(archive, entry, origin)


def _read_bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, origin: str) -> bytes:
    out = bytearray()
    try:
        with archive.open(entry) as f:
            while chunk := f.read(_CHUNK):
                out += chunk
                if len(out) > MAX_RESULT_BYTES:
                    raise BaselineInvalid(
                        f"{origin}: {entry.filename} decompresses to more than "
                        f"{MAX_RESULT_BYTES // (1024 * 1024)} MiB; it is not read"
                    )
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
        raise BaselineInvalid(f"{origin}: cannot decompress {entry.filename} ({e})") from e
    return bytes(out)
