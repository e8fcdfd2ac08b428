"""A baseline's bytes, read as a result file and validated before anything uses them.

A result file from another workflow run, an artifact or a URL is untrusted
data: it is bounded in size, parsed with the safe loaders, walked within a node
budget (YAML aliases can make a small file a huge tree), and checked field by
field before it becomes a `MetricStore`. Anything wrong is `BaselineInvalid`
(exit 2) naming the file and what to fix.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from iter8_action.baselines.model import BaselineInvalid
from iter8_action.metrics.store import MetricStore

MAX_RESULT_BYTES = 32 * 1024 * 1024
MAX_NODES = 2_000_000
"""Values walked in one result (a long run's per-request samples stay well below)."""
MAX_VERSIONS = 50

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PER_VERSION = (
    "nonHistMetricValues",
    "histMetricValues",
    "sampleMetricValues",
    "summaryMetricValues",
)
FIX = "Fix: point baseline-from at a result file written by iter8 (result.yaml or result.json)."


def read_store(data: bytes, origin: str) -> tuple[MetricStore, int]:
    """The metric store of a result file's bytes and that run's baseline version index."""
    if len(data) > MAX_RESULT_BYTES:
        raise BaselineInvalid(
            f"{origin}: the baseline result is {len(data)} bytes, above the "
            f"{MAX_RESULT_BYTES // (1024 * 1024)} MiB limit"
        )
    document = _parse(data, origin)
    _within_budget(document, origin)
    result = document.get("result") if isinstance(document, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("insights"), dict):
        raise BaselineInvalid(f"{origin}: not a result file (no result.insights section). {FIX}")
    insights: dict[str, Any] = result["insights"]
    names = _check_insights(insights, origin)
    _check_schema(data, origin, json_text=isinstance(document, dict) and _is_json(data))
    try:
        store = MetricStore.from_insights(insights)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise BaselineInvalid(
            f"{origin}: result.insights has malformed metrics ({e}). {FIX}"
        ) from e
    return store, _own_baseline(insights, names)


def _check_schema(data: bytes, origin: str, *, json_text: bool) -> None:
    """The result file reader's own checks (schemas/result.schema.json and the values no
    schema rules out), through its one public door: a file."""
    from iter8_action.core.errors import InputError
    from iter8_action.experiment.file import read_result_document

    with tempfile.TemporaryDirectory(prefix="iter8-baseline-") as tmp:
        path = Path(tmp) / ("result.json" if json_text else "result.yaml")
        path.write_bytes(data)
        try:
            read_result_document(path)
        except InputError as e:
            text = str(e).replace(str(path), origin)
            raise BaselineInvalid(f"{origin}: not a valid result file:\n{text}") from e


def _is_json(data: bytes) -> bool:
    return data.lstrip()[:1] == b"{"


def _parse(data: bytes, origin: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BaselineInvalid(f"{origin}: the baseline is not UTF-8 text ({e}). {FIX}") from e
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return yaml.load(text, _Loader)
    except (ValueError, yaml.YAMLError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise BaselineInvalid(f"{origin}: the baseline does not parse ({first}). {FIX}") from e


def _within_budget(document: Any, origin: str) -> None:
    seen = 0
    stack = [document]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise BaselineInvalid(
                f"{origin}: the baseline has more than {MAX_NODES} values (YAML aliases?); "
                "it is not read"
            )
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_insights(insights: Mapping[str, Any], origin: str) -> list[str]:
    where = f"{origin}: result.insights"
    names = insights.get("versionNames")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BaselineInvalid(f"{where}.versionNames: missing or not a list of names. {FIX}")
    if len(names) > MAX_VERSIONS:
        raise BaselineInvalid(f"{where}.versionNames: {len(names)} versions, above {MAX_VERSIONS}")
    count = insights.get("numVersions", len(names))
    if count != len(names):
        raise BaselineInvalid(f"{where}.numVersions: {count!r} but {len(names)} version names")
    for key in _PER_VERSION:
        per = insights.get(key)
        if per is None:
            continue
        if not isinstance(per, list) or len(per) > len(names):
            raise BaselineInvalid(f"{where}.{key}: not a list with one entry per version")
        for v, metrics in enumerate(per):
            if metrics is not None and not isinstance(metrics, dict):
                raise BaselineInvalid(f"{where}.{key}[{v}]: not a map of metrics")
            for name, value in (metrics or {}).items():
                _check_value(key, value, f"{where}.{key}[{v}].{name}")
    if not isinstance(insights.get("metricsInfo", {}), dict):
        raise BaselineInvalid(f"{where}.metricsInfo: not a map")
    return names


def _check_value(key: str, value: Any, where: str) -> None:
    if key in ("nonHistMetricValues", "sampleMetricValues"):
        if not isinstance(value, list) or not all(_finite(x) for x in value):
            raise BaselineInvalid(f"{where}: not a list of finite numbers")
    elif key == "histMetricValues":
        ok = isinstance(value, list) and all(
            isinstance(b, dict)
            and set(b) == {"lower", "upper", "count"}
            and _finite(b["lower"])
            and _finite(b["upper"])
            and isinstance(b["count"], int)
            and b["count"] >= 0
            for b in value
        )
        if not ok:
            raise BaselineInvalid(f"{where}: not a list of buckets {{lower, upper, count}}")
    elif not isinstance(value, dict):
        raise BaselineInvalid(f"{where}: not a summary map")
    elif "counts" not in value:
        if "values" in value and not (
            isinstance(value["values"], list) and all(_finite(x) for x in value["values"])
        ):
            raise BaselineInvalid(f"{where}.values: not a list of finite numbers")
    else:
        values, counts = value.get("values"), value.get("counts")
        ok = (
            isinstance(values, list)
            and isinstance(counts, list)
            and len(values) == len(counts)
            and all(_finite(x) for x in values)
            and all(isinstance(c, int) and c >= 0 for c in counts)
        )
        if not ok:
            raise BaselineInvalid(f"{where}: values and counts must be equal-length number lists")


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _own_baseline(insights: Mapping[str, Any], names: list[str]) -> int:
    assessment = insights.get("assessment")
    index = assessment.get("baseline") if isinstance(assessment, dict) else None
    return index if isinstance(index, int) and 0 <= index < len(names) else 0
