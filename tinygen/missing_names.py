"""What tinygen says about a PyTorch name it does not have: that it does not have it, and what to use instead.

Each public namespace (``tinygen``, ``tinygen.nn``, ``tinygen.nn.functional``, ``tinygen.optim`` ...) and
``Tensor`` end their attribute lookup here, through a module-level ``__getattr__``:

    >>> tinygen.compile(model)
    AttributeError: tinygen has no 'compile' (PyTorch's torch.compile): tinygen runs every op as written; ...

For a PyTorch name listed here the error carries its ``name`` but no ``obj``, so Python does not append its
own guess, which for a PyTorch name is a different thing altogether ("Did you mean: 'Conv2d'?" for
``nn.Conv3d``). Any other name is most likely a typo: Python fills in both and its guess stays
("Did you mean: 'matmul'?" for ``x.matmaul``).
"""

__all__ = ["error", "module_getattr"]

_TENSOR_TYPES = "tinygen.float16/float32/float64, int32, int64, uint8, bool"

#: namespace -> {name: what to use instead}
HINTS = {
    "tinygen": {
        "set_default_dtype": "tinygen's default float dtype is float32; pass dtype=tinygen.float64 when making "
                             "tensors and convert models with model.double()",
        "compile": "tinygen runs every op as written; use the model itself",
        "jit": "there is no TorchScript; use the model itself",
        "einsum": "write it with matmul, sum and broadcasting",
        "bernoulli": "use (tinygen.rand(*shape) < p).float()",
        "normal": "use tinygen.randn(*shape) * std + mean",
        "multinomial": "draw on the host with NumPy, then tinygen.tensor(...)",
        "distributions": "draw with tinygen.randn / tinygen.rand and write the log-density with tinygen's ops",
        "bfloat16": f"tinygen has {_TENSOR_TYPES}",
        "cfloat": f"tinygen has {_TENSOR_TYPES}",
        "complex64": f"tinygen has {_TENSOR_TYPES}",
        "int8": f"tinygen has {_TENSOR_TYPES}",
        "int16": f"tinygen has {_TENSOR_TYPES}",
        "sparse": "tinygen's tensors are dense",
        "mps": "tinygen's devices are 'cpu', 'cuda' (through CuPy) and 'strict' (a CPU stand-in for testing)",
        "hub": "load weights you saved with tinygen.save; tinygen fetches nothing at run time",
        "onnx": "tinygen does not export models",
        "linalg": "tinygen.norm(x, p, dim, keepdim) gives linalg.norm and vector_norm; matmul the products",
        "use_deterministic_algorithms": "tinygen's CPU ops are deterministic and tinygen.manual_seed fixes every draw; "
                                        "drop the call",
        "set_float32_matmul_precision": "tinygen's matmuls run at the tensors' precision; drop the call",
        "get_rng_state": "tinygen.random.default_generator().get_state() (set_state to restore)",
        "set_rng_state": "tinygen.random.default_generator().set_state(state)",
        "set_printoptions": "print x.numpy() under numpy.printoptions(...)",
    },
    "nn": {
        "Conv3d": "tinygen's convolutions are Conv1d, Conv2d and ConvTranspose2d",
        **{name: "tinygen has no recurrent layers; write the cell with nn.Linear and a loop over time"
           for name in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")},
        **{name: "build it from nn.Linear, nn.LayerNorm and F.scaled_dot_product_attention"
           for name in ("MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
                        "TransformerDecoder", "TransformerDecoderLayer")},
    },
    "nn.functional": {
        "rrelu": "use F.leaky_relu: rrelu in eval mode is leaky_relu with slope (lower + upper) / 2 (its random "
                 "slopes while training are not drawn)",
    },
    "optim": {
        name: "tinygen's optimizers are SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta"
        for name in ("LBFGS", "SparseAdam", "RAdam", "NAdam", "Adamax", "ASGD", "Rprop")
    },
    "nn.utils": {
        "rnn": "pad sequences to one length with F.pad and tinygen.stack (tinygen has no recurrent layers to pack for)",
        "parameters_to_vector": "tinygen.cat([p.reshape(-1) for p in parameters])",
        "vector_to_parameters": "copy slices of the vector into each parameter under tinygen.no_grad()",
        "weight_norm": "tinygen has nn.utils.spectral_norm; write w = g * v / v.norm() in the module's forward",
        "clip_grad_norm": "use nn.utils.clip_grad_norm_ (the old spelling is deprecated in PyTorch)",
    },
    "optim.lr_scheduler": {
        name: "write the schedule as a LambdaLR, a function of the step count (e.g. warm-up then cosine decay)"
        for name in ("OneCycleLR", "SequentialLR", "ChainedScheduler", "CosineAnnealingWarmRestarts", "CyclicLR",
                     "PolynomialLR", "ConstantLR")
    },
    "Tensor": {
        "data_ptr": "tinygen tensors expose no raw pointers",
        "storage": "tinygen tensors expose no storage objects",
        "pin_memory": "not needed on the CPU: drop the call",
        "share_memory_": "DataLoader workers run in the main process: drop the call",
        "bfloat16": f"tinygen has {_TENSOR_TYPES}",
        "index_select": "index with a tensor of indices: x[indices] (or x[:, indices])",
        "masked_select": "index with a boolean mask: x[mask]",
        "scatter_": "build the result out of place (tinygen.where, indexing)",
        **{name: "build the result out of place: a sum into slots is F.one_hot(index, n).T.float() @ src"
           for name in ("scatter", "scatter_add", "scatter_add_", "index_add", "index_add_", "index_put_",
                        "index_put")},
        "register_hook": "tinygen's autograd has no tensor hooks; read .grad after backward (retain_grad() for a "
                         "non-leaf), or take gradients with tinygen.autograd.grad and change them there",
        "bernoulli_": "use (tinygen.rand_like(x) < p)",
        "random_": "use tinygen.randint",
        "apply_": "compute the values with tinygen's ops",
        "addcmul_": "write it out: x += value * a * b (under tinygen.no_grad() for parameters)",
        "addcdiv_": "write it out: x += value * a / b (under tinygen.no_grad() for parameters)",
        "cuda_": "use x.to('cuda')",
    },
}

#: what each namespace is called in messages
SPELLED = {"tinygen": "tinygen", "nn": "tinygen.nn", "nn.functional": "tinygen.nn.functional",
           "optim": "tinygen.optim", "Tensor": "tinygen.Tensor", "optim.lr_scheduler": "tinygen.optim.lr_scheduler",
           "nn.init": "tinygen.nn.init", "nn.utils": "tinygen.nn.utils", "utils.data": "tinygen.utils.data"}


def error(namespace, name, owner=None):
    """The ``AttributeError`` for ``name`` missing from ``namespace`` (a key of ``SPELLED`` or a module name)."""
    if name.startswith("__") and name.endswith("__"):  # Python's own probes (copy, pickle, NumPy): answer plainly
        return AttributeError(name)
    where = SPELLED.get(namespace, namespace)
    hint = HINTS.get(namespace, {}).get(name)
    if namespace == "Tensor":
        kind = owner.__name__ if owner is not None else "Tensor"
        message = f"'{kind}' object has no attribute '{name}': tinygen's Tensor does not have it"
    else:
        message = f"module '{where}' has no attribute '{name}': tinygen does not have it"
    message += f"; {hint}" if hint else " (see docs/coming-from-pytorch.md for what carries over from PyTorch)"
    missing = AttributeError(message)
    if hint:
        missing.name = name  # set without obj: Python makes no guess of its own
    return missing


def module_getattr(namespace, lazy_submodules=()):
    """A module-level ``__getattr__`` for ``namespace``: imports the named submodules on first use, and
    raises ``error`` for anything else."""
    import importlib

    package = "tinygen" if namespace == "tinygen" else f"tinygen.{namespace}"

    def __getattr__(name):
        if name in lazy_submodules:
            return importlib.import_module(f"{package}.{name}")
        raise error(namespace, name)

    return __getattr__
