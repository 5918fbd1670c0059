"""Honest grading: a submission passes only through the student's own code. Delegating to tinygen's implementation
of the exercise (super(), tinygen's class or function imported or reached by another path, a second copy of its
module, its source compiled at run time), reading a reference solution or a grader, or searching the process's
objects fails the exercise with a message that says so; so does rebinding a function of NumPy, tinygen or the grader
(or a builtin) that the grader computes with; and grading leaves tinygen exactly as it was."""
import builtins
import re
import sys
import types

import numpy
import pytest

import tinygen
from tinygen.autograd import engine
from tinygen.exercises import FAIL, PASS, grading, honesty
from tinygen.exercises.catalog import lookup, resolve
from tinygen.exercises.grading import Tolerance
from tinygen.losses import vae
from tinygen.ops import arithmetic, elementwise

from .workspaces import COURSE, SOLUTIONS, grade, solution_text, workspace, write_solution  # noqa: F401

DELEGATING = [exercise for exercise in COURSE if exercise.replaces]
TENSOR_ABS, RELU = tinygen.Tensor.abs, elementwise.ReLU


def _import_line(target, alias):
    module, _, attribute = target.partition(":")
    return f"from {module} import {attribute} as {alias}\n"


def _delegating_source(exercise, how):
    """The reference solution, followed by definitions that hand every replaced object to tinygen's own:
    ``super``: a subclass of tinygen's class whose written methods call super(); ``imported``: tinygen's method or
    function, imported when the file loads, called directly."""
    text = solution_text(exercise.name) + "\n\n"
    for position, (name, target) in enumerate(exercise.replaces.items()):
        alias = f"_tinygen_{position}"
        text += _import_line(target, alias)
        methods = exercise.writes.get(name)
        if methods is None:
            text += f"\n\ndef {name}(*args, **kwargs):\n    return {alias}(*args, **kwargs)\n\n\n"
            continue
        base = alias if how == "super" else name
        text += f"\n\nclass {name}({base}):\n"
        for method in methods:
            call = f"super().{method}(*args)" if how == "super" else f"{alias}.{method}(self, *args)"
            text += f"    def {method}(self, *args):\n        return {call}\n\n"
    return text


@pytest.mark.parametrize("how", ["super", "imported"])
@pytest.mark.parametrize("exercise", DELEGATING, ids=[e.name for e in DELEGATING])
def test_handing_the_exercise_to_tinygen_fails_and_says_so(workspace, exercise, how):
    write_solution(workspace, exercise.name, text=_delegating_source(exercise, how))
    result = grade(workspace, exercise.name)
    assert result.status == FAIL, result
    assert result.check == "delegation"
    assert "your code reached tinygen's own" in result.message
    assert "only your own code may compute it" in result.message
    assert f"in {exercise.filename}, line" in result.message  # the line that did it


def test_the_stub_base_gives_super_nothing_to_call(workspace):
    write_solution(workspace, "mul", ("        a, b = self.saved_inputs\n", "        return super().backward(g)\n"))
    result = grade(workspace, "mul")
    assert (result.status, result.check) == (FAIL, "super")
    assert "Mul.backward is not given in this exercise" in result.message and "in mul.py, line" in result.message


def test_calling_tinygen_by_its_public_name_runs_the_students_own_code_and_is_reported(workspace):
    """Inside the grader, tinygen's names for the exercise lead to the student's code: delegating through them
    recurses, and the message says why."""
    write_solution(workspace, "gaussian_kl", ("    return reduce(per_sample_sum(GaussianKL()(mu, logvar)), reduction)",
                                              "    import tinygen\n    return tinygen.losses.gaussian_kl(mu, logvar, "
                                              "reduction)"))
    result = grade(workspace, "gaussian_kl")
    assert (result.status, result.check) == (FAIL, "recursion")
    assert "calls itself without end" in result.message and "run YOUR code" in result.message
    assert "line 43: return tinygen.losses.gaussian_kl(mu, logvar, reduction)" in result.message


def test_a_swallowed_tripwire_still_fails(workspace):
    text = "from tinygen.ops.elementwise import Tanh as _TinygenTanh\n" + solution_text("tanh")
    swallowed = ("        try:\n            return _TinygenTanh.backward(self, g)\n        except BaseException:\n"
                 "            pass\n")
    text = text.replace("        y = self.saved_output\n", swallowed + "        y = self.saved_output\n")
    write_solution(workspace, "tanh", text=text)
    result = grade(workspace, "tanh")
    assert (result.status, result.check) == (FAIL, "delegation")


@pytest.mark.parametrize("how", ["exec", "importlib"])
def test_running_a_reference_solution_fails(workspace, how):
    solution = SOLUTIONS / "mul.py"
    load = (f"exec(open({str(solution)!r}).read())" if how == "exec" else
            f"import importlib.util\n_spec = importlib.util.spec_from_file_location('copy', {str(solution)!r})\n"
            "_module = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_module)\nMul = _module.Mul")
    (workspace / "mul.py").write_text(load + "\n")
    result = grade(workspace, "mul")
    assert (result.status, result.check) == (FAIL, "delegation")
    # an editable install knows the repository's solution files (the open is refused); an installed package does
    # not, and the solution's marker text is refused when it runs: either way the message names what was reached
    assert "a reference solution" in result.message


def test_the_installed_package_has_no_solutions_to_import(workspace):
    (workspace / "mul.py").write_text("from tinygen.exercises.solutions.mul import Mul\n")
    result = grade(workspace, "mul")
    assert result.status == FAIL and "No module named 'tinygen.exercises.solutions'" in result.message


def test_loading_a_graders_file_fails(workspace):
    grader = resolve("tinygen.exercises.catalog:COURSE_DIR") + "/wgan_gp_critic_step/exercise.py"
    (workspace / "wgan_gp_critic_step.py").write_text(
        f"import importlib.util\n_spec = importlib.util.spec_from_file_location('grader', {grader!r})\n"
        "_grader = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_grader)\n"
        "critic_step = _grader.reference_step\n")
    result = grade(workspace, "wgan_gp_critic_step")
    assert (result.status, result.check) == (FAIL, "delegation")


@pytest.mark.parametrize("how", ["a second copy", "reload", "source"])
def test_a_fresh_copy_of_tinygens_module_fails(workspace, how):
    fresh = {
        "a second copy": "import importlib.util\nimport tinygen.ops.arithmetic as _a\n_spec = importlib.util."
                         "spec_from_file_location('copy', _a.__file__)\n"
                         "_copy = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_copy)\n",
        "reload": "import importlib\nimport tinygen.ops.arithmetic as _a\n_copy = importlib.reload(_a)\n",
        "source": "import inspect\nimport types\nimport tinygen.ops.arithmetic as _a\n_copy = types.SimpleNamespace()\n"
                  "exec(inspect.getsource(_a), vars(_copy))\n",
    }[how]
    (workspace / "mul.py").write_text(fresh + "\n\nclass Mul(_copy.Mul):\n    pass\n")
    result = grade(workspace, "mul")
    assert (result.status, result.check) == (FAIL, "delegation")
    assert "tinygen" in result.message


def test_searching_the_process_through_gc_fails_and_is_flagged_for_review(workspace):
    write_solution(workspace, "tanh", ("        y = self.saved_output\n",
                                       "        import gc\n        gc.get_objects()\n        y = self.saved_output\n"))
    result = grade(workspace, "tanh")
    assert (result.status, result.check) == (FAIL, "delegation")
    assert "through gc.get_objects" in result.message
    assert "the gc module" in result.review


def test_an_answer_computed_by_another_framework_is_flagged_for_review(workspace):
    """A softmax forward that called torch.softmax passed with nothing to show for it: it is pointed out (not failed:
    importing torch to check one's work is no fault)."""
    pytest.importorskip("torch")
    forward = ("        xp = self.backend.xp\n        exponentials = xp.exp(x - x.max(axis=self.dim, keepdims=True))\n"
               "        return exponentials / exponentials.sum(axis=self.dim, keepdims=True)\n")
    by_torch = "        import torch\n        return torch.softmax(torch.from_numpy(x), self.dim).numpy()\n"
    write_solution(workspace, "softmax", (forward, by_torch))
    assert "another framework (torch, jax, tensorflow, scipy)" in grade(workspace, "softmax").review
    write_solution(workspace, "softmax")
    assert grade(workspace, "softmax").review == ()  # "PyTorch" in a docstring is not an import


def test_the_engines_own_functions_are_out_of_reach(workspace):
    text = solution_text("engine").replace("from tinygen.autograd.function import Function\n",
                                           "from tinygen.autograd.engine import topological_order as _tinygen_order\n"
                                           "from tinygen.autograd.function import Function\n")
    text += "\n\ndef topological_order(roots):\n    return _tinygen_order(roots)\n"
    write_solution(workspace, "engine", text=text)
    result = grade(workspace, "engine")
    assert (result.status, result.check) == (FAIL, "delegation")
    assert "tinygen.autograd.engine.topological_order" in result.message


def test_a_helper_that_does_part_of_the_exercise_is_refused_only_to_the_student(workspace):
    """Conv2dWeightGrad computes conv2d's weight gradient: the student may not call it, but tinygen's own
    conv_transpose2d (which the student's conv2d backward uses) still may."""
    write_solution(workspace, "conv2d", ("grad_weight = correlate(x, g, geometry)",
                                         "from tinygen.ops.conv import Conv2dWeightGrad\n"
                                         "            grad_weight = Conv2dWeightGrad(geometry)(x, g)"))
    result = grade(workspace, "conv2d")
    assert (result.status, result.check) == (FAIL, "delegation")
    assert "Conv2dWeightGrad" in result.message
    write_solution(workspace, "conv2d")
    assert grade(workspace, "conv2d").status == PASS


def test_grading_leaves_tinygen_as_it_was(workspace):
    originals = (arithmetic.Mul, arithmetic.Mul.backward, engine.run_backward, engine.run_backward.__code__,
                 vae.gaussian_kl.__code__, tinygen.autograd.api.run_backward)
    for exercise in COURSE:
        write_solution(workspace, exercise.name, text=_delegating_source(exercise, "super")
                       if exercise.replaces else None)
        grade(workspace, exercise.name)
    assert originals == (arithmetic.Mul, arithmetic.Mul.backward, engine.run_backward, engine.run_backward.__code__,
                         vae.gaussian_kl.__code__, tinygen.autograd.api.run_backward)
    x = tinygen.randn(3, requires_grad=True)
    (x * x).sum().backward()
    assert type((x * x).grad_fn) is arithmetic.Mul


_WRONG_RELU = ("        return g * (x > 0).to(dtype=g.dtype)\n", "        return g * 2.0\n")
#: a wrong relu backward (g * 2) with a patch that would pass it; each rebinds something the grader computes with
TAMPERING = {
    "numpy's function": ("import numpy\nnumpy.abs = lambda x, *args, **kwargs: numpy.zeros_like(x)\n",
                         "numpy.abs"),
    "the grader's function": ("import tinygen.exercises.grading as _g\n_g.compare = lambda *args, **kwargs: None\n",
                              "tinygen.exercises.grading.compare"),
    "a function's code": ("import tinygen.exercises.grading as _g\n"
                          "_g.compare.__code__ = (lambda *args, **kwargs: None).__code__\n",
                          "tinygen.exercises.grading.compare.__code__"),
    "the grader's tolerance": ("import tinygen.exercises.grading as _g\n_g.FLOAT64 = _g.Tolerance(1e9, 1e9)\n",
                               "tinygen.exercises.grading.FLOAT64"),
    "a tensor method": ("import tinygen\ntinygen.Tensor.abs = lambda self: self * 0.0\n", "tinygen.tensor.Tensor.abs"),
    "a builtin": ("import builtins\nbuiltins.bool = lambda value: False\n", "builtins.bool"),
    "a deleted name": ("import tinygen.exercises.grading as _g\ndel _g.FLOAT64\n", "tinygen.exercises.grading.FLOAT64"),
}


@pytest.mark.parametrize("what", TAMPERING)
def test_rebinding_what_the_grader_computes_with_fails_and_is_undone(workspace, what):
    patch, name = TAMPERING[what]
    numpy_abs, compare, code = numpy.abs, grading.compare, grading.compare.__code__
    write_solution(workspace, "relu", _WRONG_RELU)
    (workspace / "relu.py").write_text(patch + (workspace / "relu.py").read_text())
    result = grade(workspace, "relu")
    assert (result.status, result.check) == (FAIL, "tampering"), result
    assert f"your code changed {name}, which the grader computes with" in result.message
    assert "delete the lines that assign" in result.hints.step
    assert (numpy.abs, grading.compare, grading.compare.__code__) == (numpy_abs, compare, code)
    assert (grading.FLOAT64, tinygen.Tensor.abs, builtins.bool) == (Tolerance(1e-7, 1e-9), TENSOR_ABS, bool)
    write_solution(workspace, "relu")
    assert grade(workspace, "relu").status == PASS  # nothing of the patch is left behind


IN_PLACE = {
    "a frozen tolerance": ("relu", "import tinygen.exercises.grading as _g\n"
                           "object.__setattr__(_g.FLOAT64, 'rtol', 1e9)\nobject.__setattr__(_g.FLOAT64, 'atol', 1e9)\n",
                           "tinygen.exercises.grading.FLOAT64"),
    "the grader's cases": ("mul", "from tinygen.exercises import catalog as _c\n"
                           "[_e.module.CASES.clear() for _e in _c.load_course() if _e.name == 'mul']\n", ".CASES"),
}


@pytest.mark.parametrize("what", IN_PLACE)
def test_changing_the_graders_data_in_place_fails_and_is_undone(workspace, what):
    """A rebinding check did not see these: a wrong answer passed with a tolerance of 1e9, or with no case left."""
    name, patch, where = IN_PLACE[what]
    cases = list(lookup(COURSE, "mul").module.CASES)
    write_solution(workspace, name, _WRONG_RELU if name == "relu" else ("sum_to(g * b, a.shape)", "g * b"))
    (workspace / f"{name}.py").write_text(patch + (workspace / f"{name}.py").read_text())
    result = grade(workspace, name)
    assert (result.status, result.check) == (FAIL, "tampering"), result
    assert re.search(rf"your code changed \S*{re.escape(where)} \(in place\), which the grader", result.message)
    assert grading.FLOAT64 == Tolerance(1e-7, 1e-9) and lookup(COURSE, "mul").module.CASES == cases
    write_solution(workspace, name)
    assert grade(workspace, name).status == PASS  # nothing of the change is left behind


def test_a_patch_made_while_graded_that_would_undo_itself_fails(workspace):
    """The patch is put in place by the student's backward and takes itself out on its first call: the grader
    checks as soon as the student's code returns, before any of its own functions runs."""
    patch = ("import tinygen.exercises.grading as _g\n_compare = _g.compare\n\n\n"
             "def _quiet(*args, **kwargs):\n    _g.compare = _compare\n\n\n")
    write_solution(workspace, "relu", ("        return g * (x > 0).to(dtype=g.dtype)\n",
                                       "        _g.compare = _quiet\n        return g * 2.0\n"))
    (workspace / "relu.py").write_text(patch + (workspace / "relu.py").read_text())
    result = grade(workspace, "relu", isolate=True)
    assert (result.status, result.check) == (FAIL, "tampering"), result
    assert "tinygen.exercises.grading.compare" in result.message


def test_putting_ones_own_class_in_tinygens_place_fails_and_is_undone(workspace):
    """The grader binds the student's class in place of tinygen's itself; a file that does it too is told so, and
    tinygen's name is put back (it used to stay bound to the student's class after grading)."""
    write_solution(workspace, "relu", text=solution_text("relu") + "\n\nimport tinygen.ops.elementwise as _ops\n"
                                                                    "_ops.ReLU = ReLU\n")
    result = grade(workspace, "relu")
    assert (result.status, result.check) == (FAIL, "tampering"), result
    assert "tinygen.ops.elementwise.ReLU" in result.message and "the grader's job" in result.hints.direction
    assert elementwise.ReLU is RELU


#: wrong answers dressed so that a comparison would pass them (a probe of the tampering check)
DISGUISES = {
    "the exercise's own grader module": (
        "from tinygen.exercises import catalog\n"
        "for _exercise in list(catalog._loaded.values()):\n"
        "    _exercise.grade.__globals__['check_op_backward'] = lambda *args, **kwargs: None\n",
        "tampering", "check_op_backward"),
    "a module bound on a class": (
        "import types\nimport numpy\nfrom tinygen.backend.numpy_backend import NumpyBackend\n\n\n"
        "class _Numpy(types.ModuleType):\n    def __getattr__(self, name):\n        return getattr(numpy, name)\n\n"
        "    @staticmethod\n    def isfinite(a, *args, **kwargs):\n        return numpy.zeros(numpy.shape(a), bool)\n\n"
        "    @staticmethod\n    def isnan(a, *args, **kwargs):\n        return numpy.ones(numpy.shape(a), bool)\n\n\n"
        "NumpyBackend.xp = _Numpy('numpy')\n",
        "tampering", "tinygen.backend.numpy_backend.NumpyBackend.xp"),
}


@pytest.mark.parametrize("how", sorted(DISGUISES))
def test_a_wrong_answer_in_disguise_fails(workspace, how):
    patch, check, named = DISGUISES[how]
    xp = tinygen.backend.get_backend("cpu").xp
    write_solution(workspace, "relu", _WRONG_RELU)
    (workspace / "relu.py").write_text(patch + (workspace / "relu.py").read_text())
    result = grade(workspace, "relu")
    assert (result.status, result.check) == (FAIL, check), result
    assert named in result.message
    assert tinygen.backend.get_backend("cpu").xp is xp  # put back
    if "catalog" in patch:  # `from tinygen.exercises import catalog` is pointed out for review too
        assert "the grader's modules" in result.review


def test_an_answer_whose_arrays_agree_with_anything_is_compared_as_plain_numbers(workspace):
    """A gradient held in an ndarray subclass whose __array_ufunc__ said 'equal' and 'finite' to every comparison
    passed, second derivatives included: the grader compares plain copies."""
    agreeable = (
        "import numpy as np\nfrom tinygen.tensor import Tensor\n\n\nclass Agreeable(np.ndarray):\n"
        "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n"
        "        plain = [np.asarray(x) if isinstance(x, np.ndarray) else x for x in inputs]\n"
        "        result = getattr(ufunc, method)(*plain, **kwargs)\n"
        "        if ufunc is np.isfinite:\n            return np.zeros(result.shape, bool)\n"
        "        if ufunc is np.equal:\n            return np.ones(result.shape, bool)\n"
        "        return result.view(Agreeable) if isinstance(result, np.ndarray) else result\n\n\n")
    write_solution(workspace, "tanh", ("        return g * (1.0 - y * y)\n",
                                       "        one = Tensor._make(np.ones((), dtype=g.array.dtype).view(Agreeable), "
                                       "g.backend)\n        return g * (1.0 - y) * one\n"))
    (workspace / "tanh.py").write_text(agreeable + (workspace / "tanh.py").read_text())
    result = grade(workspace, "tanh")
    assert result.status == FAIL, result
    if tinygen.get_default_device() == "cpu":  # elsewhere NumPy's subclass does not even mix with the arrays
        assert "is wrong at index" in result.message, result


CHANGES = {  # what comes between two guards, then rebound by the second guard's "student"
    "a function added to a module": (arithmetic, "_added", lambda: "tinygen's"),
    "a number replaced by a function": (arithmetic, "_PYTHON_NUMBERS", lambda: "tinygen's"),
    "a class added to a module": (arithmetic, "_Added", type("_Added", (), {"__module__": arithmetic.__name__,
                                                                           "method": lambda self: "tinygen's"})),
    "a module imported": (types.ModuleType("tinygen.imported_since"), "function", lambda: "tinygen's"),
    "a function rebound": (arithmetic, "_tensor_and_number", lambda: "tinygen's"),
}


@pytest.mark.parametrize("what", CHANGES)
def test_a_guard_notes_what_changed_since_the_last_one(monkeypatch, what):
    """The guards of one process share what they note while the library is as it was (``honesty.Library``); what
    changes in between is noted by the next guard, so rebinding it while armed is tampering."""
    module, name, value = CHANGES[what]
    with honesty.Guard():
        pass
    monkeypatch.setattr(module, name, value, raising=False)
    if module.__name__ not in sys.modules:
        monkeypatch.setitem(sys.modules, module.__name__, module)
    with honesty.Guard() as guard:
        if isinstance(value, type):
            value.method, name = (lambda self: "the student's"), f"{name}.method"
        else:
            setattr(module, name, lambda: "the student's")
        with pytest.raises(honesty.Tampering, match=f"your code changed {module.__name__}.{name},"):
            honesty.check_untouched()
    assert guard.tampered and getattr(module, CHANGES[what][1]) is value  # put back
    assert (value().method() if isinstance(value, type) else value()) == "tinygen's"


def test_guards_share_what_they_note_while_nothing_changes():
    with honesty.Guard():
        pass
    noted = honesty.library_snapshot()
    with honesty.Guard() as guard:
        assert guard._bindings is noted
    assert honesty.library_snapshot() is noted
