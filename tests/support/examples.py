"""The example files' expectations: `# expect-exit: N` and `# expect: {file}:LINE: ...`
comments (tests/examples/invalid/, their results/), and the error lines to compare."""

from __future__ import annotations

from pathlib import Path


def expectations(path: Path) -> tuple[int, list[str]]:
    """The exit code and the error lines an example file expects, `{file}` filled in."""
    code = None
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect-exit: "):
            code = int(line.removeprefix("# expect-exit: "))
        elif line.startswith("# expect: "):
            lines.append(line.removeprefix("# expect: ").replace("{file}", str(path)))
    assert code is not None, f"{path.name} has no '# expect-exit:' line"
    return code, lines


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of an `error:` message on stderr."""
    text = stderr.removeprefix("error:\n").removeprefix("error: ")
    return [line for line in text.splitlines() if line]
