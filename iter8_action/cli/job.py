"""The CI job that the GitHub Action and the GitLab component both run.

Data flows one way::

    inputs -> load and validate -> run (result file after every task)
           -> reports on disk -> annotations -> summary -> outputs
           -> sticky comment (the only API call) -> exit code by the gate

Everything a user needs is on disk before the first API call, so a comment
that fails (a fork's read-only token, an API outage) costs nothing but the
comment: it is a warning, and the exit code follows the experiment's verdict.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from iter8_action.core import signals
from iter8_action.core.errors import ExperimentInvalid, InputError, Interrupted, Problem
from iter8_action.core.exitcodes import ExitCode
from iter8_action.core.logs import setup_logging
from iter8_action.core.secrets import REDACTED, SECRETS
from iter8_action.experiment.model import Experiment
from iter8_action.platforms import Annotation, AnnotationLevel, CommentFailed, Platform, detect
from iter8_action.platforms.inputs import ChartInputs, Inputs, raw_input, read_inputs
from iter8_action.report import markdown
from iter8_action.report.model import Report, ReportVerdict, SloStatus

RESULT_FILE = "result.yaml"
REPORT_FILES = {
    "text": "report.txt",
    "markdown": "report.md",
    "html": "report.html",
    "json": "report.json",
    "junit": "junit.xml",
}
_LOCATED = re.compile(r"^[^\n]*?:(?P<line>\d+): (?P<message>.*)$", re.DOTALL)
INVALID: Final = "invalid"
"""The job's verdict when the experiment (or the result file) was not valid: no report."""
FAILING_VERDICTS = frozenset(
    {ReportVerdict.FAILED, ReportVerdict.NO_DATA, ReportVerdict.ERROR, INVALID}
)
"""Verdicts that make a comment in `on-failure` mode (an existing one is always updated)."""


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the CI job described by the `INPUT_*` variables; return the exit code."""
    env = dict(os.environ if environ is None else environ)
    platform = detect(env)
    # Masks first: nothing may print a secret before the runner knows to hide it.
    SECRETS.on_new(platform.mask)
    SECRETS.add(raw_input(env, "token"))
    try:
        inputs = read_inputs(env)
    except InputError as e:
        platform.error(str(e), title="Invalid inputs")
        return int(ExitCode.INVALID_INPUT)
    platform.set_token(inputs.token)
    log = setup_logging(inputs.log_level, stream=platform.log_stream)
    try:
        # One signal handling for the whole job, reports and comment included:
        # SIGTERM while the comment is posted exits 130 too, not 143 (`core.signals`).
        with signals.handling():
            return int(_Job(platform, inputs, log, env=env).run())
    except Interrupted as e:
        # A signal after the run (the run's own is handled in _Job._run): the
        # reports and outputs written so far stay; nothing more is attempted.
        platform.error(f"{e}; the reports written so far are kept", title="Interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as e:
        log.debug("internal error", exc_info=True)
        platform.error(
            f"{type(e).__name__}: {e}. This is a bug in iter8-py; run again "
            "with `log-level: debug` and report it with the log.",
            title="iter8-py internal error",
        )
        return int(ExitCode.INTERNAL_ERROR)


@dataclass(frozen=True)
class Outcome:
    """What the run decided: the verdict, the SLO answer, and what the gate makes of them."""

    verdict: ReportVerdict | Literal["invalid"]
    slos_met: bool
    task_failed: bool
    interrupted: bool = False

    def exit_code(self, fail_on: frozenset[str]) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.verdict == INVALID:
            return ExitCode.INVALID_INPUT
        if self.task_failed and "task-failure" in fail_on:
            return ExitCode.TASK_FAILED
        if not self.slos_met and "slos" in fail_on:
            return ExitCode.CONDITION_FAILED
        return ExitCode.OK


class _Job:
    def __init__(
        self, platform: Platform, inputs: Inputs, log: logging.Logger, *, env: Mapping[str, str]
    ) -> None:
        self.env = env
        """The job's environment: the experiment's tasks see this one."""
        self.platform = platform
        self.inputs = inputs
        self.log = log
        self.result_path = inputs.report_path / RESULT_FILE

    def run(self) -> ExitCode:
        for notice in self.inputs.notices:
            self.platform.warning(notice, title="Deprecated input")
        experiment: Experiment | None = None
        interrupted = False
        if self.inputs.shard is not None:  # one shard of the load: the merge job reports
            return self._shard()
        if self.inputs.from_result is not None:
            # The fork pattern's second workflow: report on a result that an
            # unprivileged run wrote, without running anything here.
            self.result_path = self.inputs.working_directory / self.inputs.from_result
            if not self.result_path.is_file():
                self.platform.error(
                    f"from-result: {_shown(self.result_path)} does not exist. Fix: upload the "
                    "report directory as an artifact in the workflow that ran the experiment, "
                    "and download it here before this step.",
                    title="Invalid inputs",
                )
                return ExitCode.INVALID_INPUT
            if not self._report_dir_ready(result=False):
                return ExitCode.INVALID_INPUT
        else:
            if self.inputs.chart is not None and not self._render_chart(self.inputs.chart):
                return ExitCode.INVALID_INPUT
            experiment = self._load()
            if experiment is None or not self._report_dir_ready(result=True):
                return ExitCode.INVALID_INPUT
            if self.inputs.merge_from is None:
                try:
                    extras = self._baselines()
                except InputError as e:
                    self.platform.error(str(e), title="Invalid baseline")
                    return ExitCode.INVALID_INPUT
                interrupted = self._run(experiment, extras)
        try:
            if self.inputs.merge_from is not None and experiment is not None:
                interrupted = self._merge(experiment)
            report, document = self._read_result()
        except ExperimentInvalid as e:
            # a result file another workflow wrote (from-result): each problem at its line
            for problem in e.problems:
                self.platform.error(
                    f"{problem.path}: {problem.message}" if problem.path else problem.message,
                    title="Invalid result file",
                    file=_shown(Path(problem.file)),
                    line=problem.line,
                )
            return ExitCode.INVALID_INPUT
        except InputError as e:
            self.platform.error(str(e), title="Invalid inputs")
            return ExitCode.INVALID_INPUT
        try:
            paths = self._write_reports(document)
        except InputError as e:
            self.platform.error(str(e), title="Invalid inputs")
            return ExitCode.INVALID_INPUT
        outcome = Outcome(
            verdict=report.verdict.status,
            slos_met=all(slo.satisfied for slo in report.slos),
            task_failed=report.run.failure,
            interrupted=interrupted,
        )
        self._annotate(report, experiment)
        # The result is redacted when written; this catches a secret registered later.
        body = SECRETS.redact(markdown.render(report), REDACTED)
        if self.inputs.merge_from is not None:
            from iter8_action.shards.ci import merge_note

            body += SECRETS.redact(merge_note(document), REDACTED)
        if self.inputs.summary:
            self.platform.write_summary(body)
        self._set_outputs(outcome, report, paths)
        if not interrupted:  # the runner kills a stopped job soon: no API call then
            self._comment(outcome, body)
        code = outcome.exit_code(self.inputs.fail_on)
        self.log.info("verdict: %s (%s); exit code %d", outcome.verdict, report.verdict.title, code)
        return code

    def _shard(self) -> ExitCode:
        from iter8_action.shards import ci as shards

        experiment = self._load()
        if experiment is None or not self._report_dir_ready(result=True):
            return ExitCode.INVALID_INPUT
        try:
            return shards.run_shard(self.platform, self.inputs, experiment, self.log, env=self.env)
        except Interrupted as e:
            self.platform.error(f"{e}; the result has what finished", title="Interrupted")
            return ExitCode.INTERRUPTED

    def _merge(self, experiment: Experiment) -> bool:
        """Merge the shards' results (`merge-from`); True when a signal interrupted it."""
        from iter8_action.shards import ci as shards

        with self.platform.group(f"Merge the shards of {self.inputs.experiment}"):
            try:
                warnings = shards.merge_into(
                    self.result_path, self.inputs, experiment, self.log, env=self.env
                )
            except Interrupted as e:
                self.platform.error(f"{e}; the result has what finished", title="Interrupted")
                return True
        for warning in warnings:
            self.platform.warning(warning, title="Shards")
        return False

    def _report_dir_ready(self, *, result: bool) -> bool:
        """The report directory exists and every file the job writes there can be written
        (the result file too, when `result`): checked before anything runs."""
        from iter8_action.experiment.file import check_output_path

        try:
            self.inputs.report_path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.platform.error(
                f"cannot create the report directory {self.inputs.report_path}: {e.strerror}. "
                "Fix: point `report-dir` at a directory the job may write.",
                title="Invalid inputs",
            )
            return False
        files = [(self.result_path, "the result")] if result else []
        files += [(self._report_file(fmt), "the report") for fmt in self.inputs.report_formats]
        fix = "remove it, or point `report-dir` at another directory"
        try:
            for path, what in files:
                check_output_path(path, what, fix=fix)
        except InputError as e:
            self.platform.error(str(e), title="Invalid inputs")
            return False
        return True

    def _report_file(self, fmt: str) -> Path:
        return self.inputs.report_path / REPORT_FILES[fmt]

    def _baselines(self) -> dict[str, object]:
        """The base branch's results for the assess task (`baseline-from`), fetched before
        the run; a bad path or URL is InputError, a missing or expired artifact a note."""
        from iter8_action.baselines.sources import resolve
        from iter8_action.baselines.spec import parse_source

        source = parse_source(self.inputs.baseline_from)
        if source is None:
            return {}
        with self.platform.group(f"Baselines ({self.inputs.baseline_from})"):
            baselines = resolve(
                source,
                count=self.inputs.baseline_count,
                platform=self.platform.name,
                environ=self.env,
                token=self.inputs.token,
                base_dir=self.inputs.working_directory,
            )
            for run in baselines.runs:
                self.log.info("baseline %s from %s", run.label, run.origin)
            for note in baselines.notes:
                self.log.warning("baseline: %s", note)
        return {"baselines": baselines}

    def _run(self, experiment: Experiment, extras: Mapping[str, object]) -> bool:
        """Run the experiment; True when a signal interrupted it."""
        from iter8_action.engine.runner import run_experiment

        with self.platform.group(f"Run {self.inputs.experiment}"):
            try:
                run_experiment(
                    experiment,
                    result_path=self.result_path,
                    env=self.env,
                    log=self.log,
                    extras=extras,
                )
            except Interrupted as e:
                self.platform.error(f"{e}; the result has what finished", title="Interrupted")
                return True
        return False

    # -- loading -------------------------------------------------------------

    def _render_chart(self, chart: ChartInputs) -> bool:
        """Render the chart into the experiment file, as `iter8 launch --dry` does."""
        from iter8_action.charts.launch import ChartRequest, write_experiment

        base = self.inputs.working_directory
        request = ChartRequest(
            chart=chart.chart,
            repo_url=chart.repo or None,
            version=chart.version or None,
            values_files=chart.values,
            sets=chart.sets,
            base=base,
            cache_dir=chart.cache_dir,
        )
        with self.platform.group(f"Render chart {chart.chart} into {self.inputs.experiment}"):
            try:
                write_experiment(request, self.inputs.experiment_path, log=self.log)
            except InputError as e:
                self.platform.error(str(e), title="Invalid chart or values")
                return False
        return True

    def _load(self) -> Experiment | None:
        from iter8_action.engine.loader import load_experiment

        path = self.inputs.experiment_path
        try:
            experiment = load_experiment(path, env=self.env)
        except ExperimentInvalid as e:
            self._invalid(e.problems)
            return None
        except InputError as e:
            self._invalid([Problem(file=str(path), line=None, path="", message=str(e))])
            return None
        for warning in experiment.warnings:
            # The loader's warnings read "file:line: path: message"; the location
            # goes into the annotation's properties so GitHub shows it on the line.
            located = _LOCATED.match(warning)
            line = int(located["line"]) if located else None
            message = located["message"] if located else warning
            self.platform.warning(message, title="Experiment", file=_shown(path), line=line)
        return experiment

    def _invalid(self, problems: list[Problem]) -> None:
        for problem in problems:
            title = f"Invalid experiment: {problem.path}" if problem.path else "Invalid experiment"
            self.platform.error(
                problem.message, title=title, file=_shown(Path(problem.file)), line=problem.line
            )
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = [
            f"## ❌ Invalid experiment: {markdown.escape(str(self.inputs.experiment))}",
            "",
            f"The experiment was not run: {count} to fix.",
            "",
            *(f"- {markdown.escape(str(p))}" for p in problems),
        ]
        body = "\n".join(lines) + "\n"
        if self.inputs.summary:
            self.platform.write_summary(body)
        outcome = Outcome(verdict=INVALID, slos_met=False, task_failed=False)
        self._set_outputs(outcome, None, {})
        self._comment(outcome, body)

    def _read_result(self) -> tuple[Report, dict[str, object]]:
        from iter8_action.experiment.file import read_result_document
        from iter8_action.report import build_report

        document = read_result_document(self.result_path)
        return build_report(document), document

    # -- what stays on disk and in the job page -----------------------------------

    def _write_reports(self, document: Mapping[str, object]) -> dict[str, Path]:
        from iter8_action.report import render

        paths: dict[str, Path] = {}
        for fmt in self.inputs.report_formats:
            path = self._report_file(fmt)
            try:
                path.write_text(render(document, fmt), encoding="utf-8")
            except OSError as e:
                raise InputError(
                    f"{_shown(path)}: cannot write the {fmt} report: {e.strerror or e}"
                ) from e
            paths[fmt] = path
            self.log.info("wrote the %s report to %s", fmt, _shown(path))
        return paths

    def _annotate(self, report: Report, experiment: Experiment | None) -> None:
        for note in annotations_for(
            report,
            experiment,
            file=_shown(self.inputs.experiment_path) if experiment else None,
            fail_on=self.inputs.fail_on,
        ):
            self.platform.annotate(note)

    def _set_outputs(
        self, outcome: Outcome, report: Report | None, paths: Mapping[str, Path]
    ) -> None:
        winner = report.winner.name if report and report.winner and report.winner.name else ""
        html_report, md_report = paths.get("html"), paths.get("markdown")
        ran = report is not None
        self.platform.set_output("result-file", _shown(self.result_path) if ran else "")
        self.platform.set_output("verdict", outcome.verdict)
        self.platform.set_output("winner", winner)
        self.platform.set_output("slos-met", "true" if outcome.slos_met else "false")
        self.platform.set_output("html-report", _shown(html_report) if html_report else "")
        self.platform.set_output("markdown-report", _shown(md_report) if md_report else "")

    # -- the one API call ---------------------------------------------------------

    def _comment(self, outcome: Outcome, body: str) -> None:
        mode = self.inputs.comment
        if mode == "never":
            self.log.info("comment: not posting (comment: never)")
            return
        create = mode == "always" or outcome.verdict in FAILING_VERDICTS
        key = self.inputs.comment_key
        if url := self.platform.run_url():
            body = f"{body.rstrip()}\n\n<sub>[Reports and logs of this run]({url})</sub>\n"
        try:
            done = self.platform.post_comment(key=key, body=body, create=create)
        except CommentFailed as e:
            self.platform.warning(str(e), title="Comment not posted")
            return
        self.log.info("comment: %s%s", done.detail, f" ({done.url})" if done.url else "")


def annotations_for(
    report: Report, experiment: Experiment | None, *, file: str | None, fail_on: frozenset[str]
) -> list[Annotation]:
    """SLO violations and task failures, located in the experiment file.

    They are errors when the gate fails on them, warnings otherwise; an SLO
    without data is always a warning (the verdict says why the step failed).
    """
    notes: list[Annotation] = []
    lines = {t.index: t.line for t in experiment.tasks} if experiment else {}
    assess = next((t.index for t in report.tasks if t.task == "assess"), None)
    assess_line = lines.get(assess) if assess is not None else None
    slo_level = AnnotationLevel.ERROR if "slos" in fail_on else AnnotationLevel.WARNING
    for slo in report.slos:
        units = f" {slo.units}" if slo.units else ""
        for index, result in enumerate(slo.versions):
            name = report.version_name(index) or f"version {index}"
            if result.status is SloStatus.VIOLATED:
                side = "above" if slo.kind == "upper" else "below"
                notes.append(
                    Annotation(
                        slo_level,
                        f"{name}: {slo.metric} is {_num(result.value)}{units}, {side} the "
                        f"limit {_num(result.limit)}{units}",
                        title=f"SLO violated: {slo.metric} ({name})",
                        file=file,
                        line=assess_line,
                    )
                )
            elif result.status is SloStatus.NO_DATA:
                notes.append(
                    Annotation(
                        AnnotationLevel.WARNING,
                        f"{name}: no value was recorded for {slo.metric}, so its SLO is not met",
                        title=f"SLO without data: {slo.metric} ({name})",
                        file=file,
                        line=assess_line,
                    )
                )
    if report.run.failure:
        failed = report.run.failed_task
        task = next((t for t in report.tasks if t.index == failed), None)
        notes.append(
            Annotation(
                AnnotationLevel.ERROR if "task-failure" in fail_on else AnnotationLevel.WARNING,
                report.run.failure_reason or "a task failed",
                title=f"Task failed: task {task.index} ({task.task})" if task else "Task failed",
                file=file,
                line=lines.get(failed) if failed is not None else None,
            )
        )
    return notes


def _shown(path: Path) -> str:
    """A path as later steps see it: relative to the workspace when inside it.

    In a Docker action the workspace is mounted at another absolute path than
    on the runner, so only a relative path means the same file to both.
    """
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def _num(value: float | None) -> str:
    return "no value" if value is None else f"{value:g}"


if __name__ == "__main__":  # `python -m iter8_action.cli.job`, as the GitLab component runs it
    sys.exit(main())
