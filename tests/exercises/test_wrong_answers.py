"""Wrong answers are caught: every planted bug fails its exercise with a message that names the case, what is
wrong and where, and a first hint tied to the failing check that does not give the answer away."""
import numpy as np
import pytest

from tinygen.exercises import FAIL

from .workspaces import grade, workspace, write_solution  # noqa: F401 (a fixture)

ENGINE_PLAIN_DFS = '''    order, visited, stack = [], set(), list(roots)
    while stack:
        node = stack.pop()
        if node in visited:
            continue
        visited.add(node)
        order.append(node)
        stack += [edge for edge in node.next_edges if isinstance(edge, Function)]
    return order
'''

#: case: (exercise, (old, new) in its solution, parts of the message, part of the first hint, the failing check)
WRONG = {
    # --- the bugs the first version of the grader was tested with ----------------------------------------------
    "mul without the broadcast reduction": (
        "mul", ("sum_to(g * b, a.shape)", "g * b"),
        ["mul of a (3, 1), b (1, 4)", "dL/da has shape (3, 4), but a has shape (3, 1)"],
        "a was broadcast", "shape of a"),
    "matmul with a wrong transpose": (
        "matmul", ("matmul(g, b.mT)", "matmul(g.mT, b).mT"),
        ["matmul of A (3, 3), B (3, 3)", "dL/dA is wrong at index", "times the tolerance"],
        "dL/dA has wrong values", "gradient of A"),
    "sum that ignores the summed dims": (
        "sum", ("reshape(g, kept)", "g"),
        ["sum over dims (1,)", "cannot be broadcast", "in sum.py, line"],
        "it must have x's shape", "gradient of x"),
    "tanh on raw arrays (no second derivative)": (
        "tanh", ("g * (1.0 - y * y)", "g * y._wrap_like(1.0 - y.array * y.array)"),
        ["tanh of x (5,), second derivative", "is wrong at index"],
        "cannot be differentiated again", "second derivative"),
    "bce_with_logits in the naive form": (
        "bce_with_logits", ("xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))",
                            "-(t * xp.log(1 / (1 + xp.exp(-x))) + (1 - t) * xp.log(1 - 1 / (1 + xp.exp(-x))))"),
        ["forward at logits [-1000.0", "got nan"],
        "not finite", "forward"),
    "gaussian_kl with a wrong logvar gradient": (
        "gaussian_kl", ("g * (0.5 * (logvar.exp() - 1.0))", "g * (0.5 * logvar.exp())"),
        ["backward for mu (4, 3), logvar (4, 3)", "dL/dlogvar is wrong at index"],
        "dKL/dlogvar has wrong values", "gradient of logvar"),
    "batch_norm without the mean term": (
        "batch_norm", ("(g - g.mean(dim=axes, keepdim=True) - xhat", "(g - xhat"),
        ["batch norm of x (6, 3) with gamma with beta", "dL/dx does not sum to zero over each channel"],
        "a term through the channel's mean", "sums to zero"),
    "batch_norm on the forward's arrays (no second derivative)": (
        "batch_norm", ("invstd = ((centered * centered).mean(dim=axes, keepdim=True) + self.eps) ** -0.5",
                       "invstd = x._wrap_like(self.invstd.reshape((1, -1) + (1,) * (x.ndim - 2)))"),
        ["second derivative"],
        "cannot be differentiated again", "second derivative"),
    "adam without the first moment's bias correction": (
        "adam", ("m_hat = m / (1 - beta1 ** step)", "m_hat = m"),
        ["Adam(), parameter 0 (3, 4) after step 1", "match Adam without the first moment's bias correction"],
        "bias correction of the first moment (m) is missing", "update"),
    "conv2d without output_padding": (
        "conv2d", ("output_padding=extra, ", ""),
        ["stride (2, 2), padding (1, 1)", "dL/dx has shape (2, 2, 5, 4), but x has shape (2, 2, 6, 5)"],
        "does not come out with x's size", "shape of x"),
    "conv2d with stride and dilation not exchanged": (
        "conv2d", ("stride=geometry.dilation, padding=geometry.padding,\n" + " " * 21 + "dilation=geometry.stride",
                   "stride=geometry.stride, padding=geometry.padding,\n" + " " * 21 + "dilation=geometry.dilation"),
        ["stride (2, 2)", "dL/dw is wrong at index"],
        "dL/dw has wrong values", "gradient of w"),
    "conv_transpose2d with the correlation's arguments in conv2d's order": (
        "conv_transpose2d", ("correlate(g, x, geometry)", "correlate(x, g, geometry)"),
        ["conv_transpose2d of x (2, 2, 3, 3)", "ValueError: conv2d: the kernel", "in conv_transpose2d.py, line"],
        "your backward raised an error", "backward"),
    "gradient_penalty without create_graph": (
        "gradient_penalty", (", create_graph=True", ""),
        ["does not depend on the critic's weights"],
        "cannot train the critic", "graph"),
    "gradient_penalty that reaches the generator": (
        "gradient_penalty", ("(1.0 - eps) * fake.detach()", "(1.0 - eps) * fake"),
        ["sends a gradient into `fake`"],
        "must train the critic only", "detach"),
    # --- new checks of the old exercises -------------------------------------------------------------------------
    "mul with a wrong dL/db (the hint names b, not a)": (
        "mul", ("sum_to(g * a, b.shape)", "sum_to(g * b, b.shape)"),
        ["mul of a (3, 4), b (3, 4)", "dL/db is wrong at index"],
        "dL/db has wrong values", "gradient of b"),
    "batch_norm with the unbiased variance": (
        "batch_norm", ("invstd = ((centered * centered).mean(dim=axes, keepdim=True) + self.eps) ** -0.5",
                       "invstd = ((centered * centered).sum(dim=axes, keepdim=True) / (x.numel() // x.shape[1] - 1)"
                       " + self.eps) ** -0.5"),
        ["normalized by 1/(M - 1)", "the forward normalizes by 1/M"],
        "normalized by 1/(M - 1), but the forward's is normalized by 1/M", "gradient of x"),
    "adam without the second moment's bias correction": (
        "adam", ("v_hat = v / (1 - beta2 ** step)", "v_hat = v"),
        ["match Adam without the second moment's bias correction"],
        "bias correction of the second moment (v) is missing", "update"),
    "tanh with the derivative 1 - y": (
        "tanh", ("g * (1.0 - y * y)", "g * (1.0 - y)"),
        ["tanh of x (5,)", "dL/dx is wrong at index"],
        "your derivative of tanh is wrong", "gradient of x"),
    # --- the new exercises -----------------------------------------------------------------------------------------
    "sum_to that sums only the leading dimensions": (
        "sum_to", ("axes = tuple(range(lead)) + tuple(", "axes = tuple(range(lead)) + 0 * tuple("),
        ["sum_to(x (2, 3, 4), (3, 1))", "cannot reshape"],
        "check which dimensions you sum over", "forward"),
    "sum_to with a detached backward": (
        "sum_to", ("return broadcast_to(g, self.input_shape)", "return broadcast_to(g.detach(), self.input_shape)"),
        ["second derivative", "cannot be differentiated"],
        "cannot be differentiated again", "second derivative"),
    "engine: a plain depth-first order": (
        "engine", ("engine_order", ENGINE_PLAIN_DFS),
        ["topological_order on a diamond graph", "it puts y = x * 2 before", "which consumes its output"],
        "visits a node before all the nodes that consume its output", "order"),
    "engine: a walk that keeps one gradient where edges meet": (
        "engine", ("grads[edge] = grads[edge] + input_grad if edge in grads else input_grad",
                   "grads[edge] = input_grad"),
        ["y = x * x + x, which uses x three times, on your engine", "x.grad is wrong at index"],
        "the gradients must add up", "engine: y = x * x + x, which uses x three times"),
    "engine: a walk that leaves the gradients in the table": (
        "engine", ("call_backward(node, grads.pop(node))", "call_backward(node, grads[node])"),
        ["gradients are still waiting at nodes whose backward never ran"],
        "gradients are left at nodes", "engine: stranded"),
    "relu with the right side's slope at 0": (
        "relu", ("return g * (x > 0).to(dtype=g.dtype)", "return g * (x >= 0).to(dtype=g.dtype)"),
        ["relu of x (9,)", "it has the slope of the right side at x = 0"],
        "takes the slope of the left side", "gradient of x"),
    "leaky relu as max(x, slope x)": (
        "relu", ("return self.backend.xp.where(x > 0, x, self.negative_slope * x)",
                 "return self.backend.xp.maximum(x, self.negative_slope * x)"),
        ["leaky_relu(negative_slope=1.5) of x (9,)", "the output is wrong at index"],
        "look at the negative_slope", "forward"),
    "softmax without the shift": (
        "softmax", ("exponentials = xp.exp(x - x.max(axis=self.dim, keepdims=True))", "exponentials = xp.exp(x)"),
        ["softmax of logits [[-1000.0", "got nan"],
        "an exp overflows", "forward"),
    "log_softmax backward without the normalizer's sum": (
        "softmax", ("return g - y.exp() * g.sum(dim=self.dim, keepdim=True)", "return g - y.exp() * g"),
        ["log_softmax of x (3, 5) along dim 1", "dL/dx does not sum to zero along dim"],
        "does not sum to zero along dim", "sums to zero"),
    "max_pool2d that takes the last maximum at ties": (
        "max_pool2d", ("better = (entries > best) | xp.isnan(entries)",
                       "better = (entries >= best) | xp.isnan(entries)"),
        ["ties (repeated values)", "dL/dx is wrong at index"],
        "exactly the pixel its maximum came from", "gradient of x"),
    "max_pool2d that pads with zeros": (
        "max_pool2d", ("pad_planes(self.backend, x, self.geometry.padding, -math.inf)",
                       "pad_planes(self.backend, x, self.geometry.padding, 0.0)"),
        ["every value negative (padding never wins)", "the output is wrong at index"],
        "not each window's maximum", "forward"),
    "max_pool2d that overwrites where windows overlap": (
        "max_pool2d", ("target += xp.where(self.choice == offset, g, 0)",
                       "target[...] = xp.where(self.choice == offset, g, target)"),
        ["padding 1 (overlapping windows)", "dL/dx is wrong at index"],
        "add up where windows overlap", "gradient of x"),
    "dropout without the 1/(1 - p) scaling": (
        "dropout", ("mask = (uniform >= p).to(dtype=input.dtype) * (1.0 / (1.0 - p))",
                    "mask = (uniform >= p).to(dtype=input.dtype)"),
        ["dropout(x (4, 50) float64, p=0.3, training=True)", "the kept entries are not scaled"],
        "not rescaled", "forward"),
    "dropout in evaluation mode": (
        "dropout", ("    if not training or p == 0:\n        return input\n", ""),
        ["dropout(x (3, 4), p=0.5, training=False)"],
        "must return its input unchanged", "forward"),
    "reparameterize with the variance for the standard deviation": (
        "reparameterize", ("return mu + (0.5 * logvar).exp() * eps", "return mu + logvar.exp() * eps"),
        ["reparameterize(mu (4, 3), logvar (4, 3))", "the noise is scaled by exp(logvar)"],
        "the variance, where a sample needs the standard deviation", "forward"),
    "elbo that averages the reconstruction over pixels": (
        "reparameterize", ("reconstruction = per_pixel.reshape(decoder_output.shape[0], -1).sum(dim=1)",
                           "reconstruction = per_pixel.reshape(decoder_output.shape[0], -1).mean(dim=1)"),
        ["elbo(decoder_output (4, 2, 3)", "the reconstruction is averaged over pixels"],
        "a sum over its pixels", "forward"),
    "critic step without zero_grad": (
        "wgan_gp_critic_step", ("    optimizer.zero_grad()\n", ""),
        ["after step 2", "not cleared before this one's backward"],
        "not cleared", "step"),
    "critic step that reaches the generator": (
        "wgan_gp_critic_step", ("    fake = fake.detach()\n", ""),
        ["the generator's weight received a gradient"],
        "must train the critic only", "detach"),
    "critic step with the Wasserstein terms' sign flipped": (
        "wgan_gp_critic_step", ("loss = wasserstein + penalty", "loss = -wasserstein + penalty"),
        ["after step 1", "the Wasserstein terms have the wrong sign"],
        "wrong sign", "step"),
    # --- a probe of coursework: answers right in value that break tinygen when it runs on them -------------------
    "relu backward that zeroes its saved input (the caller's x)": (
        "relu", ("        return g * (x > 0).to(dtype=g.dtype)\n",
                 "        mask = (x > 0).to(dtype=g.dtype)\n        x.array[...] = 0\n        return g * mask\n"),
        ["relu of x (9,)", "your backward changed its input x in place"],
        "must not write into its input x", "backward changed x"),
    "relu backward that zeroes g where x <= 0 in place": (
        "relu", ("        return g * (x > 0).to(dtype=g.dtype)\n",
                 "        g.array[x.array <= 0] = 0\n        return g\n"),
        ["relu of x (9,)", "your backward changed the upstream gradient g in place"],
        "must not write into the upstream gradient g", "backward changed g"),
    "max_pool2d scatter that clears g after use": (
        "max_pool2d", ("        return xp.ascontiguousarray(padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width])",
                       "        result = xp.ascontiguousarray(padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width])"
                       "\n        g[...] = 0\n        return result"),
        ["max_pool2d of x (2, 2, 6, 6)", "your backward changed the upstream gradient g in place"],
        "must not write into the upstream gradient g", "backward changed g"),
    "dropout backward that masks g in place (graded through the engine)": (
        "dropout", ("        return g * as_tensor(self.mask, device=g.device)\n",
                    "        g.array *= self.mask\n        return g\n"),
        ["backward of dropout(x (3, 5), p=0.4): your backward changed the upstream gradient g in place"],
        "must not write into the upstream gradient g", "backward changed g"),
    "relu whose forward leaves its mask in a global (a second relu overwrites it)": (
        "relu", ("        return self.backend.xp.maximum(x, 0)\n        # solution: end\n\n    def backward(self, g):\n"
                 "        # solution: begin\n        (x,) = self.saved_inputs\n"
                 "        return g * (x > 0).to(dtype=g.dtype)\n",
                 "        global _positive\n        _positive = x > 0\n        return self.backend.xp.maximum(x, 0)\n"
                 "        # solution: end\n\n    def backward(self, g):\n        # solution: begin\n"
                 "        return g * g._wrap_like(_positive.astype(g.array.dtype))\n"),
        ["relu of x (9,), with another forward of the op before its backward", "dL/dx is wrong at index"],
        "keeps what its backward needs outside the op", "interleaved"),
    "relu backward with a float64 mask (float32 training stops)": (
        "relu", ("        return g * (x > 0).to(dtype=g.dtype)\n",
                 "        import tinygen\n        return g * (x > 0).to(dtype=tinygen.float64)\n"),
        ["relu of x (9,), in float32", "dL/dx has dtype float64, but x has dtype float32"],
        "another dtype than tinygen's", "dtype"),
    "relu forward with a NumPy float64 zero (float32 becomes float64)": (
        "relu", ("        return self.backend.xp.maximum(x, 0)\n",
                 "        import numpy\n        return self.backend.xp.maximum(x, numpy.float64(0))\n"),
        ["relu of x (9,), in float32", "the output has dtype float64, expected float32"],
        "another dtype than tinygen's", "dtype"),
    "relu forward against zeros of the default dtype (float32 becomes float64)": (
        "relu", ("        return self.backend.xp.maximum(x, 0)\n",
                 "        return self.backend.xp.maximum(x, self.backend.xp.zeros(x.shape))\n"),
        ["relu of x (9,), in float32", "the output has dtype float64, expected float32"],
        "another dtype than tinygen's", "dtype"),
    "matmul backward that views g (right only for a contiguous g)": (
        "matmul", ("        grad_b = sum_to(matmul(a.mT, g), b.shape) if self.needs_input_grad[1] else None\n",
                   "        if b.ndim == 2:  # A's batch folded into its rows: one product\n"
                   "            grad_b = matmul(a.reshape(-1, a.shape[-1]).mT, g.view(-1, g.shape[-1]))\n"
                   "        else:\n            grad_b = sum_to(matmul(a.mT, g), b.shape)\n"),
        ["matmul of A (5, 2, 3), B (3, 4), with the inputs and g laid out with strides", "cannot be viewed as (10, 4)",
         "in matmul.py, line"],
        "right for contiguous tensors but not for the same values laid out with strides", "strides"),
    "bce_with_logits backward as exp(x) / (1 + exp(x))": (
        "bce_with_logits", ("grad_x = g * (sigmoid(x) - t)", "grad_x = g * (x.exp() / (1.0 + x.exp()) - t)"),
        ["backward at logits [-1000.0", "dL/dx is wrong at index (8,)", "got nan"],
        "an exp overflows", "gradient of x"),
    "cross_entropy as the log of softmax": (
        "softmax", ("    log_probabilities = LogSoftmax(1)(input)", "    log_probabilities = Softmax(1)(input).log()"),
        ["cross_entropy of logits [[-1000.0", "got inf"],
        "a log sees a probability that rounded to 0", "forward"),
    "adam without eps (0 / 0 where a gradient stays 0)": (
        "adam", ('(param.backend.xp.sqrt(v_hat) + group["eps"])', "param.backend.xp.sqrt(v_hat)"),
        ["Adam() with gradients 0 in some entries", "got nan"],
        "look at eps", "update"),
    "adam with eps inside the square root": (
        "adam", ('(param.backend.xp.sqrt(v_hat) + group["eps"])', '(param.backend.xp.sqrt(v_hat + group["eps"]))'),
        ["Adam() with gradients 0 in some entries, 4e-5 in the others", "times the tolerance"],
        "look at eps", "update"),
    "adam that adds weight decay into p.grad": (
        "adam", ('grad = grad + group["weight_decay"] * param.array', 'grad += group["weight_decay"] * param.array'),
        ["Adam(lr=0.01", "your step 1 changed parameter 0's gradient (.grad) in place"],
        "writes into a parameter's gradient", "gradient changed"),
    "mul backward that returns a list": (
        "mul", ("        return grad_a, grad_b\n", "        return [grad_a, grad_b]\n"),
        ["mul of a (3, 4), b (3, 4): backward returned a list of 2; return a tuple"],
        "a tuple with one gradient per input", "returns"),
    "mul backward that returns raw arrays": (
        "mul", ("        return grad_a, grad_b\n", "        return grad_a.array, grad_b.array\n"),
        ["mul of a (3, 4), b (3, 4): dL/da should be a Tensor, got "],
        "a Tensor for each result", "returns"),
    # --- constants hard-coded to the values of the usual settings ------------------------------------------------
    "batch_norm with eps fixed at 1e-5": (
        "batch_norm", ("+ self.eps) ** -0.5", "+ 1e-5) ** -0.5"),
        ["batch norm of x (3, 2, 2, 3) with gamma with beta, eps=0.001", "it matches batch norm with eps = 1e-05"],
        "uses eps = 1e-05 whatever the layer's eps is", "gradient of x"),
    "gradient_penalty with lambda fixed at 10": (
        "gradient_penalty", ("return lambda_ * ((norms - 1.0) ** 2).mean()",
                             "return 10.0 * ((norms - 1.0) ** 2).mean()"),
        ["lambda_ 2.5", "it is the penalty for lambda_ = 10"],
        "not scaled by the lambda_ it is given", "value"),
    "critic step with lambda fixed at 10": (
        "wgan_gp_critic_step", ("penalty = gradient_penalty(critic, real, fake, lambda_, generator=generator)",
                                "penalty = gradient_penalty(critic, real, fake, 10.0, generator=generator)"),
        ["lambda_ 4) on batches (5, 2, 3): after step 1"],
        "differ from WGAN-GP's critic step", "step"),
}


def _plant(workspace, name, replace):
    if replace[0] == "engine_order":  # replace the whole body of topological_order
        from .workspaces import solution_text

        text = solution_text(name)
        start = text.index("    # solution: begin\n") + len("    # solution: begin\n")
        end = text.index("    # solution: end\n")
        write_solution(workspace, name, text=text[:start] + replace[1] + text[end:])
    else:
        write_solution(workspace, name, replace)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive forms overflow, on purpose
@pytest.mark.parametrize("case", list(WRONG), ids=list(WRONG))
def test_a_wrong_answer_fails_with_a_message_and_a_first_hint_that_keeps_the_answer(workspace, case):
    name, replace, message_parts, hint_part, check = WRONG[case]
    if "NumPy float64 zero" in case and int(np.__version__.split(".")[0]) < 2:
        pytest.skip("NumPy 1 casts by value: float32 beside a float64 scalar stays float32, so this answer is right")
    _plant(workspace, name, replace)
    result = grade(workspace, name)
    assert result.status == FAIL, result
    for part in message_parts:
        assert part in result.message, (part, result.message)
    assert hint_part in result.hint, (hint_part, result.hint)
    assert result.check == check
    answer = result.hints.answer
    assert answer or result.check == "backward"  # a crash's cure depends on the line: no answer to give away
    assert answer not in result.hint and answer not in result.message or not answer

