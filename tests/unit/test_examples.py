"""Every example experiment: valid ones validate, invalid ones fail with exactly their message.

Each invalid example ends with its expectations as comments (trailing, so that
they shift no line): `# expect-exit: N` and one `# expect: ...` per error line,
with `{file}` standing for the file's path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iter8_action.cli.main import main
from tests.support.examples import error_lines, expectations
from tests.support.paths import EXAMPLES, ROOT

INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))
VALID = sorted((EXAMPLES / "valid").glob("*.yaml"))


def test_there_are_enough_invalid_examples() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_fails_with_its_message(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, expected = expectations(path)
    assert main(["validate", "-f", str(path)]) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert error_lines(captured.err) == expected


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: valid (")


def test_the_founding_example_validates_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    shared = ROOT.parent / "shared" / "examples" / "seed-load-test.yaml"
    path = shared if shared.exists() else EXAMPLES / "valid" / "seed-load-test.yaml"
    assert main(["validate", "-f", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid (older Iter8 form; 2 tasks: http, assess)\n"


# -- inputs that cannot be committed as example files ------------------------------------


def _validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", "-f", str(path)])
    return code, capsys.readouterr().err


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    assert _validate(path, capsys) == (
        2,
        f"error: {path}: the file is empty; an experiment is a map with 'spec:' (a list of "
        "tasks), or, in Iter8's older form, a list of tasks\n",
    )


def test_comments_only_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "comments.yaml"
    path.write_text("# nothing here yet\n\n")
    code, err = _validate(path, capsys)
    assert code == 2
    assert "the file is empty" in err


def test_non_utf8_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("spec:\n- run: echo café\n".encode("latin-1"))
    assert _validate(path, capsys) == (
        2,
        f"error: {path}:2: the file is not UTF-8 text: byte 0xe9 at line 2, column 16; "
        "save it as UTF-8\n",
    )


def test_fifty_megabyte_file_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    line = b"- run: echo " + b"x" * 1000 + b"\n"
    with path.open("wb") as f:
        for _ in range(50 * 1024):
            f.write(line)
    assert path.stat().st_size > 50_000_000
    assert _validate(path, capsys) == (
        2,
        f"error: {path}: the file is 51.9 MB, more than the 10 MiB an input file may have; "
        "is this the right file?\n",
    )


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    assert _validate(path, capsys) == (2, f"error: {path}: no such file\n")


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate(tmp_path, capsys)[0] == 2
