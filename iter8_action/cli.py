"""The `iter8` command line (click). Only this layer calls `sys.exit`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from iter8_action import __version__
from iter8_action.errors import InputError, Interrupted, Iter8Error
from iter8_action.exitcodes import ExitCode
from iter8_action.logs import LEVELS, get_logger, setup_logging
from iter8_action.report import FORMATS as REPORT_FORMATS

DEFAULT_RESULT = "result.yaml"
ASSERT_POLL_S = 1.0

_log_level = click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="How much to log (to stderr).",
)

_experiment_file = click.option(
    "-f",
    "--file",
    "experiment_file",
    default="experiment.yaml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The experiment file (Iter8's current or older form).",
)
_result_file = click.option(
    "-f",
    "--file",
    "result_file",
    default=DEFAULT_RESULT,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The result file written by iter8 run.",
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 success, 1 a condition or SLO failed, 2 invalid input, "
    "3 a task failed, 4 internal error, 130 interrupted.",
)
@click.version_option(__version__, "--version", prog_name="iter8-py")
def cli() -> None:
    """Run Iter8 experiments: load tests, SLOs and A/B/n assessment for CI/CD pipelines."""


@cli.command()
@_experiment_file
@click.option(
    "-o",
    "--output",
    default=DEFAULT_RESULT,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the result (.json for JSON); rewritten after every task.",
)
@click.option(
    "--baseline",
    "baselines",
    multiple=True,
    metavar="PATH_OR_URL",
    help="A result of the base branch to compare with (repeatable, newest first); its "
    "versions join the run as baseline@<hash> (see docs/baselines.md).",
)
@_log_level
def run(experiment_file: Path, output: Path, baselines: tuple[str, ...], log_level: str) -> int:
    """Validate and run an experiment, writing its result.

    \b
    Examples:
      iter8 run -f experiment.yaml
      iter8 run -f experiment.yaml -o results/result.json --log-level debug
      iter8 run -f experiment.yaml --baseline main-result.yaml
    """
    from iter8_action.engine import exit_code_for, run_experiment
    from iter8_action.loader import load_experiment

    log = setup_logging(log_level)
    experiment = load_experiment(experiment_file)
    for warning in experiment.warnings:
        log.warning("%s", warning)
    extras = {}
    if baselines:
        from iter8_action.baselines.sources import from_locations

        extras["baselines"] = from_locations(baselines, base_dir=Path.cwd())
    result = run_experiment(experiment, result_path=output, log=log, extras=extras)
    code = exit_code_for(result)
    outcome = "completed" if code is ExitCode.OK else "failed"
    log.info("experiment %s; result in %s", outcome, output)
    return int(code)


@cli.command()
@_experiment_file
@click.option(
    "--print-canonical",
    is_flag=True,
    help="Print the experiment in Iter8's current form (old names translated), to migrate a file.",
)
@_log_level
def validate(experiment_file: Path, print_canonical: bool, log_level: str) -> int:
    """Check an experiment against the schema, reporting every problem with its line.

    \b
    Examples:
      iter8 validate -f experiment.yaml
      iter8 validate -f old-experiment.yaml --print-canonical > experiment.yaml
    """
    from iter8_action.loader import load_experiment

    log = setup_logging(log_level)
    experiment = load_experiment(experiment_file)
    for warning in experiment.warnings:
        log.warning("%s", warning)
    if print_canonical:
        click.echo(yaml.safe_dump(experiment.to_document(), sort_keys=False), nl=False)
    else:
        form = "older Iter8 form" if experiment.legacy_form else "current form"
        tasks = ", ".join(t.name for t in experiment.tasks)
        click.echo(f"{experiment_file}: valid ({form}; {len(experiment.tasks)} tasks: {tasks})")
    return int(ExitCode.OK)


@cli.command(name="assert")
@click.option(
    "-c",
    "--condition",
    "conditions",
    multiple=True,
    required=True,
    metavar="NAME[=ARG]",
    help="A condition that must hold (repeatable): completed, nofailure, slos, slos=VERSION, "
    "winner, winner=VERSION.",
)
@_result_file
@click.option(
    "--timeout",
    default="0s",
    show_default=True,
    help="Keep checking until the conditions hold or this time passes (e.g. 60s).",
)
@_log_level
def assert_(conditions: tuple[str, ...], result_file: Path, timeout: str, log_level: str) -> int:
    """Check conditions on a result; exit 1 when one does not hold.

    \b
    Examples:
      iter8 assert -c completed -c nofailure -c slos
      iter8 assert -c slos=v2 -f result.yaml --timeout 60s
    """
    from iter8_action.assertions import CONDITIONS, Check
    from iter8_action.conditions import ConditionError
    from iter8_action.durations import DurationError, parse_duration
    from iter8_action.resultfile import read_result

    setup_logging(log_level)
    try:
        timeout_s = parse_duration(timeout)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    checks: list[tuple[str, Check, str | None]] = []
    for text in conditions:
        name, _, argument = text.partition("=")
        check = CONDITIONS.get(name.strip().lower())
        if check is None:
            known = ", ".join(sorted(CONDITIONS))
            raise click.BadParameter(f"unknown condition {name!r}; known: {known}", param_hint="-c")
        checks.append((text, check, argument or None))
    deadline = time.monotonic() + timeout_s
    while True:
        outcomes = []
        try:
            result = read_result(result_file)
            for text, check, arg in checks:
                outcomes.append((text, *check(result, arg)))
        except (InputError, ConditionError) as exc:
            if time.monotonic() >= deadline:
                raise InputError(str(exc)) from None
            outcomes = [("result", False, str(exc))]
        if all(holds for _, holds, _ in outcomes) or time.monotonic() >= deadline:
            break
        time.sleep(ASSERT_POLL_S)
    for text, holds, why in outcomes:
        click.echo(f"{'✓' if holds else '✗'} {text}: {why}")
    ok = all(holds for _, holds, _ in outcomes)
    return int(ExitCode.OK if ok else ExitCode.CONDITION_FAILED)


@cli.command()
@click.option(
    "-o",
    "--output-format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="The report format.",
)
@_result_file
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text report (default: only on a terminal, and never with NO_COLOR set).",
)
def report(fmt: str, result_file: Path, output: Path | None, color: bool | None) -> int:
    """Report on a result: text, markdown, html, json or junit.

    \b
    Examples:
      iter8 report
      iter8 report -o html -f result.yaml --output report.html
      iter8 report -o junit --output iter8-junit.xml
    """
    from iter8_action.report import render
    from iter8_action.resultfile import read_result_document

    document = read_result_document(result_file)
    if color is None:
        color = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    text = render(document, fmt, color=color)
    if output is None:
        # click strips ANSI codes when stdout is not a terminal, unless told otherwise.
        click.echo(text, nl=False, color=color)
        return int(ExitCode.OK)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write the report: {exc.strerror or exc}") from None
    click.echo(f"{fmt} report written to {output}", err=True)
    return int(ExitCode.OK)


@cli.command()
@_log_level
@click.option(
    "--output-dir",
    default="iter8-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the demo's experiment, result and reports.",
)
def demo(log_level: str, output_dir: Path) -> int:
    """Start a sample app with two versions on 127.0.0.1 and run an experiment against it.

    \b
    Example:
      iter8 demo
    """
    from iter8_action.demo.runner import run_demo

    setup_logging(log_level)
    outcome = run_demo(output_dir, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    click.echo(outcome.text_report, nl=False, color=sys.stdout.isatty())
    return int(outcome.code)


@cli.group()
def traffic() -> None:
    """Traffic engineering: the next step of a release, as manifests."""


@traffic.command(name="render")
@_result_file
@click.option(
    "--manifests",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the current manifests are (the traffic tasks' `file` paths are relative to it).",
)
@click.option(
    "--out",
    default="traffic-next",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the next manifests, under the same relative paths.",
)
@_log_level
def traffic_render(result_file: Path, manifests: Path, out: Path, log_level: str) -> int:
    """Write the next manifests of a result's traffic tasks, without any API call.

    \b
    Examples:
      iter8 traffic render -f result.yaml --manifests . --out traffic-next
    """
    from iter8_action.resultfile import read_result_document
    from iter8_action.traffic.offline import render_next

    setup_logging(log_level)
    document = read_result_document(result_file)
    for line in render_next(document, manifests=manifests, out=out):
        click.echo(line)
    return int(ExitCode.OK)


@cli.command(name="ci")
def ci() -> int:
    """Run the CI job of the GitHub Action or GitLab component.

    Inputs come from the environment as the runners set them (INPUT_EXPERIMENT,
    INPUT_FAIL-ON, ...); see the README's input table.

    \b
    Example:
      INPUT_EXPERIMENT=experiment.yaml INPUT_COMMENT=never iter8 ci
    """
    from iter8_action.pipeline import main as run_pipeline

    return run_pipeline()


@cli.command()
def version() -> int:
    """Print the version of iter8-py."""
    click.echo(f"iter8-py {__version__} (Python {sys.version.split()[0]})")
    return int(ExitCode.OK)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    try:
        code: Any = cli.main(args=argv, prog_name="iter8", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.INVALID_INPUT)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except Interrupted as exc:
        click.echo(f"error: {exc}", err=True)
        return int(ExitCode.INTERRUPTED)
    except Iter8Error as exc:
        click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
        return int(exc.exit_code)
    except Exception as exc:
        get_logger().debug("internal error", exc_info=True)
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in iter8-py; run again with --log-level debug and report it.",
            err=True,
        )
        return int(ExitCode.INTERNAL_ERROR)
    return int(code) if isinstance(code, int) else int(ExitCode.OK)
