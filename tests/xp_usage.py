"""What tinygen asks of its array module, found in the source, and whether a module (CuPy) offers it.

``find_uses`` reads Python source with ``ast`` and collects every attribute chain on the array module (``xp.exp``,
``self.backend.xp.add.at``, ``xp.lib.stride_tricks.as_strided``: any chain that starts at a name or attribute called
``xp`` or ``_xp``) with, for each call of it, the number of positional arguments and the keywords. A call through a
local alias (``find = xp.argmax if largest else xp.argmin; find(a, axis=d)``) or a conditional
(``(xp.maximum if up else xp.minimum)(a, b, out=b)``) counts for every chain it may be. Lookups by a computed name
(``getattr(xp, name)``) cannot be read statically: they are reported as ``dynamic`` for the test to list by hand.

``check_uses(module, uses)`` returns the problems: a chain the module lacks, or a call its signature cannot take.
A signature comes from ``inspect.signature``; for CuPy's Cython functions and methods, which have none, from the
first line of the docstring (Cython's ``embedsignature``: ``ufunc.at(self, a, indices, b=None)``); a ufunc's call
takes ``nin + nout`` positional arguments and the keywords in ``UFUNC_CALL_KEYWORDS``; a NumPy scalar type
(``xp.float32(v)``, the same class in CuPy) takes one value. Not covered: methods of the arrays themselves
(``a.sum(axis=...)``: the receiver's type is not known statically) and of the random generator. The strict stand-in
offers only CuPy's methods of both (the test checks that surface against CuPy), but not their keywords.
"""
import ast
import collections
import inspect
import re

import numpy

ROOTS = ("xp", "_xp")

#: Keywords a CuPy ufunc call takes besides its inputs. CuPy's ``ufunc.__call__(self, *args, **kwargs)`` documents
#: ``out`` and ``dtype`` (its docstring's Args); the test checks the docstring still names them.
UFUNC_CALL_KEYWORDS = frozenset({"out", "dtype"})

Call = collections.namedtuple("Call", ["where", "positional", "keywords", "starred"])
"""One call: ``where`` = "path:line", ``positional`` = number of positional arguments (``starred``: a ``*args``
was among them, so the count is a minimum), ``keywords`` = the keyword names passed."""


class Uses:
    """The chains found: ``chains[("add", "at")]`` = list of Calls (empty if only referenced, never called)."""

    def __init__(self):
        self.chains = collections.defaultdict(list)
        self.dynamic = []  # "path:line" of each getattr(xp, <computed name>)


def _chain(node):
    """``xp.a.b`` -> ("a", "b"); None if ``node`` is not an attribute chain on the array module."""
    names = []
    while isinstance(node, ast.Attribute):
        if node.attr in ROOTS:  # ... .xp.a.b: the chain starts at this attribute
            return tuple(reversed(names)) or None
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in ROOTS and names:
        return tuple(reversed(names))
    return None


def _is_module(node):
    return (isinstance(node, ast.Name) and node.id in ROOTS) or (isinstance(node, ast.Attribute) and node.attr in ROOTS)


def _callee_chains(node, aliases):
    """The chains a call's function may be: a chain, a conditional of chains, or a local alias of those."""
    chain = _chain(node)
    if chain:
        return [chain]
    if isinstance(node, ast.IfExp):
        return _callee_chains(node.body, aliases) + _callee_chains(node.orelse, aliases)
    if isinstance(node, ast.Name):
        return aliases.get(node.id, [])
    return []


class _Scanner(ast.NodeVisitor):
    """Walks one file; each function's local aliases of chains (``find = xp.argmax``) apply inside it."""

    def __init__(self, where, uses):
        self.where, self.uses, self.aliases = where, uses, [{}]

    def visit_FunctionDef(self, node):
        aliases = dict(self.aliases[-1])
        for statement in ast.walk(node):
            if isinstance(statement, ast.Assign) and [type(t) for t in statement.targets] == [ast.Name]:
                chains = _callee_chains(statement.value, {})
                if chains:
                    aliases[statement.targets[0].id] = chains
        self.aliases.append(aliases)
        self.generic_visit(node)
        self.aliases.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        place = f"{self.where}:{node.lineno}"
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and node.args and _is_module(node.args[0]):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self.uses.chains[(name.value,)]  # getattr(xp, "name"): an ordinary reference
            else:
                self.uses.dynamic.append(place)
        call = Call(place, sum(not isinstance(a, ast.Starred) for a in node.args),
                    frozenset(k.arg for k in node.keywords if k.arg is not None),
                    any(isinstance(a, ast.Starred) for a in node.args))
        for chain in _callee_chains(node.func, self.aliases[-1]):
            self.uses.chains[chain].append(call)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        chain = _chain(node)
        if chain is None:
            self.generic_visit(node)
        elif isinstance(node.ctx, ast.Load):
            self.uses.chains[chain]  # referenced; its inner parts (xp.add of xp.add.at) are not recorded apart


def find_uses(sources):
    """Scan ``(name, source text)`` pairs for uses of the array module."""
    uses = Uses()
    for name, source in sources:
        _Scanner(name, uses).visit(ast.parse(source))
    return uses


def _resolve(module, chain):
    target = module
    for name in chain:
        if not hasattr(target, name):
            return None, name
        target = getattr(target, name)
    return target, None


def _docstring_signature(obj):
    """The signature Cython writes on a docstring's first line (``ufunc.at(self, a, indices, b=None)``), or None.
    Default values are replaced by None: they may name CuPy's types, and only the parameters matter here."""
    first_line = (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]
    match = re.match(r"^[\w.]+(\(.*\))(\s*->.*)?$", first_line)
    if not match:
        return None
    parameters = re.sub(r"([(,]\s*)[A-Za-z_][\w.]*\s+(?=[*\w])", r"\1", match.group(1))  # Cython's "int device_id"
    try:
        function = ast.parse(f"def stub{parameters}: pass").body[0]
    except SyntaxError:
        return None
    arguments = function.args
    arguments.defaults = [ast.Constant(None) for _ in arguments.defaults]
    arguments.kw_defaults = [None if d is None else ast.Constant(None) for d in arguments.kw_defaults]
    for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
        argument.annotation = None
    namespace = {}
    exec(compile(ast.fix_missing_locations(ast.Module([function], [])), "<docstring>", "exec"), namespace)
    signature = inspect.signature(namespace["stub"])
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name == "self":
        signature = signature.replace(parameters=parameters[1:])
    return signature


def signature_of(obj):
    """``inspect.signature``, else the docstring's; None where neither is obtainable."""
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return _docstring_signature(obj)


def _is_ufunc(obj):
    return type(obj).__name__ == "ufunc" and hasattr(obj, "nin") and hasattr(obj, "nout")


def check_call(obj, call, ufunc_keywords=UFUNC_CALL_KEYWORDS):
    """Why ``obj`` cannot take ``call``, or None if it can."""
    if isinstance(obj, type) and issubclass(obj, numpy.generic):  # xp.float32(value): a NumPy scalar type
        return None if call.positional <= 1 and not call.keywords else "a scalar type takes one value"
    if _is_ufunc(obj):
        if call.positional > obj.nin + obj.nout:
            return f"{call.positional} positional arguments, the ufunc takes at most {obj.nin + obj.nout}"
        unknown = call.keywords - ufunc_keywords
        return f"keywords {sorted(unknown)} are not among a ufunc call's {sorted(ufunc_keywords)}" if unknown else None
    signature = signature_of(obj)
    if signature is None:
        return "no signature can be read, neither by inspect nor from the docstring's first line"
    return _signature_problem(signature, call)


def _signature_problem(signature, call):
    parameters = signature.parameters.values()
    kinds = {parameter.kind for parameter in parameters}
    by_keyword = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = set() if inspect.Parameter.VAR_KEYWORD in kinds else call.keywords - by_keyword
    if unknown:
        return f"signature {signature} has no parameter {sorted(unknown)}"
    by_position = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if inspect.Parameter.VAR_POSITIONAL not in kinds and call.positional > len(by_position):
        return f"signature {signature} takes at most {len(by_position)} positional arguments, got {call.positional}"
    if not call.starred:  # with *args the count is only a minimum: nothing more can be said
        try:
            signature.bind(*[None] * call.positional, **{name: None for name in call.keywords})
        except TypeError as error:
            return f"signature {signature} cannot take {call.positional} positional and {sorted(call.keywords)}: " \
                   f"{error}"
    return None


def check_uses(module, uses, ufunc_keywords=UFUNC_CALL_KEYWORDS):
    """Problems of ``module`` with ``uses``, one line each: ``xp.name (where): what is wrong``."""
    problems = []
    for chain, calls in sorted(uses.chains.items()):
        dotted = "xp." + ".".join(chain)
        obj, missing = _resolve(module, chain)
        if missing is not None:
            places = ", ".join(call.where for call in calls) or "referenced"
            problems.append(f"{dotted} ({places}): {module.__name__} has no {missing!r}")
            continue
        for call in calls:
            problem = check_call(obj, call, ufunc_keywords)
            if problem:
                problems.append(f"{dotted} ({call.where}): {problem}")
    return problems
