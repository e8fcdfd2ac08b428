"""Artifact zips as the CI platforms serve them, built in memory for the fake APIs."""

from __future__ import annotations

import io
import zipfile


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive holding `files` (name -> bytes), deflated as upload-artifact does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(uncompressed_bytes: int, *, name: str = "result.yaml") -> bytes:
    """A small zip whose one entry inflates to `uncompressed_bytes` of spaces."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as entry,
    ):
        chunk = b" " * (1024 * 1024)
        for _ in range(uncompressed_bytes // len(chunk)):
            entry.write(chunk)
    return buffer.getvalue()
