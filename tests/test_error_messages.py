"""Bad input across the public API gets a clear error: one row per class of mistake (wrong shape, dtype, device,
argument, type), each with the exception type and a message that names the op and says what it got and what it
expected. None of them may come out of NumPy's internals: the innermost frame must be tinygen's own check."""
import os

import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen import nn, optim
from tinygen.autograd import DeviceMismatchError
from tinygen.cli import main
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist, random_split, train_test_split
from tinygen.serialization import load, save
from tinygen.training import TrainConfig

OTHER_DEVICE = "cpu" if tinygen.get_default_device() == "strict" else "strict"


def x(*shape):
    return tinygen.randn(*(shape or (2, 3)))


def elsewhere(*shape):
    return tinygen.randn(*(shape or (2, 3)), device=OTHER_DEVICE)


def images(*shape):
    return tinygen.randn(*(shape or (2, 1, 8, 8)))


def params():
    return nn.Linear(2, 2).parameters()


DEVICES = rf"got '\w+' and '\w+'; move one with .to\('\w+'\) or .to\('\w+'\)"

# name -> (call, exception type, message regex)
CASES = {
    # --- tensor ops: shapes ---
    "add_shapes": (lambda: x() + x(4), ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast together"),
    "where_shapes": (lambda: tinygen.where(x() > 0, x(), x(4)), ValueError, r"where: shapes .* cannot be broadcast"),
    "matmul_inner_sizes": (lambda: x() @ x(), ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) do not fit: the inner "
                                                         r"sizes 3 and 2 differ"),
    "matmul_0d": (lambda: x() @ tinygen.tensor(2.0), ValueError, r"matmul: both operands need at least one dimension"),
    "reshape_size": (lambda: x().reshape(4, 2), ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\) "
                                                            r"\(6 elements\) into \(4, 2\)"),
    "view_non_contiguous": (lambda: x().T.view(6), RuntimeError,
                            r"view: the tensor of shape \(3, 2\) \(strides \(1, 3\)\) cannot be viewed as \(6,\)"),
    "permute_dims": (lambda: x().permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a permutation"),
    "expand_shape": (lambda: x().expand(3, 3), ValueError, r"broadcast_to: a tensor of shape \(2, 3\) cannot be "
                                                           r"broadcast to shape \(3, 3\)"),
    "cat_shapes": (lambda: tinygen.cat([x(), x(2, 4)]), ValueError,
                   r"cat: shapes \[\(2, 3\), \(2, 4\)\] differ outside "
                                                                   r"dim 0"),
    "stack_shapes": (lambda: tinygen.stack([x(), x(3, 2)]), ValueError, r"stack: all tensors must have one shape"),
    "gather_index_shape": (lambda: x().gather(1, tinygen.zeros(3, 3, dtype=tinygen.int64)), ValueError,
                           r"gather: index shape \(3, 3\) must match input shape \(2, 3\) in every dim but 1"),
    "index_out_of_range": (lambda: x()[5], IndexError, r"getitem: index 5 is out of range for dimension 0 of size 2"),
    "mask_shape": (lambda: x()[tinygen.tensor([True, False, True])], IndexError,
                   r"getitem: boolean mask of shape \(3,\) does not match the indexed dimensions \(2,\)"),
    "too_many_indices": (lambda: x()[0, 0, 0], IndexError, r"getitem: too many indices \(3\) for a tensor of shape"),
    "gather_out_of_range": (lambda: x().gather(1, tinygen.full((2, 3), 5)), IndexError,
                            r"gather: index values must be in \[0, 3\) for dim 1"),
    "empty_max": (lambda: tinygen.zeros(0, 3).amax(0), ValueError,
                  r"amax: cannot take the max over dimension 0 of size 0"),
    "empty_argmax": (lambda: tinygen.zeros(0).argmax(), ValueError, r"argmax: cannot take the max over dimension 0"),
    # --- tensor ops: dims and arguments ---
    "dim_out_of_range": (lambda: x().sum(5), IndexError, r"sum: dim 5 is out of range for a tensor with 2 dimensions"),
    "dim_type": (lambda: x().sum(1.0), TypeError, r"sum: dim must be an int, a tuple of ints or None, got float"),
    "dim_repeated": (lambda: x().sum((0, -2)), ValueError, r"sum: dim \(0, -2\) repeats a dimension"),
    "softmax_dim": (lambda: F.softmax(x(), 3), IndexError, r"softmax: dim 3 is out of range"),
    "clamp_bounds": (lambda: x().clamp(2, 1), ValueError, r"clamp: min 2 is greater than max 1"),
    "clamp_bound_type": (lambda: x().clamp("0.5"), TypeError, r"clamp: min must be a real number, got str"),
    "slope_type": (lambda: F.leaky_relu(x(), "0.2"), TypeError, r"leaky_relu: negative_slope must be a real number"),
    "softplus_beta": (lambda: F.softplus(x(), beta=0), ValueError, r"softplus: beta must be positive, got 0"),
    "flatten_dims": (lambda: x().flatten(1, 0), ValueError, r"flatten: start_dim 1 comes after end_dim 0"),
    # --- tensor ops: dtypes and types ---
    "operand_type": (lambda: x() + "a", TypeError, r"add: expected a tensor or a real number, got str"),
    "operand_list": (lambda: x() * [1, 2, 3], TypeError, r"mul: expected a tensor or a real number, got list"),
    "numpy_array_operand": (lambda: np.ones(3) * x(), TypeError, r"mul: got a numpy.ndarray \(host memory\) next to a "
                                                                 r"tensor on .*tinygen.tensor\(array, device="),
    "function_of_non_tensor": (lambda: tinygen.exp([1.0]), TypeError, r"exp: expected input to be a Tensor, got list"),
    "cat_element": (lambda: tinygen.cat([x(), 1]), TypeError, r"cat: expected every element to be a Tensor, got int"),
    "stack_element": (lambda: tinygen.stack([x(), [1]]), TypeError, r"stack: expected every element to be a Tensor"),
    "where_condition": (lambda: tinygen.where(x(), x(), x()), TypeError, r"where: condition must be a boolean tensor"),
    "gather_index_dtype": (lambda: x().gather(1, tinygen.zeros(2, 3)), ValueError,
                           r"gather: index must be an integer tensor with 2 dims"),
    "float_index": (lambda: x()[1.5], IndexError, r"getitem: unsupported index 1.5 of type float"),
    "requires_grad_int": (lambda: tinygen.tensor([1, 2], requires_grad=True), TypeError,
                          r"tensor\(\): only floating-point tensors can require grad, got dtype int64"),
    "tensor_from_strings": (lambda: tinygen.tensor(["a"]), TypeError, r"tensor\(\): unsupported dtype <U1"),
    "ragged_list": (lambda: tinygen.tensor([[1, 2], [3]]), TypeError, r"tensor\(\): cannot make a tensor from list"),
    "numpy_ufunc": (lambda: np.exp(x()), TypeError, r"operand 'Tensor' does not support ufuncs"),
    "item_of_many": (lambda: x().item(), ValueError,
                     r"item\(\): the tensor has 6 elements \(shape \(2, 3\)\); expected one"),
    "bool_of_many": (lambda: bool(x()), RuntimeError, r"the truth value of a tensor with 6 elements is ambiguous"),
    # --- devices ---
    "add_devices": (lambda: x() + elsewhere(), DeviceMismatchError,
                    rf"add: expected all tensors on one device, {DEVICES}"),
    "matmul_devices": (lambda: x() @ elsewhere(3, 2), DeviceMismatchError, rf"matmul: .*{DEVICES}"),
    "cat_devices": (lambda: tinygen.cat([x(), elsewhere()]), DeviceMismatchError, rf"cat: .*{DEVICES}"),
    "linear_devices": (lambda: F.linear(x(), elsewhere(2, 3)), DeviceMismatchError, rf"linear: .*{DEVICES}"),
    "conv_devices": (lambda: F.conv2d(images(), elsewhere(1, 1, 3, 3)), DeviceMismatchError, rf"conv2d: .*{DEVICES}"),
    "batch_norm_devices": (lambda: nn.BatchNorm2d(1).to(OTHER_DEVICE)(images()), DeviceMismatchError,
                           rf"batch_norm: .*{DEVICES}"),
    "loss_devices": (lambda: F.mse_loss(x(), elsewhere()), DeviceMismatchError, rf"mse_loss: .*{DEVICES}"),
    "target_devices": (lambda: F.cross_entropy(x(), tinygen.tensor([0, 1], device=OTHER_DEVICE)), DeviceMismatchError,
                       rf"cross_entropy: .*{DEVICES}"),
    "gradient_device": (lambda: tinygen.randn(2, requires_grad=True).exp().backward(elsewhere(2)), RuntimeError,
                        r"backward: gradient 0 is on '\w+' but the output is on '\w+'"),
    "implicit_host_copy": (lambda: np.asarray(tinygen.ones(2, device="strict")), TypeError,
                           r"NumPy cannot read this tensor implicitly \(it is on 'strict'\); "
                           r"use x.detach\(\).numpy\(\)"),
    "unknown_device": (lambda: tinygen.ones(2, device="tpu"), ValueError,
                       r"unknown device 'tpu': expected one of 'cpu', 'cuda', 'strict'"),
    "second_gpu": (lambda: tinygen.ones(2, device="cuda:1"), ValueError,
                   r"tinygen uses one GPU, 'cuda' \(or 'cuda:0'\)"),
    "to_neither": (lambda: x().to("float17"), ValueError, r"to: 'float17' is neither a device .* nor a dtype"),
    "unknown_dtype": (lambda: tinygen.tensor([1.0], dtype="float17"), TypeError, r"unknown dtype 'float17'"),
    # --- autograd ---
    "backward_non_scalar": (lambda: tinygen.randn(3, requires_grad=True).exp().backward(), RuntimeError,
                            r"backward: output 0 has shape \(3,\); a gradient can be implied only for a one-element"),
    "backward_no_graph": (lambda: x().backward(), RuntimeError, r"backward: output 0 .* does not require grad"),
    "gradient_shape": (lambda: tinygen.randn(3, requires_grad=True).exp().backward(x(2)), RuntimeError,
                       r"backward: gradient 0 has shape \(2,\) but the output has shape \(3,\)"),
    "grad_unused": (lambda: tinygen.grad(x(3).requires_grad_().sum(), x(2).requires_grad_()),
                    RuntimeError, r"grad: input 0 \(shape \(2,\)\) was not used to compute the outputs"),
    "numpy_of_graph_tensor": (lambda: tinygen.randn(2, requires_grad=True).numpy(), RuntimeError,
                              r"numpy\(\): the tensor requires grad; call .detach\(\).numpy\(\)"),
    "in_place_on_leaf": (lambda: tinygen.randn(2, requires_grad=True).add_(1), RuntimeError,
                         r"add_: in-place change of a tensor that requires grad is not allowed"),
    # --- creation ---
    "negative_size": (lambda: tinygen.zeros(-1), ValueError,
                      r"zeros\(\): sizes must be non-negative integers, got \(-1,\)"),
    "float_size": (lambda: tinygen.randn(2.5), ValueError, r"randn\(\): sizes must be non-negative integers"),
    "fill_value": (lambda: tinygen.full((2,), "a"), TypeError,
                   r"full\(\): fill_value must be a number or a bool, got str"),
    "like_of_non_tensor": (lambda: tinygen.zeros_like([1, 2]), TypeError, r"zeros_like\(\): expected a Tensor"),
    "eye_size": (lambda: tinygen.eye(-1), ValueError, r"eye\(\): n must be a non-negative integer, got -1"),
    "randperm_size": (lambda: tinygen.randperm(-1), ValueError, r"randperm\(\): n must be a non-negative integer"),
    "randint_size": (lambda: tinygen.randint(0, 5, 3), TypeError, r"randint\(\): size must be a tuple of ints"),
    "arange_step": (lambda: tinygen.arange(0, 5, 0), ValueError, r"arange\(\): step must be non-zero"),
    "seed": (lambda: tinygen.manual_seed(-1), ValueError, r"manual_seed: expected a non-negative integer seed, got -1"),
    "generator_seed": (lambda: tinygen.Generator("cpu", seed=1.5), ValueError, r"Generator: expected a non-negative"),
    # --- nn layers ---
    "linear_in_features": (lambda: nn.Linear(4, 2)(x()), ValueError,
                           r"linear: input of shape \(2, 3\) does not fit weight of shape \(2, 4\): expected input "
                           r"\(\*, 4\)"),
    "linear_dtype": (lambda: nn.Linear(3, 2)(x().double()), TypeError,
                     r"linear: expected input, weight and bias of one floating dtype, got weight of dtype float32 "
                     r"with input of dtype float64"),
    "linear_int_input": (lambda: nn.Linear(3, 2)(tinygen.ones(2, 3, dtype=tinygen.int64)), TypeError,
                         r"linear: expected a floating-point input, got dtype int64"),
    "layer_size": (lambda: nn.Linear(3.5, 2), ValueError,
                   r"Linear: in_features must be a non-negative integer, got 3.5"),
    "conv_channels": (lambda: nn.Conv2d(3, 4, 3)(images()), ValueError,
                      r"Conv2d\(3, 4, .*\): the weight of shape \(4, 3, 3, 3\) expects 3 input channels, but the input "
                      r"of shape \(2, 1, 8, 8\) has 1"),
    "conv_transpose_channels": (lambda: nn.ConvTranspose2d(3, 4, 3)(images()), ValueError,
                                r"ConvTranspose2d\(3, 4, .*\): the weight of shape \(3, 4, 3, 3\) expects 3 input "
                                r"channels"),
    "conv_input_too_small": (lambda: nn.Conv2d(1, 4, 5)(images(1, 1, 3, 3)), ValueError,
                             r"the kernel \(5, 5\) .* is larger than the padded input \(3, 3\)"),
    "conv_dtype": (lambda: nn.Conv2d(1, 2, 3)(images().double()), TypeError,
                   r"input, weight and bias must share one floating-point dtype, got input float64, weight float32"),
    "conv_rank": (lambda: F.conv2d(x(), tinygen.ones(1, 1, 3, 3)), ValueError,
                  r"conv2d: expected a 4-D input \(N, C, H, W\)"),
    "conv_stride": (lambda: nn.Conv2d(1, 4, 3, stride=0), ValueError, r"Conv2d: stride must be positive, got 0"),
    "conv_padding": (lambda: F.conv2d(images(), tinygen.ones(2, 1, 3, 3), padding="full"), ValueError,
                     r"conv2d: padding must be an int, a pair, 'valid' or 'same', got 'full'"),
    "conv_groups": (lambda: F.conv2d(images(), tinygen.ones(2, 1, 3, 3), groups=2), NotImplementedError,
                    r"conv2d: groups=2 is not supported"),
    "batch_norm_channels": (lambda: nn.BatchNorm2d(3)(images()), ValueError,
                            r"BatchNorm2d: expected 3 channels on dim 1 \(num_features\), got input of shape "
                            r"\(2, 1, 8, 8\)"),
    "batch_norm_rank": (lambda: nn.BatchNorm2d(3)(x()), ValueError, r"BatchNorm2d: expected 4D input, got 2D input"),
    "batch_norm_single_value": (lambda: nn.BatchNorm1d(3)(x(1, 3)), ValueError,
                                r"batch_norm: expected more than 1 value per channel when training"),
    "pool_window": (lambda: F.max_pool2d(images(), 10), ValueError,
                    r"max_pool2d: the input of shape \(2, 1, 8, 8\) is smaller than one window"),
    "pool_padding": (lambda: F.avg_pool2d(images(), 2, padding=2), ValueError,
                     r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size"),
    "interpolate_arguments": (lambda: F.interpolate(images()), ValueError,
                              r"interpolate: give exactly one of size and scale_factor"),
    "interpolate_mode": (lambda: F.interpolate(images(), scale_factor=2, mode="bicubic"), NotImplementedError,
                         r"interpolate: mode 'bicubic' is not supported; tinygen has 'nearest' and 'bilinear'"),
    "dropout_probability": (lambda: nn.Dropout(1.5), ValueError,
                            r"Dropout: p must be a probability in \[0, 1\], got 1.5"),
    "unflatten_sizes": (lambda: nn.Unflatten(1, (2, 2))(x()), ValueError,
                        r"Unflatten: dim 1 of the input \(shape \(2, 3\)\) has size 3, which cannot be split into "
                        r"\(2, 2\)"),
    "sequential_element": (lambda: nn.Sequential(nn.Linear(3, 2), 5), TypeError,
                           r"Sequential: expected Modules, got int"),
    "parameter_assignment": (lambda: setattr(nn.Linear(2, 2), "weight", x(2, 2)), TypeError,
                             r"Linear.weight is a parameter: assign a Parameter or None, got Tensor"),
    "integer_parameter": (lambda: nn.Parameter(tinygen.ones(2, dtype=tinygen.int64)), TypeError,
                          r"Parameter: only floating-point tensors can be parameters"),
    "init_rank": (lambda: nn.init.kaiming_uniform_(x(3)), ValueError,
                  r"kaiming_uniform_: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions"),
    "init_target": (lambda: nn.init.normal_(np.ones(2)), TypeError, r"normal_: expected a Tensor, got ndarray"),
    "load_state_dict_shapes": (lambda: nn.Linear(2, 3).load_state_dict(nn.Linear(2, 2).state_dict()), RuntimeError,
                               r"load_state_dict into Linear failed:\n  shape mismatches:\n    weight \(Linear\): the "
                               r"checkpoint has shape \(2, 2\), this model has \(3, 2\)"),
    "load_state_dict_type": (lambda: nn.Linear(2, 2).load_state_dict([1]), TypeError,
                             r"load_state_dict into Linear: expected a dict of tensors"),
    # --- losses ---
    "loss_shapes": (lambda: F.mse_loss(x(), x(3, 2)), ValueError,
                    r"mse_loss: input shape \(2, 3\) and target shape \(3, 2\) differ; losses don't broadcast"),
    "loss_broadcast_trap": (lambda: F.binary_cross_entropy_with_logits(x(4, 1), x(4)), ValueError,
                            r"input shape \(4, 1\) and target shape \(4,\) differ"),
    "loss_reduction": (lambda: F.mse_loss(x(), x(), reduction="avg"), ValueError,
                       r"mse_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
    "loss_dtype": (lambda: F.mse_loss(tinygen.ones(3, dtype=tinygen.int64), tinygen.ones(3)), TypeError,
                   r"mse_loss: expected input to be a floating-point tensor, got dtype int64"),
    "loss_target_type": (lambda: F.mse_loss(x(), 1.0), TypeError,
                         r"mse_loss: expected target to be a Tensor, got float"),
    "bce_probabilities": (lambda: F.binary_cross_entropy(x() + 2.0, x().sigmoid()), ValueError,
                          r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"
                          r".*binary_cross_entropy_with_logits"),
    "bce_weight_shape": (lambda: F.binary_cross_entropy_with_logits(x(), x(), weight=x(4)), ValueError,
                         r"binary_cross_entropy_with_logits \(weight\): a tensor of shape \(4,\) cannot be broadcast"),
    "class_index_dtype": (lambda: F.cross_entropy(x(), tinygen.zeros(2)), TypeError,
                          r"cross_entropy: target must hold integer class indices, got dtype float32"),
    "class_index_range": (lambda: F.cross_entropy(x(), tinygen.tensor([0, 5])), ValueError,
                          r"cross_entropy: class indices must be in \[0, 3\)"),
    "gan_loss_kind": (lambda: F.discriminator_loss(x(), x(), "wgan"), ValueError,
                      r"discriminator_loss: kind must be one of 'nonsaturating', 'minimax', 'wasserstein', 'hinge'"),
    "critic_output": (lambda: F.gradient_penalty(lambda z: z, x(), x()), ValueError,
                      r"gradient_penalty: the critic must return one score per sample, shape \(2,\) or \(2, 1\); "
                      r"got \(2, 3\)"),
    "kl_shapes": (lambda: F.gaussian_kl(x(), x(2, 4)), ValueError,
                  r"gaussian_kl: mu shape \(2, 3\) and logvar shape \(2, 4\) must match"),
    "elbo_likelihood": (lambda: F.elbo(x(), x(), x(), x(), likelihood="poisson"), ValueError,
                        r"elbo: likelihood must be one of 'bernoulli', 'gaussian', got 'poisson'"),
    # --- optimizers ---
    "learning_rate": (lambda: optim.Adam(params(), lr=-1), ValueError,
                      r"Adam: invalid learning rate -1 \(must be >= 0\)"),
    "learning_rate_type": (lambda: optim.SGD(params(), lr="0.1"), TypeError, r"SGD: lr must be a number, got '0.1'"),
    "betas": (lambda: optim.Adam(params(), betas=0.9), ValueError,
              r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
    "beta_range": (lambda: optim.Adam(params(), betas=(1.5, 0.9)), ValueError,
                   r"invalid beta parameter at index 0: 1.5"),
    "optimizer_of_a_module": (lambda: optim.Adam(nn.Linear(2, 2)), TypeError,
                              r"Adam: params must be an iterable of Tensors \(e.g. model.parameters\(\)\)"),
    "optimizer_of_one_tensor": (lambda: optim.Adam(x(2).requires_grad_()), TypeError,
                                r"got a single Tensor; wrap it in a list"),
    "optimizer_of_nothing": (lambda: optim.Adam([]), ValueError, r"Adam got an empty parameter list"),
    "frozen_parameter": (lambda: optim.Adam([x(2)]), ValueError,
                         r"Adam: a parameter of shape \(2,\) .* does not require grad"),
    "non_leaf_parameter": (lambda: optim.Adam([x(2).requires_grad_() * 2]), ValueError,
                           r"Adam: can't optimize a non-leaf tensor"),
    "repeated_parameter": (lambda: optim.Adam([nn.Linear(2, 2).weight] * 2), ValueError,
                           r"Adam: a parameter appears more than once"),
    "unknown_option": (lambda: optim.Adam([{"params": params(), "lrr": 0.1}]), ValueError,
                       r"Adam: unknown option\(s\) \['lrr'\]"),
    "scheduler_of_a_module": (lambda: optim.lr_scheduler.StepLR(nn.Linear(2, 2), 1), TypeError,
                              r"StepLR: expected an Optimizer, got Linear"),
    "optimizer_state": (lambda: optim.Adam(params()).load_state_dict({"state": {}}), ValueError,
                        r"Adam.load_state_dict: expected a dict with 'state' \(a dict\) and 'param_groups' \(a list\)"),
    # --- data ---
    "batch_size": (lambda: DataLoader(TensorDataset(x()), batch_size=0), ValueError,
                   r"DataLoader: batch_size must be a positive integer, got 0"),
    "not_a_dataset": (lambda: DataLoader([1, 2, 3], batch_size=2), TypeError,
                      r"DataLoader: the dataset \(list\) must give a batch for dataset\[indices\]"),
    "empty_dataset": (lambda: DataLoader(TensorDataset(tinygen.zeros(0, 3))), ValueError,
                      r"DataLoader: the dataset is empty"),
    "dataset_lengths": (lambda: TensorDataset(x(), x(3)), ValueError,
                        r"TensorDataset: tensors must have one length \(first dimension\), got shapes "
                        r"\[\(2, 3\), \(3,\)\]"),
    "dataset_of_arrays": (lambda: TensorDataset(np.ones(3)), TypeError, r"TensorDataset: argument 0 must be a tensor"),
    "split_lengths": (lambda: random_split(TensorDataset(x()), [1, 2]), ValueError,
                      r"random_split: lengths \[1, 2\] must be non-negative and add up to the dataset's 2"),
    "test_size": (lambda: train_test_split(TensorDataset(x()), 0.01), ValueError,
                  r"train_test_split: test_size 0.01 leaves 0 of 2 samples for testing"),
    "pixel_range": (lambda: ScalePixels(1, 0), ValueError, r"ScalePixels: need low < high, got low=1, high=0"),
    "mnist_split": (lambda: load_mnist("validation"), ValueError, r"load_mnist: split must be 'train' or 'test'"),
    # --- serialization ---
    "unsaveable_value": (lambda: save({"a": [object()]}, "unused.npz"), TypeError,
                         r"save: cannot store a builtins.object at the top level\['a'\]\[0\]"),
    "save_directory": (lambda: save({}, os.path.join("no", "such", "dir", "x.npz")), FileNotFoundError,
                       r"cannot write .*: the directory .* does not exist"),
    "load_missing": (lambda: load("no_such_checkpoint.npz"), FileNotFoundError, r"load: no checkpoint at"),
    "load_device": (lambda: load("no_such_checkpoint.npz", map_location="tpu"), ValueError, r"unknown device 'tpu'"),
    # --- training settings ---
    "model_name": (lambda: TrainConfig(model="gann"), ValueError, r"unknown model 'gann': choose one of gan, dcgan"),
    "config_integer": (lambda: TrainConfig(model="toy", epochs=1.5), ValueError,
                       r"epochs must be a positive integer, got 1.5"),
    "config_number": (lambda: TrainConfig(model="toy", lr="fast"), ValueError,
                      r"lr must be a positive number, got 'fast'"),
    "config_betas": (lambda: TrainConfig(model="toy", betas=0.5), ValueError,
                     r"betas must be a pair of numbers in \[0, 1\)"),
    "config_weights": (lambda: TrainConfig(model="vae", beta=-1.0), ValueError, r"beta must be a non-negative number"),
    "config_device": (lambda: TrainConfig(model="toy", device="tpu"), ValueError, r"unknown device 'tpu'"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_a_clear_error_from_tinygen_itself(name, tmp_path, monkeypatch):
    call, error_type, message = CASES[name]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error_type, match=message) as raised:
        call()
    innermost = str(raised.traceback[-1].path)
    assert f"{os.sep}numpy{os.sep}" not in innermost, f"the error came out of NumPy ({innermost}): {raised.value}"


def test_misspelled_attributes_get_pythons_own_error():
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'matmaul'"):
        x().matmaul(x())
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght


# --- the command line: one line, exit code 2, never a traceback -----------------------------------------------------

@pytest.mark.parametrize("arguments, message", [
    (["train", "toy", "--lr", "-1"], "lr must be a positive number, got -1.0"),
    (["train", "toy", "--seed", "-3"], "seed must be a non-negative integer, got -3"),
    (["train", "toy", "--latent-dim", "0"], "latent_dim must be a positive integer, got 0"),
    (["train", "vae", "--beta", "-1"], "beta must be a non-negative number, got -1.0"),
    (["train", "toy", "--resume"], "no checkpoint at"),
    (["sample", "checkpoint.npz", "--n", "0"], "--n must be at least 1, got 0"),
    (["sample", "not_a_checkpoint.txt"], "is not a readable tinygen checkpoint: it is not a whole .npz (zip) archive"),
    (["sample", "state_dict.npz"], "is a tinygen file but not a training checkpoint"),
])
def test_bad_command_lines_are_one_clear_line(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not_a_checkpoint.txt").write_text("hello")
    save(nn.Linear(2, 2).state_dict(), tmp_path / "state_dict.npz")
    if arguments[:2] == ["sample", "checkpoint.npz"]:
        assert main(["train", "toy", "--epochs", "1", "--subset", "256", "--out", ".", "--no-progress"]) == 0
        capsys.readouterr()
    extra = ["--out", str(tmp_path / "run"), "--no-progress"] if arguments[0] == "train" else []
    assert main(arguments + extra) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"tinygen {arguments[0]}: error: ") and message in error, error
    assert "Traceback" not in error and error.count("\n") == 1


def test_a_setting_of_the_wrong_type_in_a_checkpoint_is_one_clear_line(tmp_path, capsys):
    assert main(["train", "toy", "--epochs", "1", "--subset", "256", "--out", str(tmp_path), "--no-progress"]) == 0
    checkpoint = load(tmp_path / "checkpoint.npz")
    checkpoint["config"]["betas"] = "fast"
    save(checkpoint, tmp_path / "checkpoint.npz")
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "checkpoint.npz")]) == 2
    assert "betas must be a pair of numbers in [0, 1), got 'fast'" in capsys.readouterr().err
