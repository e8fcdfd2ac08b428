"""Charts from a Helm repository: `index.yaml`, the newest version in a range, the `.tgz`.

Follows Helm's chart repository guide (helm.sh/docs/topics/chart_repository): the
repository serves `index.yaml` with `entries.<name>[]` of `version`, `urls` (absolute
or relative to the repository) and `digest` (SHA-256 of the archive). The archive
is checked against that digest, then unpacked into a cache keyed by it. Downloads
are bounded in size and time, and unpacking takes only regular files and
directories below the chart's own directory (no absolute paths, `..`, or links).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin

import requests
import yaml

from iter8_action.charts.chart import ChartError

MAX_INDEX_BYTES = 16 * 2**20
MAX_ARCHIVE_BYTES = 16 * 2**20
MAX_UNPACKED_BYTES = 32 * 2**20
MAX_ARCHIVE_MEMBERS = 1000
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 64 * 1024


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "iter8-py" / "charts"


# ------------------------------------------------------------ semantic versions

_SEMVER = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[tuple[int, int | str], ...]
    """Empty for a release; SemVer 2.0 §11: a release is newer than its prereleases."""

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = _SEMVER.match(str(text).strip())
        if match is None:
            return None
        major, minor, patch, pre = match.groups()
        parts: tuple[tuple[int, int | str], ...] = ()
        if pre:
            parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
        return cls(int(major), int(minor or 0), int(patch or 0), parts)

    def key(self) -> tuple[Any, ...]:
        # a release sorts after every prerelease of the same version
        return (self.major, self.minor, self.patch, not self.pre, self.pre)


def _comparator(text: str) -> Any:
    """One comparator of a Masterminds/semver range (what Helm's --version takes)."""
    match = re.match(r"^(\^|~>|~|>=|<=|!=|>|<|=)?\s*(.+)$", text)
    if match is None:
        raise ValueError(text)
    op, body = match.group(1) or "=", match.group(2)
    parts = _PARTIAL.match(body)
    if parts is None:
        raise ValueError(text)
    raw = [parts.group(1), parts.group(2), parts.group(3)]
    wild = next((i for i, p in enumerate(raw) if p is None or p in "xX*"), 3)
    nums = [int(p) if i < wild else 0 for i, p in enumerate(raw)]
    pre_version = Version.parse(f"0.0.0-{parts.group(4)}") if parts.group(4) else None
    pre = pre_version.pre if pre_version is not None else ()
    low = Version(nums[0], nums[1], nums[2], pre).key()

    def upper(index: int) -> tuple[Any, ...]:
        if index == 0:
            return Version(nums[0] + 1, 0, 0, ()).key()
        if index == 1:
            return Version(nums[0], nums[1] + 1, 0, ()).key()
        return Version(nums[0], nums[1], nums[2] + 1, ()).key()

    if op == "=" and wild == 0:
        return lambda v: True
    if op == "=":
        if wild == 3:
            return lambda v: v.key() == low
        high = upper(wild - 1)
        return lambda v: low <= v.key() < high and not v.pre
    if op == "!=":
        return lambda v: v.key() != low
    if op in ("~", "~>"):
        high = upper(1 if wild >= 2 else 0)
        return lambda v: low <= v.key() < high
    if op == "^":
        first = next((i for i, n in enumerate(nums[:wild]) if n != 0), min(wild, 3) - 1)
        high = upper(max(first, 0)) if wild > 0 else upper(0)
        return lambda v: low <= v.key() < high
    bound = low if wild == 3 else (upper(wild - 1) if op in (">", "<=") else low)
    ops = {
        ">": lambda v: v.key() >= bound if wild < 3 else v.key() > bound,
        ">=": lambda v: v.key() >= bound,
        "<": lambda v: v.key() < bound,
        "<=": lambda v: v.key() < bound if wild < 3 else v.key() <= bound,
    }
    return ops[op]


def matches(range_text: str | None, version: Version) -> bool:
    """Whether `version` is in the range (`^1.2`, `~1.2.3`, `>=1, <2`, `1.2.x`, `a || b`).

    As in Masterminds/semver, prereleases match only a range that names a prerelease."""
    text = (range_text or "").strip() or "*"
    for alternative in text.split("||"):
        tokens = re.findall(r"(?:\^|~>|~|>=|<=|!=|>|<|=)?\s*[^\s,]+", alternative.replace(",", " "))
        if not tokens:
            continue
        if version.pre and "-" not in alternative:
            continue
        if all(_comparator(tok.strip())(version) for tok in tokens):
            return True
    return False


# ------------------------------------------------------------ downloads


def download(url: str, limit: int, what: str) -> bytes:
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    try:
        with requests.get(url, stream=True, timeout=30) as response:
            if response.status_code != 200:
                raise ChartError(
                    f"{url}: the {what} answered {response.status_code} {response.reason}"
                )
            body = bytearray()
            for chunk in response.iter_content(_CHUNK):
                body.extend(chunk)
                if len(body) > limit:
                    raise ChartError(f"{url}: the {what} is larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise ChartError(f"{url}: the {what} took longer than {DOWNLOAD_TIMEOUT_S:g}s")
            return bytes(body)
    except requests.RequestException as exc:
        raise ChartError(f"{url}: cannot download the {what}: {exc}") from None


def _pick(index: Any, name: str, version_range: str | None, index_url: str) -> dict[str, Any]:
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        raise ChartError(f"{index_url}: not a Helm repository index (no `entries:`)")
    candidates = entries.get(name)
    if not isinstance(candidates, list) or not candidates:
        known = ", ".join(sorted(map(str, entries))) or "none"
        raise ChartError(f"{index_url}: no chart named {name!r} (charts: {known})")
    try:
        found = [
            (v, e)
            for e in candidates
            if isinstance(e, dict)
            and (v := Version.parse(str(e.get("version", "")))) is not None
            and matches(version_range, v)
        ]
    except ValueError as exc:
        raise ChartError(
            f"--version {version_range!r}: not a semantic version range ({exc})"
        ) from None
    if not found:
        versions = ", ".join(str(e.get("version")) for e in candidates if isinstance(e, dict))
        raise ChartError(
            f"{index_url}: no version of chart {name!r} in range {version_range or '*'!r} "
            f"(versions: {versions})"
        )
    return max(found, key=lambda pair: pair[0].key())[1]


def fetch_chart(
    name: str,
    *,
    repo_url: str,
    version: str | None = None,
    cache_dir: Path | None = None,
    offline: bool = False,
) -> Path:
    """The directory of chart `name` from the repository, downloaded into the cache if needed."""
    cache = cache_dir or default_cache_dir()
    base = repo_url.rstrip("/") + "/"
    index_url = urljoin(base, "index.yaml")
    index_cache = cache / f"index-{hashlib.sha256(base.encode()).hexdigest()[:16]}.yaml"
    if offline:
        if not index_cache.is_file():
            raise ChartError(
                f"--noDownload: {index_url} is not in the cache ({cache}); run once without it"
            )
        raw = index_cache.read_bytes()
    else:
        raw = download(index_url, MAX_INDEX_BYTES, "repository index")
    try:
        index = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ChartError(f"{index_url}: the repository index is not YAML: {exc}") from None
    entry = _pick(index, name, version, index_url)
    digest = str(entry.get("digest") or "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ChartError(
            f"{index_url}: chart {name} {entry.get('version')} has no SHA-256 digest in the index, "
            "so its archive cannot be checked (helm repo index writes one)"
        )
    target = cache / digest
    if (target / "Chart.yaml").is_file() or _single_dir(target) is not None:
        return _single_dir(target) or target
    if offline:
        raise ChartError(
            f"--noDownload: chart {name} {entry.get('version')} is not in the cache ({cache})"
        )
    urls = entry.get("urls")
    if not isinstance(urls, list) or not urls:
        raise ChartError(f"{index_url}: chart {name} {entry.get('version')} has no `urls`")
    archive_url = urljoin(base, str(urls[0]))
    archive = download(archive_url, MAX_ARCHIVE_BYTES, "chart archive")
    actual = hashlib.sha256(archive).hexdigest()
    if actual != digest:
        raise ChartError(
            f"{archive_url}: the archive's SHA-256 is {actual}, the index says {digest}; "
            "not using it (the repository changed, or the download was altered)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    index_cache.write_bytes(raw)
    staging = Path(tempfile.mkdtemp(prefix="chart-", dir=cache))
    try:
        unpack(archive, staging, origin=archive_url)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    chart_dir = _single_dir(target)
    if chart_dir is None:
        raise ChartError(f"{archive_url}: the archive holds no chart directory with Chart.yaml")
    return chart_dir


def _single_dir(root: Path) -> Path | None:
    if not root.is_dir():
        return None
    dirs = [p for p in root.iterdir() if p.is_dir() and (p / "Chart.yaml").is_file()]
    return dirs[0] if len(dirs) == 1 else None


def unpack(archive: bytes, dest: Path, *, origin: str) -> None:
    """Extract a chart archive safely: regular files and directories only, each inside `dest`."""
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ChartError(f"{origin}: more than {MAX_ARCHIVE_MEMBERS} files in the archive")
            for member in members:
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts or member.name.startswith("\\"):
                    raise ChartError(f"{origin}: unsafe path {member.name!r} in the archive")
                if member.isdir():
                    (dest / path).mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise ChartError(
                        f"{origin}: {member.name!r} in the archive is a link or device; "
                        "a chart archive holds only files and directories"
                    )
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise ChartError(
                        f"{origin}: the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes"
                    )
                source = tar.extractfile(member)
                if source is None:
                    continue
                out = dest / path
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(source.read(member.size + 1)[: member.size])
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartError(f"{origin}: not a gzipped tar archive of a chart: {exc}") from None
