"""The grader's verdicts, written for a student (a table with what is wrong and a hint) and for an autograder:
JSON, JUnit XML, and Gradescope's ``results.json``. Every format carries the same verdicts; none carries more
than the first hint (the later hints and the answers are for the student to ask for).
"""
import re
import xml.etree.ElementTree as ElementTree

import tinygen
from tinygen.exercises.runner import FAIL, NOT_STARTED, PASS

STATUSES = (PASS, FAIL, NOT_STARTED)


def _score(results):
    return sum(r.points for r in results), sum(r.max_points for r in results)


def _points(value):
    return f"{value:g}"


def summary_line(results):
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    score, out_of = _score(results)
    return (f"{len(results)} checked: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[NOT_STARTED]} not started "
            f"(score {_points(score)}/{_points(out_of)})")


def format_results(results, hint_level=1, workspace=None):
    """The table ``check`` prints, then each failure's message and hints up to ``hint_level``, then a count."""
    width = max(len("exercise"), *(len(r.name) for r in results)) + 2
    lines = [f"{'exercise':<{width}}{'status':<13}message"]
    for result in results:
        first_line = result.message.splitlines()[0] if result.message else ""
        if len(first_line) > 90:
            first_line = first_line[:87] + "..."
        lines.append(f"{result.name:<{width}}{result.status:<13}{first_line}".rstrip())
    for result in results:
        if result.status != FAIL:
            continue
        lines += ["", f"{result.name}: {FAIL}"] + ["  " + line for line in result.message.splitlines()]
        if result.hints:
            for level in range(1, hint_level + 1):
                lines.append(f"  hint{'' if level == 1 else f' {level}'}: {result.hints.level(level)}")
            if hint_level < 3:
                where = f" {workspace}" if workspace else ""
                lines.append(f"  (the next hint: tinygen exercises hint {result.name}{where})")
        if result.output.strip():
            lines.append("  your code printed (the end of it):")
            lines += ["    " + line for line in result.output.strip().splitlines()[-8:]]
    lines += ["", summary_line(results)]
    return "\n".join(lines)


def json_report(results, workspace=None):
    """A JSON-ready dict: the total score and, per exercise, its status, score, message and first hint."""
    score, out_of = _score(results)
    return {
        "tool": "tinygen exercises",
        "version": tinygen.__version__,
        "workspace": workspace,
        "score": score,
        "max_score": out_of,
        "counts": {status: sum(r.status == status for r in results) for status in STATUSES},
        "passed": all(r.status == PASS for r in results),
        "exercises": [
            {"name": r.name, "status": r.status, "score": r.points, "max_score": r.max_points, "message": r.message,
             "hint": r.hint, "check": r.check, "output": r.output, "review": list(r.review)}
            for r in results
        ],
    }


#: characters XML 1.0 cannot hold, even escaped (a student's ANSI colours, a NUL)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text):
    """``text`` with each character XML cannot hold written as its escape (``\\x1b``)."""
    return _NOT_XML.sub(lambda match: ascii(match.group())[1:-1], text)


def junit_xml(results):
    """JUnit XML: one testcase per exercise; a failure is <failure>, an exercise not started is <skipped>. What the
    student's code printed or raised may hold characters XML cannot (terminal colours): they are written escaped."""
    suite = ElementTree.Element("testsuite", name="tinygen exercises", tests=str(len(results)),
                                failures=str(sum(r.status == FAIL for r in results)), errors="0",
                                skipped=str(sum(r.status == NOT_STARTED for r in results)))
    for result in results:
        case = ElementTree.SubElement(suite, "testcase", classname="tinygen.exercises", name=_xml(result.name))
        if result.status == FAIL:
            first = result.message.splitlines()[0] if result.message else "fail"
            failure = ElementTree.SubElement(case, "failure", message=_xml(first), type=_xml(result.check or "fail"))
            failure.text = _xml(result.message + (f"\nhint: {result.hint}" if result.hint else ""))
        elif result.status == NOT_STARTED:
            ElementTree.SubElement(case, "skipped", message=_xml(f"not started: {result.message}"))
        if result.output:
            ElementTree.SubElement(case, "system-out").text = _xml(result.output)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def gradescope_results(results):
    """Gradescope's autograder ``results.json`` (score, and one test per exercise with its output)."""
    score, _ = _score(results)
    tests = []
    for result in results:
        output = f"{result.status}: {result.message}" if result.message else result.status
        if result.hint:
            output += f"\nhint: {result.hint}"
        tests.append({"name": result.name, "score": result.points, "max_score": result.max_points,
                      "status": "passed" if result.status == PASS else "failed", "output": output})
    return {"score": score, "output": summary_line(results), "tests": tests, "visibility": "visible",
            "stdout_visibility": "hidden"}
