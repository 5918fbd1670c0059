"""CuPy's API checked without a GPU: every array-module name tinygen calls exists in CuPy, with a signature that
takes each call's positional arguments and keywords.

The names are read from tinygen's source (``xp_usage.find_uses``: ``xp.exp``, ``self.backend.xp.add.at``, ... and
the keywords of each call), so a new ``xp.<name>`` is checked the day it is written. ``cupy-cuda12x`` installs and
imports on a machine without a GPU or driver; the CuPy checks skip where it is not installed (CI installs it and
sets ``TINYGEN_REQUIRE_CUPY=1``, which turns that skip into a failure). The scanner and checker are themselves tested on planted mistakes, against NumPy, so they run everywhere.
"""
import inspect
import os
import pathlib

import numpy
import pytest

import tinygen
from tinygen.backend import strict
from tinygen.ops import comparison

from xp_usage import UFUNC_CALL_KEYWORDS, Call, _docstring_signature, check_call, check_uses, find_uses

PACKAGE = pathlib.Path(tinygen.__file__).parent

#: Lookups by a computed name, which no scanner can read: file -> the names it may look up (kept honest by
#: ``test_every_lookup_by_a_computed_name_is_listed``).
COMPUTED_NAMES = {"tinygen/ops/comparison.py": sorted(comparison._OPERATORS.values())}


def tinygen_uses():
    sources = [(str(path.relative_to(PACKAGE.parent)), path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))]
    uses = find_uses(sources)
    for names in COMPUTED_NAMES.values():
        for name in names:
            uses.chains[(name,)].append(Call("computed name", 2, frozenset(), False))
    return uses


def load_cupy():
    try:
        import cupy
    except Exception as error:  # ImportError, or a CUDA library that does not load
        reason = f"CuPy is not installed or does not import ({error}): pip install cupy-cuda12x"
        if os.environ.get("TINYGEN_REQUIRE_CUPY") == "1":  # CI sets it: the check must not turn into a skip
            pytest.fail(reason)
        pytest.skip(reason)
    return cupy


# --- the scan of tinygen's own source (no CuPy needed) ----------------------------------------------------------

def test_the_scan_finds_tinygens_array_module_calls_with_their_keywords():
    uses = tinygen_uses()
    assert len(uses.chains) >= 40
    assert ("add", "at") in uses.chains and ("random", "default_rng") in uses.chains
    as_strided = uses.chains[("lib", "stride_tricks", "as_strided")]
    assert as_strided and all(call.keywords == {"shape", "strides"} for call in as_strided)
    # through a conditional callee, (xp.maximum if ... else xp.minimum)(x, y, out=y), and a local alias,
    # find = xp.argmax if largest else xp.argmin; find(x.array, axis=dim)
    assert any("out" in call.keywords for call in uses.chains[("minimum",)])
    assert any("axis" in call.keywords for call in uses.chains[("argmin",)])


def test_every_lookup_by_a_computed_name_is_listed():
    files = {where.rsplit(":", 1)[0] for where in tinygen_uses().dynamic}
    assert files == set(COMPUTED_NAMES), "list the names each getattr(xp, <computed>) may look up in COMPUTED_NAMES"


# --- the checker fails on planted mistakes (checked against NumPy, so it runs everywhere) -----------------------

PLANTED = '''
def forward(self, x, largest):
    xp = self.backend.xp
    a = xp.not_an_array_function(x)
    b = self.backend.xp.take_along_axis(x, x, axes=0)
    c = xp.exp(x, x, x)
    d = xp.maximum(x, x, outt=x)
    find = xp.argmax if largest else xp.argmaxx
    e = find(x, axis=0)
    f = getattr(xp, "exp")(x)
    g = getattr(xp, self.name)(x)
    return xp.lib.stride_tricks.as_strided(x, shape=(1,), strides=(8,), writeable=False)
'''


def test_the_checker_reports_each_planted_mistake():
    uses = find_uses([("planted.py", PLANTED)])
    problems = "\n".join(check_uses(numpy, uses))
    assert "xp.not_an_array_function (planted.py:4): numpy has no 'not_an_array_function'" in problems
    assert "xp.take_along_axis (planted.py:5)" in problems and "axes" in problems
    assert "xp.exp (planted.py:6): 3 positional arguments, the ufunc takes at most 2" in problems
    assert "xp.maximum (planted.py:7): keywords ['outt']" in problems
    assert "xp.argmaxx (planted.py:9): numpy has no 'argmaxx'" in problems
    assert uses.dynamic == ["planted.py:11"] and ("exp",) in uses.chains
    assert len(check_uses(numpy, uses)) == 5, problems  # and nothing else: argmax(x, axis=0) and as_strided are fine


class CythonLike:
    """Like a Cython function: ``inspect.signature`` fails, the docstring's first line holds the signature."""

    def __init__(self, doc):
        self.__doc__ = doc

    @property
    def __signature__(self):
        raise ValueError("no signature found for builtin")


def test_signatures_are_read_from_cython_docstrings():
    at = CythonLike("ufunc.at(self, a, indices, b=None)\n\nApply in place.")
    assert str(_docstring_signature(at)) == "(a, indices, b=None)"
    assert str(_docstring_signature(CythonLike("get_current_stream(int device_id=-1)"))) == "(device_id=None)"
    assert _docstring_signature(CythonLike("Just prose.")) is None
    assert check_call(at, Call("here", 2, frozenset(), False)) is None
    assert check_call(at, Call("here", 2, frozenset({"c"}), False)).startswith("signature (a, indices, b=None)")
    assert "no signature can be read" in check_call(CythonLike("Just prose."), Call("here", 1, frozenset(), False))


# --- CuPy itself ----------------------------------------------------------------------------------------------

def test_cupy_has_every_name_and_signature_tinygen_calls():
    cupy = load_cupy()
    problems = check_uses(cupy, tinygen_uses())
    assert not problems, "tinygen calls what CuPy does not offer:\n" + "\n".join(problems)


def test_the_ufunc_call_keywords_are_the_ones_cupy_documents():
    cupy = load_cupy()
    documented = cupy.ufunc.__call__.__doc__
    for keyword in UFUNC_CALL_KEYWORDS:
        assert f"    {keyword}" in documented, keyword


def test_the_checker_catches_a_known_cupy_difference():
    """CuPy's as_strided takes no ``writeable`` (docs: shared/CUPY.md): the check must say so."""
    cupy = load_cupy()
    uses = find_uses([("planted.py", "xp.lib.stride_tricks.as_strided(x, shape=s, strides=t, writeable=False)")])
    (problem,) = check_uses(cupy, uses)
    assert "writeable" in problem


def test_the_strict_stand_in_lets_through_only_what_cupy_has():
    """Array methods and generator methods are not read by the scan (their receivers' types are not known in the
    source); the strict stand-in limits them instead. Its own surface must then be a part of CuPy's."""
    cupy = load_cupy()
    for name, value in vars(strict.StrictArray).items():
        if not name.startswith("_") and (callable(value) or isinstance(value, property)):
            assert hasattr(cupy.ndarray, name), f"the strict stand-in's arrays offer {name}, CuPy's do not"
    for name, method in vars(strict._StrictGenerator).items():
        if name.startswith("_"):
            continue
        theirs = getattr(cupy.random.Generator, name, None)
        assert theirs is not None, f"the strict stand-in's generator offers {name}, CuPy's does not"
        ours = list(inspect.signature(method).parameters)[1:]
        their_parameters = list(inspect.signature(theirs).parameters)[1:]
        assert set(ours) <= set(their_parameters), f"Generator.{name}: strict takes {ours}, CuPy {their_parameters}"
