"""Any result file, however broken or hostile: `iter8 assert` and `iter8 report` exit 0, 1 or
2 (the CI job on it as `from-result` also 3 for a failed task), never 4, print no
traceback, and finish in bounded time and memory.

The files are the fixed results (iter8-py's and Iter8's own format) with one value
replaced, a key removed or added anywhere, written as YAML or JSON; they reach the
command line as `from-result` files from another workflow would.
"""

from __future__ import annotations

import copy
import json
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iter8_action.cli.job import main as ci
from iter8_action.cli.main import main
from tests.support.paths import ITER8_RESULTS, RESULTS

BASES = [
    yaml.safe_load(p.read_text(encoding="utf-8"))
    for p in sorted([*RESULTS.glob("*.yaml"), *ITER8_RESULTS.glob("*.yaml")])
]
EXAMPLE_DEADLINE_S = 10.0
MEMORY_GROWTH_KB = 400_000
FORMATS = ["text", "markdown", "html", "json", "junit"]
ASSERT = ["assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-c", "winner"]

_text = st.text(st.characters(codec=None, categories=["L", "N", "P", "S", "Zs", "Cs"]), max_size=12)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.integers(min_value=-1, max_value=12),
    st.sampled_from([1_000_000_000, 999, 1000, 1001]),
    st.floats(),
    _text,
    st.sampled_from(["x", "Counter", "counter", "histogram", "violated", "max", "v1", ""]),
)
_hostile = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(_text, st.sampled_from(["lower", "upper", "count"])), inner, max_size=4
        ),
    ),
    max_leaves=8,
)


def _like(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind: what passes the schema but may not fit the rest."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(min_value=-1, max_value=12), st.just(999), st.just(1000))
    if isinstance(value, float):
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(value, str):
        return st.one_of(_text, st.sampled_from(["", "v1", "v2", "upper", "max", "http/latency"]))
    if isinstance(value, list):
        return st.lists(st.sampled_from(value), max_size=len(value) + 2) if value else st.just([])
    if isinstance(value, dict):
        keys = sorted(value)
        return (
            st.lists(st.sampled_from(keys), unique=True).map(
                lambda kept: {k: value[k] for k in kept}
            )
            if keys
            else st.just({})
        )
    return _hostile


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


@st.composite
def result_documents(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        if not path:
            document = draw(_hostile)
            continue
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["perturb", "perturb", "replace", "delete", "add"]))
        if action == "perturb":
            parent[path[-1]] = draw(_like(parent[path[-1]]))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(_text)] = draw(_hostile)
        else:
            parent[path[-1]] = draw(_hostile)
    return document


def _write(document: Any, path: Path, fmt: str) -> None:
    if fmt == "json":
        path.write_text(json.dumps(document), encoding="utf-8", errors="surrogatepass")
    else:
        text = yaml.safe_dump(document, allow_unicode=False, sort_keys=False)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def memory_before() -> Iterator[int]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield before
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MEMORY_GROWTH_KB, f"the peak memory grew by {grown} KB"


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=result_documents(),
    fmt=st.sampled_from(["yaml", "json"]),
    report=st.sampled_from(FORMATS),
)
def test_any_result_file_is_an_answer_or_invalid_input(
    document: Any,
    fmt: str,
    report: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    memory_before: int,
) -> None:
    folder = tmp_path_factory.mktemp("result")
    path = folder / f"result.{fmt}"
    _write(document, path, fmt)
    for args in (ASSERT, ["report", "-o", report]):
        started = time.monotonic()
        code = main([*args, "-f", str(path)])
        took = time.monotonic() - started
        err = capsys.readouterr().err
        assert code in (0, 1, 2), err
        assert "Traceback" not in err and "internal error" not in err, err
        assert took < EXAMPLE_DEADLINE_S, f"{args[0]} took {took:.1f} s"
    # the CI job on it as a `from-result` file; its gate also exits 3 for a failed task
    env = {
        "INPUT_FROM-RESULT": str(path),
        "INPUT_REPORT-DIR": str(folder / "reports"),
        "INPUT_REPORT-FORMATS": f"{report},markdown",
        "INPUT_COMMENT": "never",
    }
    started = time.monotonic()
    code = ci(env)
    took = time.monotonic() - started
    captured = capsys.readouterr()
    assert code in (0, 1, 2, 3), captured.err
    assert "internal error" not in captured.out + captured.err, captured.err
    assert took < EXAMPLE_DEADLINE_S, f"the CI job took {took:.1f} s"
