"""Graduated hints. ``check`` shows the first hint of a failing check (what is wrong, without the formula);
``tinygen exercises hint NAME`` shows one level more each time it is asked about the same failing check (a
direction, then a worked step); the answer only with ``--answer``. The levels shown are remembered per exercise
and check in the workspace's ``.tinygen-hints.json``, so a new failure starts again at the first hint.
"""
import json
import os

from tinygen.exercises.runner import NOT_STARTED, PASS

STATE_FILE = ".tinygen-hints.json"
LAST = 3


def _load(directory):
    try:
        with open(os.path.join(directory, STATE_FILE)) as file:
            state = json.load(file)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _save(directory, state):
    try:
        with open(os.path.join(directory, STATE_FILE), "w") as file:
            json.dump(state, file, indent=1)
    except OSError:  # a read-only workspace still gets its hint, just not remembered
        pass


def next_hint(directory, result, answer=False):
    """The text to show for ``result`` (a ``Result`` of one exercise) and the exit status (0 when it passes)."""
    if result.status == PASS:
        return f"{result.name} passes: no hint needed.", 0
    if result.status == NOT_STARTED:
        return (f"{result.name}: not started ({result.message}). The docstring in "
                f"{os.path.join(directory, result.name + '.py')} says what to write."), 1
    lines = [f"{result.name}: fail"] + ["  " + line for line in result.message.splitlines()]
    if result.hints is None:
        lines.append("no hint for this failure: the message names the error and the line of your file it came from")
        return "\n".join(lines), 1
    state = _load(directory)
    key = f"{result.name}: {result.check}"
    if answer:
        lines += [f"hint {level}: {result.hints.level(level)}" for level in range(1, LAST + 1)]
        lines.append(f"answer: {result.hints.level('answer')}")
        state[key] = "answer"
    else:
        shown = state.get(key, 1)
        level = LAST if shown == "answer" else min(int(shown) + 1, LAST)
        lines += [f"hint {n}: {result.hints.level(n)}" for n in range(1, level + 1)]
        if level < LAST:
            lines.append(f"(ask again for hint {level + 1}: tinygen exercises hint {result.name} {directory})")
        else:
            lines.append(f"(that was the last hint; the answer: tinygen exercises hint {result.name} {directory} "
                         "--answer)")
        state[key] = level if shown != "answer" else "answer"
    _save(directory, state)
    return "\n".join(lines), 1
