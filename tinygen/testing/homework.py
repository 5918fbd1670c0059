"""Reference forward/backward pairs in plain NumPy, written the way course homework writes them: a forward
``layer_forward(x, ...) -> (out, cache)`` and a backward ``layer_backward(dout, cache) -> gradients``, one per
input. They are what ``check_backward`` is built to check: the docs check them (docs/check-your-backward.md) and
the tests plant bugs into copies of them to prove the checker catches each one. Shapes: N samples, D features,
M outputs; images are NCHW.
"""
import numpy as np


def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b, for x of shape (N, d1, ..., dk) with D = d1 * ... * dk, w (D, M), b (M,)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """dx = dout @ w.T (in x's shape), dw = x.T @ dout, db = dout summed over the batch."""
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """out = max(x, 0)."""
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0."""
    x = cache
    return dout * (x > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    """out = x where x > 0, else negative_slope * x."""
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, else negative_slope * dout."""
    x, negative_slope = cache
    return dout * np.where(x > 0, 1.0, negative_slope)


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x))."""
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s), with s = sigmoid(x)."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    """out = tanh(x)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)^2)."""
    t = cache
    return dout * (1.0 - t * t)


def softmax_loss(x, y):
    """The mean cross-entropy of softmax(x) for integer labels y (N,), and its gradient, as homework returns them:
    loss = -mean_i log softmax(x)_i,y_i;   dx = (softmax(x) - onehot(y)) / N."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_probabilities[np.arange(n), y].mean()
    dx = np.exp(log_probabilities)
    dx[np.arange(n), y] -= 1.0
    return loss, dx / n


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm in train mode, over the batch axis of x (N, D): out = gamma * x_hat + beta, with
    x_hat = (x - mean) / sqrt(var + eps) from the batch's own mean and (biased) variance."""
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """dx = inv_std / N * (N g - sum(g) - x_hat * sum(g * x_hat)) with g = dout * gamma (sums over the batch):
    the three terms are the direct path, the path through the mean, the path through the variance.
    dgamma = sum(dout * x_hat), dbeta = sum(dout)."""
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    g = dout * gamma
    dx = inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def conv_forward_naive(x, w, b, conv_param):
    """A 2-D convolution (cross-correlation, as in every deep-learning library) by a loop over output positions:
    x (N, C, H, W), w (F, C, HH, WW), b (F,); conv_param {"stride": s, "pad": p}; out (N, F, H', W') with
    H' = 1 + (H + 2p - HH) / s. out[n, f, i, j] = sum over (c, di, dj) of w[f, c, di, dj] * x_pad[n, c, i s + di,
    j s + dj], plus b[f]."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, height, width = x.shape
    filters, _, kernel_height, kernel_width = w.shape
    out_height = 1 + (height + 2 * pad - kernel_height) // stride
    out_width = 1 + (width + 2 * pad - kernel_width) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, filters, out_height, out_width))
    for i in range(out_height):
        for j in range(out_width):
            window = x_pad[:, :, i * stride:i * stride + kernel_height, j * stride:j * stride + kernel_width]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, conv_param)


def conv_backward_naive(dout, cache):
    """Each output position sends dout[n, f, i, j] back through its window: dw[f] += dout * window (summed over
    n), dx_pad[window] += dout * w[f] (summed over f); db = dout summed over n, i, j. Returns dx, dw, db."""
    x, w, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, kernel_height, kernel_width = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + kernel_height)
            columns = slice(j * stride, j * stride + kernel_width)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, columns], axes=([0], [0]))
            dx_pad[:, :, rows, columns] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    """Max pooling of x (N, C, H, W) over windows of pool_param {"pool_height", "pool_width", "stride"}."""
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    out_height = 1 + (x.shape[2] - height) // stride
    out_width = 1 + (x.shape[3] - width) // stride
    out = np.zeros(x.shape[:2] + (out_height, out_width))
    for i in range(out_height):
        for j in range(out_width):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + height, j * stride:j * stride + width].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Each window's gradient goes to the element that was its maximum."""
    x, pool_param = cache
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, columns = slice(i * stride, i * stride + height), slice(j * stride, j * stride + width)
            window = x[:, :, rows, columns]
            is_max = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, rows, columns] += is_max * dout[:, :, i, j][:, :, None, None]
    return dx


def dropout_forward(x, p=0.5, seed=0):
    """Inverted dropout in train mode: each entry is zeroed with probability p and the rest scaled by 1 / (1 - p).
    The mask comes from a generator seeded with ``seed``, so the same call gives the same mask."""
    mask = (np.random.default_rng(seed).random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask / (1 - p): the same mask as the forward's."""
    mask = cache
    return dout * mask


def reparameterize_forward(mu, logvar, noise):
    """The VAE's reparameterization trick: z = mu + exp(logvar / 2) * noise, with noise ~ N(0, 1) drawn outside."""
    std = np.exp(0.5 * logvar)
    return mu + std * noise, (std, noise)


def reparameterize_backward(dout, cache):
    """dmu = dout, dlogvar = dout * noise * std / 2; the noise is a sample, not a parameter: no gradient."""
    std, noise = cache
    return dout, 0.5 * dout * noise * std, None
