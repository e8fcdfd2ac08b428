"""The JUnit XML report: one test case per SLO per version, one per task.

GitLab's test report widget (`artifacts:reports:junit`) and GitHub's
test-reporting actions read this format. A violated SLO is a `<failure>` that
carries the observed value and the limit; an SLO with no data fails too (a
missing value never satisfies an SLO); an SLO that does not apply to a version
is `<skipped>`. Tasks make a second suite, so that a run that crashed shows up
even without SLOs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from iter8_action.core.logtext import LEGACY_COMMAND, starts_a_command
from iter8_action.report import fmt
from iter8_action.report.model import Report, Slo, SloStatus, SloVersion, TaskRow, TaskStatus

# XML 1.0 forbids most control characters, even escaped (section 2.2, "Characters"), and
# a lone surrogate is no character at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# What XML allows but a log reads as a line break or a control sequence (C1 has CSI).
_RAW_IN_LOG = re.compile("[\r\x7f-\x9f\u2028\u2029]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=_clean(f"iter8 {report.run.name or 'experiment'}"))
    suites = [_slo_suite(report), _task_suite(report)]
    for suite in suites:
        root.append(suite)
    _count(root, suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _inert(ET.tostring(root, "unicode")) + "\n"


def _inert(xml: str) -> str:
    """The document with the same content but nothing a CI log would misread when it is
    printed: line breaks other than LF, C1 controls, `##[`, and `::` at the start of a line
    are written as character references (ElementTree writes no comment or CDATA, where
    they would not be references; it writes CR raw in text, which parsers turn into LF)."""
    xml = _RAW_IN_LOG.sub(lambda m: f"&#{ord(m.group())};", xml)
    xml = xml.replace(LEGACY_COMMAND, "#&#35;[")
    lines = xml.split("\n")
    return "\n".join(
        line.replace(":", "&#58;", 1) if starts_a_command(line) else line for line in lines
    )


def _count(element: ET.Element, children: list[ET.Element]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(sum(int(c.get(key, "0")) for c in children)))


def _suite(name: str, report: Report) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(name))
    if report.run.start_time:
        suite.set("timestamp", _clean(report.run.start_time.removesuffix("Z")))
    return suite


def _slo_suite(report: Report) -> ET.Element:
    suite = _suite("SLOs", report)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for slo in report.slos:
        for index, result in enumerate(slo.versions):
            version = report.version_name(index) or str(index)
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_clean(f"iter8.slo.{version}"),
                name=_clean(f"{fmt.slo_label(slo, report)} [{version}]"),
            )
            counts["tests"] += 1
            outcome = _slo_outcome(slo, result, version)
            if outcome is not None:
                tag, message = outcome
                counts["skipped" if tag == "skipped" else "failures"] += 1
                child = ET.SubElement(case, tag, message=_clean(message))
                if tag == "failure":
                    child.set("type", _clean(result.status))
                    child.text = _clean(message)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _slo_outcome(slo: Slo, result: SloVersion, version: str) -> tuple[str, str] | None:
    limit = fmt.quantity(result.limit, slo.units)
    observed = fmt.quantity(result.value, slo.units)
    bound = "at most" if slo.kind == "upper" else "at least"
    if result.status is SloStatus.SATISFIED:
        return None
    if result.status is SloStatus.NOT_APPLICABLE:
        return "skipped", f"this SLO does not apply to {version}" + (
            f" ({result.note})" if result.note else ""
        )
    if result.status is SloStatus.NO_DATA:
        return "failure", f"{slo.metric}: no value was recorded for {version} (limit: {limit})"
    return "failure", f"{slo.metric} = {observed} for {version}; the limit is {bound} {limit}"


def _task_suite(report: Report) -> ET.Element:
    suite = _suite("tasks", report)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for task in report.tasks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="iter8.task",
            name=_clean(f"task {task.index} ({task.task})"),
        )
        if task.duration_s is not None:
            case.set("time", f"{task.duration_s:.3f}")
        counts["tests"] += 1
        outcome = _task_outcome(task, report)
        if outcome is not None:
            tag, message = outcome
            counts[{"error": "errors", "skipped": "skipped"}[tag]] += 1
            child = ET.SubElement(case, tag, message=_clean(message))
            if tag == "error":
                child.text = _clean(message)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _task_outcome(task: TaskRow, report: Report) -> tuple[str, str] | None:
    if task.status is TaskStatus.COMPLETED:
        return None
    if task.status is TaskStatus.FAILED:
        if task.soft_failure:
            return "skipped", f"failed (soft failure, the run went on): {task.error or ''}".strip()
        return "error", task.error or report.run.failure_reason or "the task failed"
    if task.status is TaskStatus.SKIPPED:
        return "skipped", f"its condition was false: {task.condition or ''}".strip(": ")
    if task.status is TaskStatus.NOT_RUN:
        return "skipped", "not run: the run stopped before this task"
    return "skipped", f"{fmt.task_status(task.status)}: the run has not finished"
