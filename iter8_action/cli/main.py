"""The `iter8` command line (click). Only this layer calls `sys.exit`."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from iter8_action import __version__
from iter8_action.core.errors import (
    ExchangeFailed,
    InputError,
    Interrupted,
    InvalidValue,
    Iter8Error,
)
from iter8_action.core.exitcodes import ExitCode
from iter8_action.core.logs import LEVELS, get_logger, setup_logging
from iter8_action.core.logtext import log_text
from iter8_action.report import FORMATS as REPORT_FORMATS

DEFAULT_RESULT = "result.yaml"
ASSERT_POLL_S = 1.0
_F = TypeVar("_F", bound=Callable[..., Any])

_log_level = click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="How much to log (to stderr).",
)


def _path_option(
    *decls: str, help: str, default: str | None = None, directory: bool = False
) -> Callable[[_F], _F]:
    """An option naming a file (a folder with `directory`), given as a `Path`."""
    return click.option(
        *decls,
        default=default,
        show_default=default is not None,
        type=click.Path(file_okay=not directory, dir_okay=directory, path_type=Path),
        help=help,
    )


def _experiment_file(
    help: str = "The experiment file (Iter8's current or older form).",
) -> Callable[[_F], _F]:
    return _path_option("-f", "--file", "experiment_file", default="experiment.yaml", help=help)


def _result_output(help: str) -> Callable[[_F], _F]:
    """`-o/--output`: where a command writes the result."""
    return _path_option("-o", "--output", default=DEFAULT_RESULT, help=help)


_result_file = _path_option(
    "-f",
    "--file",
    "result_file",
    default=DEFAULT_RESULT,
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
@_experiment_file()
@_result_output("Where to write the result (.json for JSON); rewritten after every task.")
@click.option(
    "--shard",
    metavar="I/N|auto",
    help="Run shard I of N (1-based) of the load, leaving the deciding tasks to iter8 merge; "
    "auto: from GitLab parallel: or a Kubernetes Indexed Job.",
)
@click.option(
    "--start-at",
    metavar="RFC3339",
    help="With --shard: start the load at this instant (every shard the same); "
    "default: GitLab's pipeline creation + 30s, rounded up to 10s; elsewhere at once.",
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
def run(
    experiment_file: Path,
    output: Path,
    shard: str | None,
    start_at: str | None,
    baselines: tuple[str, ...],
    log_level: str,
) -> int:
    """Validate and run an experiment, writing its result.

    \b
    Examples:
      iter8 run -f experiment.yaml
      iter8 run -f experiment.yaml -o results/result.json --log-level debug
      iter8 run -f experiment.yaml --shard 2/3 --start-at 2026-11-30T12:00:00Z -o shard-2.yaml
      iter8 run -f experiment.yaml --baseline main-result.yaml
    """
    log = setup_logging(log_level)
    return _run(experiment_file, output, log, shard=shard, start_at=start_at, baselines=baselines)


def _run(
    experiment_file: Path,
    output: Path,
    log: logging.Logger,
    *,
    shard: str | None = None,
    start_at: str | None = None,
    baselines: tuple[str, ...] = (),
) -> int:
    from iter8_action.engine.loader import load_experiment
    from iter8_action.engine.runner import exit_code_for, run_experiment
    from iter8_action.experiment.file import check_output_path

    experiment = load_experiment(experiment_file, env=os.environ)
    check_output_path(output, "the result", fix="name another file with -o")
    for warning in experiment.warnings:
        log.warning("%s", warning)
    if baselines and shard:
        raise InputError("--baseline: not with --shard (iter8 merge assesses the shards)")
    if start_at and not shard:
        raise InputError("--start-at: only with --shard (it lines the shards' loads up)")
    if shard:
        from iter8_action.shards import run as shard_run

        plan = shard_run.plan(experiment, shard=shard, start_at=start_at, env=os.environ)
        when = (
            f"starting at {start_at or plan.start_at}" if plan.start_at else "starting when ready"
        )
        log.info("shard %s of the load, %s", plan.spec, when)
        result = run_experiment(
            experiment,
            result_path=output,
            env=os.environ,
            log=log,
            shard=plan,
            stand_ins=shard_run.stand_ins(experiment),
        )
    else:
        extras = {}
        if baselines:
            from iter8_action.baselines.sources import from_locations

            extras["baselines"] = from_locations(baselines, base_dir=Path.cwd())
        result = run_experiment(
            experiment, result_path=output, env=os.environ, log=log, extras=extras
        )
    code = exit_code_for(result)
    outcome = "completed" if code is ExitCode.OK else "failed"
    log.info("experiment %s; result in %s", outcome, output)
    return int(code)


@cli.command()
@click.option(
    "-c",
    "--chart",
    default="iter8",
    show_default=True,
    help="The chart: a built-in chart's name, a chart directory, or a chart's name in --repoURL.",
)
@click.option(
    "--set", "sets", multiple=True, metavar="K=V", help="A value (Helm's rules; repeatable)."
)
@click.option(
    "--set-string", "set_strings", multiple=True, metavar="K=V", help="A value kept a string."
)
@click.option(
    "--set-file", "set_files", multiple=True, metavar="K=PATH", help="A value read from a file."
)
@click.option(
    "-f",
    "--values",
    "values_files",
    multiple=True,
    metavar="FILE|URL",
    help="A values file (YAML, a path or an http(s) URL; repeatable, later files win).",
)
@click.option("--repoURL", "repo_url", help="A Helm repository to take the chart from.")
@click.option(
    "--version",
    "--chartVersion",
    "version",
    help="The chart's version or semver range in --repoURL (e.g. ^1.2; default: the newest).",
)
@click.option("--localChart", "local", is_flag=True, help="-c is a local directory (Iter8).")
@click.option("--noDownload", "no_download", is_flag=True, help="Use the cached chart (Iter8).")
@click.option("--dry", is_flag=True, help="Only write experiment.yaml; do not run it.")
@_result_output("Where to write the result.")
@_log_level
def launch(dry: bool, output: Path, log_level: str, **chart: Any) -> int:
    """Render an experiment chart with values into experiment.yaml, and run it.

    \b
    Examples:
      iter8 launch --set "tasks={http,assess}" --set http.url=http://127.0.0.1:8080/get \\
        --set assess.SLOs.upper.http/latency-mean=50
      iter8 launch -c ./my-chart -f values.yaml --dry
      iter8 launch -c my-chart --repoURL https://charts.example/ --version "^1.0"
    """
    from iter8_action.charts.launch import ChartRequest, write_experiment

    log = setup_logging(log_level)
    # the chart options are named after the fields of ChartRequest (-c is `chart`, ...)
    request = ChartRequest(**chart, cache_dir=_chart_cache())
    experiment_file = write_experiment(request, Path("experiment.yaml"), log=log)
    if dry:
        click.echo(f"experiment written to {experiment_file}", err=True)
        return int(ExitCode.OK)
    return _run(experiment_file, output, log)


def _chart_cache() -> Path:
    """Where charts from repositories are kept: $XDG_CACHE_HOME/iter8-py/charts."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "iter8-py" / "charts"


@cli.command()
@_experiment_file()
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
    from iter8_action.engine.loader import load_experiment

    log = setup_logging(log_level)
    experiment = load_experiment(experiment_file, env=os.environ)
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
    from iter8_action.core.durations import DurationError, parse_duration
    from iter8_action.experiment.conditions import ConditionError
    from iter8_action.experiment.file import read_result
    from iter8_action.results.assertions import CONDITIONS, Check

    setup_logging(log_level)
    try:
        timeout_s = parse_duration(timeout)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from exc
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
                raise InputError(str(exc)) from exc
            outcomes = [("result", False, str(exc))]
        if all(holds for _, holds, _ in outcomes) or time.monotonic() >= deadline:
            break
        time.sleep(ASSERT_POLL_S)
    for text, holds, why in outcomes:
        click.echo(log_text(f"{'✓' if holds else '✗'} {text}: {why}"))
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
@_path_option("--output", help="Write the report to this file instead of standard output.")
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
    from iter8_action.experiment.file import check_output_path, read_result_document
    from iter8_action.report import render

    if output is not None:
        check_output_path(output, "the report", fix="name another file with --output")
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
        raise InputError(f"{output}: cannot write the report: {exc.strerror or exc}") from exc
    click.echo(f"{fmt} report written to {output}", err=True)
    return int(ExitCode.OK)


@cli.command()
@_log_level
@_path_option(
    "--output-dir",
    default="iter8-demo",
    directory=True,
    help="Where to write the demo's experiment, result and reports.",
)
def demo(log_level: str, output_dir: Path) -> int:
    """Start a sample app with two versions on 127.0.0.1 and run an experiment against it.

    \b
    Example:
      iter8 demo
    """
    from iter8_action.cli.demo.runner import run_demo

    setup_logging(log_level)
    outcome = run_demo(
        output_dir, env=os.environ, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    click.echo(outcome.text_report, nl=False, color=sys.stdout.isatty())
    return int(outcome.code)


@cli.group()
def traffic() -> None:
    """Traffic engineering: the next step of a release, as manifests."""


@traffic.command(name="render")
@_result_file
@_path_option(
    "--manifests",
    default=".",
    directory=True,
    help="Where the current manifests are (the traffic tasks' `file` paths are relative to it).",
)
@_path_option(
    "--out",
    default="traffic-next",
    directory=True,
    help="Where to write the next manifests, under the same relative paths.",
)
@_log_level
def traffic_render(result_file: Path, manifests: Path, out: Path, log_level: str) -> int:
    """Write the next manifests of a result's traffic tasks, without any API call.

    \b
    Examples:
      iter8 traffic render -f result.yaml --manifests . --out traffic-next
    """
    from iter8_action.experiment.file import read_result_document
    from iter8_action.traffic.offline import render_next

    setup_logging(log_level)
    document = read_result_document(result_file)
    for line in render_next(document, manifests=manifests, out=out, env=os.environ):
        click.echo(line)
    return int(ExitCode.OK)


@cli.command()
@click.argument("results", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@_path_option(
    "--from",
    "from_dir",
    directory=True,
    help="Merge every shard result found under this directory (downloaded artifacts).",
)
@_experiment_file("The experiment the shards ran (checked by its hash); its other tasks run here.")
@_result_output("Where to write the merged result.")
@click.option("--allow-missing", is_flag=True, help="Merge even when some shards are missing.")
@click.option("--shards", "total", type=click.IntRange(min=1), help="With --wait: how many.")
@click.option(
    "--wait",
    default="0s",
    show_default=True,
    help="With --from: wait up to this long for every shard's run to end (e.g. 30m).",
)
@_log_level
def merge(
    results: tuple[Path, ...],
    from_dir: Path | None,
    experiment_file: Path,
    output: Path,
    allow_missing: bool,
    total: int | None,
    wait: str,
    log_level: str,
) -> int:
    """Merge the results of iter8 run --shard into one, then run the remaining tasks once.

    \b
    Examples:
      iter8 merge shard-1.yaml shard-2.yaml shard-3.yaml -o result.yaml
      iter8 merge --from artifacts/ -f experiment.yaml
    """
    from iter8_action.core.durations import DurationError, parse_duration
    from iter8_action.engine.loader import load_experiment
    from iter8_action.engine.runner import exit_code_for
    from iter8_action.shards import artifacts
    from iter8_action.shards import merge as merging

    log = setup_logging(log_level)
    try:
        wait_s = parse_duration(wait)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--wait") from exc
    paths = list(results)
    if from_dir is not None:
        paths += artifacts.wait_for(from_dir, total=total, timeout_s=wait_s, log=log)
    if not paths:
        raise InputError(
            "no shard results to merge: name them (iter8 merge shard-*.yaml) or a directory "
            "(--from DIR)"
        )
    experiment = load_experiment(experiment_file, env=os.environ)
    result = merging.merge(
        paths,
        output=output,
        experiment=experiment,
        env=os.environ,
        allow_missing=allow_missing,
        log=log,
    )
    code = exit_code_for(result)
    log.info("merged %d shard result(s) into %s", len(paths), output)
    return int(code)


@cli.group()
def k8s() -> None:
    """Generate Kubernetes objects that run experiments."""


@k8s.command(name="job")
@_experiment_file()
@click.option("--shards", type=click.IntRange(min=1), required=True, help="How many pods.")
@click.option("--name", default="iter8", show_default=True, help="Prefix of the objects' names.")
@click.option("--image", default=None, help="The image with iter8-py (default: the action's).")
@click.option("--namespace", default=None, help="The namespace of the objects.")
@click.option("--start-at", metavar="RFC3339", help="A common start instant for the shards.")
@click.option("--storage-class", default=None, help="The results volume's storage class.")
def k8s_job(
    experiment_file: Path,
    shards: int,
    name: str,
    image: str | None,
    namespace: str | None,
    start_at: str | None,
    storage_class: str | None,
) -> int:
    """Print an Indexed Job running N shards and a merge Job, sharing a volume (YAML).

    \b
    Example:
      iter8 k8s job --shards 4 -f experiment.yaml | kubectl apply -f -
    """
    from iter8_action.engine.loader import load_experiment
    from iter8_action.shards import k8s as k8s_objects
    from iter8_action.shards.spec import parse_instant

    # refuse an invalid experiment before it reaches a cluster
    load_experiment(experiment_file, env=os.environ)
    if start_at:
        parse_instant(start_at)
    try:
        objects = k8s_objects.manifests(
            experiment_file.read_text(encoding="utf-8"),
            name=name,
            shards=shards,
            image=image or k8s_objects.DEFAULT_IMAGE,
            namespace=namespace,
            start_at=start_at,
            storage_class=storage_class,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    click.echo(k8s_objects.dump(objects), nl=False)
    return int(ExitCode.OK)


@cli.command(name="ci")
def ci() -> int:
    """Run the CI job of the GitHub Action or GitLab component.

    Inputs come from the environment as the runners set them (INPUT_EXPERIMENT,
    INPUT_FAIL-ON, ...); see the docs' CI inputs page (docs/ci/inputs-outputs.md).

    \b
    Example:
      INPUT_EXPERIMENT=experiment.yaml INPUT_COMMENT=never iter8 ci
    """
    from iter8_action.cli.job import main as run_pipeline

    return run_pipeline()


@cli.command()
def version() -> int:
    """Print the version of iter8-py."""
    click.echo(f"iter8-py {__version__} (Python {sys.version.split()[0]})")
    return int(ExitCode.OK)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it).

    SIGINT and SIGTERM are handled one way for the whole command (`core.signals`):
    both exit 130, naming the signal.
    """
    from iter8_action.core import signals

    try:
        with signals.handling():
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
        click.echo(log_text(f"error: {exc}"), err=True)
        return int(ExitCode.INTERRUPTED)
    except (InvalidValue, ExchangeFailed) as exc:
        return _internal_error(exc)  # its caller should have said where: a bug (errors.py)
    except Iter8Error as exc:
        text = f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}"
        click.echo(log_text(text), err=True)
        return int(exc.exit_code)
    except Exception as exc:
        return _internal_error(exc)
    return int(code) if isinstance(code, int) else int(ExitCode.OK)


def _internal_error(exc: Exception) -> int:
    get_logger().debug("internal error", exc_info=True)
    click.echo(
        log_text(f"internal error: {type(exc).__name__}: {exc}") + "\n"
        "This is a bug in iter8-py; run again with --log-level debug and report it.",
        err=True,
    )
    return int(ExitCode.INTERNAL_ERROR)
