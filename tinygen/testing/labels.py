"""What a check calls each input in its messages: ``input 1 'w'`` (the checked function's own parameter name, read
from its signature) or ``input 1`` where it has none (``*args``, a builtin without a signature)."""
import inspect

from tinygen.autograd.function import Function
from tinygen.testing.errors import GradcheckError

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def parameter_names(fn, count):
    """The names of ``fn``'s first ``count`` positional parameters, ``None`` past the named ones."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
        owner = _function_of_apply(fn)
        if owner is not None:  # MyOp.apply(*args) passes its arguments to forward(ctx, a, b): name them a, b
            parameters = list(inspect.signature(owner.forward).parameters.values())[1:]
    except (TypeError, ValueError):  # some builtins and C functions have no signature
        parameters = ()
    names = []
    for parameter in parameters:
        if parameter.kind not in _POSITIONAL:
            break
        names.append(parameter.name)
    return (names + [None] * count)[:count]


def _function_of_apply(fn):
    """The ``Function`` subclass written as PyTorch writes one (static ``forward(ctx, ...)``) whose bound ``apply``
    ``fn`` is, else ``None``."""
    owner = getattr(fn, "__self__", None)
    if not (isinstance(owner, type) and issubclass(owner, Function) and getattr(fn, "__name__", None) == "apply"):
        return None
    return owner if isinstance(inspect.getattr_static(owner, "forward"), staticmethod) else None


def input_labels(who, fn, count, names=None):
    """``input i 'name'`` for each of ``count`` inputs; ``names`` (one per input) overrides the signature's."""
    if names is None:
        names = parameter_names(fn, count)
    elif len(names) != count:
        raise GradcheckError(f"{who}: names has {counted(len(names), 'entry', 'entries')} for "
                             f"{counted(count, 'input')}: give one name per input")
    return [f"input {position} {name!r}" if name else f"input {position}" for position, name in enumerate(names)]


def counted(count, noun, plural=None):
    """``1 input``, ``2 inputs``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
