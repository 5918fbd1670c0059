"""Making tensors: dtype inference as PyTorch, copies, seeded random draws, argument errors."""
import numpy as np
import pytest

import tinygen

from helpers import host


def test_dtype_inference_follows_pytorch():
    assert tinygen.tensor([1.0, 2.0]).dtype == tinygen.float32
    assert tinygen.tensor([1, 2]).dtype == tinygen.int64
    assert tinygen.tensor([True]).dtype == tinygen.bool_
    assert tinygen.tensor(np.zeros(2)).dtype == tinygen.float64, "a NumPy array keeps its dtype"
    assert tinygen.tensor([1, 2], dtype="float64").dtype == tinygen.float64
    assert tinygen.zeros(2, dtype=float).dtype == tinygen.float64, "Python float means float64, as in PyTorch"


def test_tensor_copies_its_input():
    source = np.zeros(3, dtype=np.float32)
    x = tinygen.tensor(source)
    source[0] = 7.0
    assert host(x)[0] == 0.0


def test_constructors():
    assert tinygen.zeros(2, 3).shape == (2, 3) and tinygen.zeros((2, 3)).shape == (2, 3)
    assert host(tinygen.ones(2)).tolist() == [1.0, 1.0]
    assert host(tinygen.full((2,), 3.5)).tolist() == [3.5, 3.5]
    assert tinygen.full((2,), 3).dtype == tinygen.int64
    assert host(tinygen.arange(4)).tolist() == [0, 1, 2, 3]
    assert tinygen.arange(0, 1, 0.25).dtype == tinygen.float32
    assert host(tinygen.linspace(0, 1, 3)).tolist() == [0.0, 0.5, 1.0]
    assert host(tinygen.eye(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = tinygen.randn(2, 3, dtype=tinygen.float64)
    for like in (tinygen.zeros_like(x), tinygen.ones_like(x), tinygen.full_like(x, 2.0), tinygen.randn_like(x)):
        assert like.shape == (2, 3) and like.dtype == tinygen.float64


def test_manual_seed_makes_draws_repeatable():
    tinygen.manual_seed(123)
    first = host(tinygen.randn(5)), host(tinygen.rand(5)), host(tinygen.randperm(5))
    tinygen.manual_seed(123)
    second = host(tinygen.randn(5)), host(tinygen.rand(5)), host(tinygen.randperm(5))
    for a, b in zip(first, second):
        assert np.array_equal(a, b)


def test_a_generator_is_independent_of_the_global_seed():
    generator = tinygen.Generator(seed=7)
    a = host(tinygen.randn(3, generator=generator))
    tinygen.manual_seed(0)
    b = host(tinygen.randn(3, generator=tinygen.Generator(seed=7)))
    assert np.array_equal(a, b)


def test_a_generators_host_integers_and_device_draws_are_not_one_stream():
    """One seed starts both a generator's host integers (shuffles, shifts: ``randint``) and its device draws (noise,
    dropout: ``rand``), but they must not be the same numbers: on the strict stand-in both came from one PCG64 state,
    so a host coin was always the opposite of ``rand() < 0.5`` (a VAE's shifted images were never moved up)."""
    generator = tinygen.Generator(seed=0)  # on the default device: the strict stand-in in its CI pass
    coins = generator.integers(0, 2, 10_000)
    uniforms = host(tinygen.rand(10_000, generator=generator))
    assert 0.45 < np.mean(coins == (uniforms < 0.5)) < 0.55


def test_random_draw_statistics():
    tinygen.manual_seed(0)
    normal = host(tinygen.randn(20000))
    uniform = host(tinygen.rand(20000))
    assert abs(normal.mean()) < 0.03 and abs(normal.std() - 1) < 0.03
    assert 0.0 <= uniform.min() and uniform.max() < 1.0 and abs(uniform.mean() - 0.5) < 0.01
    assert set(np.unique(host(tinygen.randint(0, 3, (1000,)))).tolist()) == {0, 1, 2}


def test_cpu_generator_state_round_trip():
    generator = tinygen.Generator("cpu", seed=3)
    tinygen.randn(4, generator=generator)
    state = generator.get_state()
    expected = host(tinygen.randn(4, generator=generator))
    generator.set_state(state)
    assert np.array_equal(host(tinygen.randn(4, generator=generator)), expected)


def test_a_rejected_seed_leaves_the_default_generators_usable(monkeypatch):
    with pytest.raises(ValueError, match="manual_seed: expected a non-negative integer seed"):
        tinygen.manual_seed(-3)
    monkeypatch.setattr(tinygen.random, "_default_generators", {})  # as for a device first used from now on
    assert tinygen.randn(2).shape == (2,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="zeros\\(\\): sizes must be non-negative integers"):
        tinygen.zeros(-1)
    with pytest.raises(ValueError, match="manual_seed: expected a non-negative integer seed"):
        tinygen.manual_seed(-3)
    with pytest.raises(TypeError, match="randn\\(\\): random floats need a floating dtype"):
        tinygen.randn(2, dtype=tinygen.int64)
    with pytest.raises(TypeError, match="tensor\\(\\): cannot make a tensor from"):
        tinygen.tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="randint\\(\\): need low < high"):
        tinygen.randint(3, 3, (2,))


@pytest.mark.parametrize("make, message", [
    (lambda: tinygen.full((2,), 2**63), r"full\(\): fill_value 9223372036854775808 does not fit dtype int64"),
    (lambda: tinygen.full((2,), 300, dtype=tinygen.uint8),
     r"full\(\): fill_value 300 does not fit dtype uint8 \(0 to 255\)"),
    (lambda: tinygen.full((2,), 10**400, dtype=tinygen.float32),
     r"full\(\): fill_value \(an int of 1329 bits\) does not fit dtype float32"),
    (lambda: tinygen.arange(2**70, 2**70 + 2), r"arange\(\): start 1180591620717411303424 does not fit dtype int64"),
    (lambda: tinygen.arange(0, 2**63), r"arange\(\): end 9223372036854775808 does not fit dtype int64"),
    (lambda: tinygen.tensor(2**63), r"tensor\(\): an int in the data does not fit int64"),
    (lambda: tinygen.ones(2).fill_(10**400), r"fill_: value \(an int of 1329 bits\) does not fit dtype float32"),
    (lambda: tinygen.zeros(2, dtype=tinygen.int64).fill_(-2**63 - 1),
     r"fill_: value -9223372036854775809 does not fit"),
])
def test_python_ints_beyond_the_dtype_are_refused_by_name(make, message):
    """NumPy would give such an int uint64 or object dtype, wrap it (NumPy 1) or fail with a message naming no op."""
    with pytest.raises(OverflowError, match=message):
        make()


def test_python_ints_at_the_edges_of_int64_and_python_numbers_take_pytorch_dtypes():
    assert host(tinygen.full((1,), -2**63)).tolist() == [-2**63]
    assert host(tinygen.tensor(2**63 - 1)).item() == 2**63 - 1
    assert tinygen.full((1,), 2**63, dtype=tinygen.float32).dtype == tinygen.float32
    assert tinygen.full((2,), True).dtype == tinygen.bool_
    assert tinygen.full((2,), np.int32(3)).dtype == tinygen.int32, "a NumPy scalar keeps its dtype"
    with pytest.raises(TypeError, match=r"tensor\(\): unsupported dtype object .*ints beyond int64"):
        tinygen.tensor([1, 2**70])
