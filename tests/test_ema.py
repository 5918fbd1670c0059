"""The exponential moving average of a model's weights: the update rule with its warm-up, buffers copied, the
average never trained, and its state for resuming."""
import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.optim import ExponentialMovingAverage
from tinygen.optim.ema import update_bn

from helpers import host


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_the_update_rule_with_its_warm_up():
    """a <- d_t a + (1 - d_t) p with d_t = min(decay, (1 + t) / (10 + t)), against the rule written in NumPy."""
    tinygen.manual_seed(0)
    model, average = _model(), _model()
    ema = ExponentialMovingAverage(model, average, decay=0.3)
    expected = {name: host(p).copy() for name, p in model.named_parameters()}
    for t in range(6):
        with tinygen.no_grad():
            for parameter in model.parameters():
                parameter.add_(tinygen.randn(*parameter.shape))
        decay = min(0.3, (1 + t) / (10 + t))
        assert ema.current_decay() == decay
        ema.update()
        for name, parameter in model.named_parameters():
            expected[name] = decay * expected[name] + (1 - decay) * host(parameter)
    assert ema.num_updates == 6
    for name, parameter in average.named_parameters():
        np.testing.assert_allclose(host(parameter), expected[name], rtol=1e-6, atol=1e-7)
    assert [min(0.999, (1 + t) / (10 + t)) for t in (0, 1000, 10_000)] == [0.1, 1001 / 1010, 0.999]


def test_the_average_starts_as_a_copy_is_never_trained_and_copies_buffers():
    tinygen.manual_seed(1)
    model, average = _model(), _model()
    ema = ExponentialMovingAverage(model, average)
    for (name, ours), theirs in zip(average.state_dict().items(), model.state_dict().values()):
        np.testing.assert_array_equal(host(ours), host(theirs), err_msg=name)
    assert not any(p.requires_grad for p in average.parameters())
    model(tinygen.randn(8, 3))  # training mode: batch norm's running statistics move
    ema.update()
    np.testing.assert_array_equal(host(average[1].running_mean), host(model[1].running_mean))
    assert int(average[1].num_batches_tracked.item()) == 1


def test_state_for_resuming():
    model = _model()
    ema = ExponentialMovingAverage(model, _model(), decay=0.99)
    for _ in range(3):
        ema.update()
    restored = ExponentialMovingAverage(model, _model(), decay=0.5)
    restored.load_state_dict(ema.state_dict())
    assert (restored.num_updates, restored.decay) == (3, 0.99)
    assert restored.current_decay() == ema.current_decay()


@pytest.mark.parametrize("call, error, message", [
    (lambda: ExponentialMovingAverage(_model(), _model(), decay=1.0), ValueError, r"decay must be in \[0, 1\)"),
    (lambda: ExponentialMovingAverage(_model(), "model"), TypeError, "must be Modules, got Sequential and str"),
    (lambda: ExponentialMovingAverage(_model(), nn.Linear(3, 4)), Exception, "unexpected|missing"),
])
def test_bad_arguments_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_update_bn_measures_the_statistics_of_the_models_own_activations():
    """Each batch norm's running mean and variance become the plain average over the batches of the batch
    statistics of the activations that reach it (unbiased variance, as batch norm keeps), whatever they were
    before; the modes and momenta are put back."""
    tinygen.manual_seed(3)
    model = _model().eval()
    model[1].running_mean.fill_(5.0)
    batches = [tinygen.randn(16, 3) for _ in range(3)]
    update_bn(batches, model)
    hidden = [host(model[0](batch)) for batch in batches]
    np.testing.assert_allclose(host(model[1].running_mean), np.mean([h.mean(axis=0) for h in hidden], axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(model[1].running_var), np.mean([h.var(axis=0, ddof=1) for h in hidden], axis=0),
                               rtol=1e-5)
    assert not model.training and not model[1].training and model[1].momentum == 0.1


def test_update_bn_leaves_a_model_without_batch_norm_alone():
    model = nn.Sequential(nn.Linear(2, 2))
    update_bn([tinygen.randn(4, 2)], model)
    assert model.training
