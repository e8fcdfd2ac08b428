"""Version ranges as Helm reads them (Masterminds/semver) and safe unpacking."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from iter8_action.charts.chart import ChartError
from iter8_action.charts.repo import Version, matches, unpack


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        (None, "3.0.0", True),
        ("*", "1.0.0-rc.1", False),  # prereleases only for a range that names one
        (">=1.0.0-0", "1.0.0-rc.1", True),
        ("1.2.3", "1.2.3", True),
        ("v1.2.3", "1.2.4", False),
        ("^1.2", "1.9.0", True),
        ("^1.2", "2.0.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        ("~1", "1.9.9", True),
        (">=1, <2", "1.5.0", True),
        (">=1 <2", "2.0.0", False),
        ("1.2.x", "1.2.7", True),
        ("1.2.x", "1.3.0", False),
        ("<1.2", "1.2.0", False),
        (">1.2", "1.2.5", False),
        (">1.2", "1.3.0", True),
        ("<=1.2", "1.2.9", True),
        ("!=1.2.3", "1.2.3", False),
        ("1.x || 3.x", "3.1.0", True),
        ("1.x || 3.x", "2.1.0", False),
    ],
)
def test_ranges(constraint: str | None, version: str, expected: bool) -> None:
    parsed = Version.parse(version)
    assert parsed is not None
    assert matches(constraint, parsed) is expected


def test_a_release_is_newer_than_its_prereleases() -> None:
    versions = [Version.parse(v) for v in ("1.0.0", "1.0.0-rc.2", "1.0.0-rc.10", "0.9.0")]
    ordered = sorted((v for v in versions if v is not None), key=Version.key)
    assert [(v.major, v.minor, v.pre) for v in ordered] == [
        (0, 9, ()),
        (1, 0, ((1, "rc"), (0, 2))),
        (1, 0, ((1, "rc"), (0, 10))),
        (1, 0, ()),
    ]


def test_bad_ranges_are_errors() -> None:
    with pytest.raises(ValueError):
        matches(">=banana", Version(1, 0, 0, ()))


def test_unpack_keeps_files_inside(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("c/Chart.yaml", b"name: c\n"), ("c/templates/x.yaml", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    unpack(buffer.getvalue(), tmp_path, origin="c.tgz")
    assert (tmp_path / "c" / "templates" / "x.yaml").read_bytes() == b"x"
    with pytest.raises(ChartError, match="not a gzipped tar archive"):
        unpack(b"not an archive", tmp_path, origin="bad.tgz")
