"""The layers run one way (docs/development.md); these check what import-linter cannot.

`lint-imports` (in scripts/test) checks which package imports which. Here: that no
module below the command line and the CI job reads the process environment, and that
checking an experiment or a result loads none of the heavy libraries a run needs.
"""

from __future__ import annotations

import re
import subprocess
import sys

from iter8_action.tasks import known_names, registry
from tests.support.paths import DOCS, ROOT

PACKAGE = ROOT / "iter8_action"
COMMAND_LAYER = {"cli/main.py", "cli/job.py", "__main__.py"}
"""The modules that may read `os.environ`: they hand the environment down."""
ENVIRON = re.compile(r"\bos\.(environ|getenv|putenv|unsetenv)\b|\bfrom os import\b.*\benviron\b")
HEAVY = ("scipy", "numpy", "plotly", "grpc", "google.protobuf", "uvloop", "jinja2", "requests")


def test_no_module_below_the_command_line_reads_the_environment() -> None:
    readers = sorted(
        relative
        for path in PACKAGE.rglob("*.py")
        if (relative := path.relative_to(PACKAGE).as_posix()) not in COMMAND_LAYER
        if ENVIRON.search(path.read_text(encoding="utf-8"))
    )
    assert readers == []


def test_task_names_come_without_importing_a_task_module() -> None:
    assert known_names() == sorted(registry())


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_checking_an_experiment_loads_no_heavy_library() -> None:
    # every task's module is imported, as when an experiment using them all is loaded
    code = (
        "from iter8_action.cli import main\n"
        "from iter8_action.engine import loader\n"
        "from iter8_action.tasks import known_names, task\n"
        "for name in known_names(): task(name)"
    )
    assert _loaded_after(code) == []


def test_reading_a_result_and_asserting_loads_no_heavy_library() -> None:
    code = (
        "from iter8_action.cli import main\n"
        "from iter8_action.experiment import conditions, file\n"
        "from iter8_action.results import assertions\n"
        "from iter8_action.report import FORMATS"
    )
    assert _loaded_after(code) == []


def test_every_folder_of_the_package_has_its_row_in_the_layers_table() -> None:
    doc = (DOCS / "development.md").read_text(encoding="utf-8")
    layers = doc.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_]+)/` \|", layers, re.MULTILINE))
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert rows == folders
