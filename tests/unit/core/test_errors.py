"""One error tree (errors.py): every public exception of the package is an Iter8Error,
and a foreign exception converted into one is kept as its cause."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import iter8_action
from iter8_action.core.errors import ExchangeFailed, InputError, InvalidValue, Iter8Error
from iter8_action.core.exitcodes import ExitCode
from iter8_action.documents import finite


def _public_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(iter8_action.__path__, f"{iter8_action.__name__}."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(value)
    return found


def test_every_public_exception_is_in_the_tree() -> None:
    outside = [
        f"{c.__module__}.{c.__qualname__}"
        for c in _public_exceptions()
        if not issubclass(c, Iter8Error)
    ]
    assert outside == []


def test_the_tree_is_drawn_in_the_docstring_of_errors() -> None:
    doc = importlib.import_module("iter8_action.core.errors").__doc__ or ""
    for cls in _public_exceptions():
        assert cls.__name__ in doc, f"{cls.__name__} is not drawn in errors.py"


@pytest.mark.parametrize(
    ("branch", "code"),
    [
        (InputError, ExitCode.INVALID_INPUT),
        (InvalidValue, ExitCode.INTERNAL_ERROR),
        (ExchangeFailed, ExitCode.INTERNAL_ERROR),
    ],
)
def test_each_branch_has_its_exit_code(branch: type[Iter8Error], code: ExitCode) -> None:
    assert branch.exit_code is code


def test_a_converted_exception_keeps_its_cause() -> None:
    with pytest.raises(finite.NonFiniteOutput) as caught:
        finite.dumps({"p95": float("nan")}, what="the result")
    assert isinstance(caught.value.__cause__, ValueError)
    assert str(caught.value).startswith("the result: ")


def test_no_conversion_drops_its_cause() -> None:
    # `raise X(...) from None` hides the original from `--log-level debug`
    package = Path(iter8_action.__file__).parent
    dropped = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bfrom None\s*$", line)
    ]
    assert dropped == []
