"""Calling the user's code from a check. When it raises, the check reports one line that names the user's own file
and line (the innermost frame outside tinygen and the installed libraries), not a traceback through the checker."""
import os
import sysconfig
import traceback

from tinygen.testing.errors import GradcheckError

_TINYGEN_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_LIBRARY_DIRS = tuple(sorted({os.path.realpath(path) + os.sep for key, path in sysconfig.get_paths().items()
                              if key in ("stdlib", "platstdlib", "purelib", "platlib")}))


def call_user(who, what, fn, *arguments, called_as=None):
    """``fn(*arguments)``; an exception it raises becomes a one-line ``GradcheckError``:
    ``check_backward: forward raised ValueError: <its message> (at layers.py:12, in affine_forward: out = ...)``.
    ``called_as`` says how the check called ``fn``, for an error raised by the call itself (a wrong signature)."""
    try:
        return fn(*arguments)
    except (Exception, SystemExit) as error:  # sys.exit() in a layer is a bug to report, not the checker's end
        message = " ".join(str(error).split())  # one line, even for a multi-line message
        site = user_site(error) or (f"when called as {called_as}" if called_as else "in code outside your files")
        raise GradcheckError(f"{who}: {what} raised {type(error).__name__}: {message} ({site})") from None


def user_site(error):
    """``at <file>:<line>, in <function>: <source line>`` of the innermost frame of the user's code in ``error``'s
    traceback (library frames, such as NumPy's, and the checker's own are skipped); ``None`` if there is none."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if _is_user_file(frame.filename)]
    if not frames:
        return None
    frame = frames[-1]
    source = f": {frame.line}" if frame.line else ""
    return f"at {frame.filename}:{frame.lineno}, in {frame.name}{source}"


def _is_user_file(filename):
    if filename == "<__array_function__ internals>":  # NumPy 1.24's dispatch wrapper (1.25 and later dispatch in C)
        return False
    path = os.path.realpath(filename)
    return not (path.startswith(_TINYGEN_DIR + os.sep) or path.startswith(_LIBRARY_DIRS))
