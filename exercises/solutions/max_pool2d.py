"""Exercise max_pool2d: max pooling, the choice of each window's maximum and the gradient's route back.
Read: docs/derivations/conv.md (the windows)"""
import math

from tinygen.exercises.given import MaxPool2dBase, ScatterToWindowsBase
from tinygen.ops.im2col import pad_planes, window_slices


class MaxPool2d(MaxPool2dBase):
    """y[n, c, i, j] = the largest entry of window (i, j) of x: (N, C, H, W) -> (N, C, Ho, Wo), windows placed as
    a convolution's (``self.geometry``: kernel (kH, kW), stride, padding, dilation pairs; ``self.output_size`` is
    (Ho, Wo)). Padding never wins (it counts as -inf); a NaN in a window wins (as in PyTorch).

    Given: the constructor, and the backward, which sends g through ``ScatterToWindows`` (below) using
    ``self.choice``. Write ``forward(x)`` (raw arrays, ``xp = self.backend.xp``) and set in it:
      - ``self.choice``: an int64 array (N, C, Ho, Wo), for each window the offset of its maximum, a * kW + b for
        kernel position (a, b); at a tie the first in that order (a strict > keeps the earlier one).
      - ``self.input_size = x.shape[2:]``.
    ``pad_planes(self.backend, x, padding, value)`` pads H and W with ``value``; ``window_slices(geometry,
    output_size)`` lists, for each offset in order, the slices (rows, columns) such that
    ``padded[:, :, rows, columns]`` holds that offset's entry of every window, an (N, C, Ho, Wo) array.
    """

    def forward(self, x):
        # solution: begin
        xp = self.backend.xp
        self.input_size = x.shape[2:]
        padded = pad_planes(self.backend, x, self.geometry.padding, -math.inf)
        slices = window_slices(self.geometry, self.output_size)
        best = padded[:, :, slices[0][0], slices[0][1]].copy()
        choice = xp.zeros(best.shape, dtype=xp.int64)
        for offset, (rows, columns) in enumerate(slices[1:], start=1):
            entries = padded[:, :, rows, columns]
            better = (entries > best) | xp.isnan(entries)
            best, choice = xp.where(better, entries, best), xp.where(better, offset, choice)
        self.choice = choice
        return best
        # solution: end


class ScatterToWindows(ScatterToWindowsBase):
    """Max pooling's backward: y = zeros (N, C, H, W), and each g[n, c, i, j] added to the pixel of x that window
    (i, j) picked (``self.choice``, as above). Where windows overlap (stride < kernel) one pixel may be the
    maximum of several windows: their gradients add up.

    Given: the constructor (``self.geometry``, ``self.choice``, ``self.input_size`` = (H, W)) and the backward.
    Write ``forward(g)``: g (N, C, Ho, Wo), a raw array -> (N, C, H, W). Work on a zero array of the padded size
    (H + 2 pH, W + 2 pW), add g offset by offset through the same ``window_slices``, then crop the padding off
    (``xp.ascontiguousarray`` of the cropped view).
    """

    def forward(self, g):
        # solution: begin
        xp = self.backend.xp
        (height, width), (pad_h, pad_w) = self.input_size, self.geometry.padding
        padded = xp.zeros(g.shape[:2] + (height + 2 * pad_h, width + 2 * pad_w), dtype=g.dtype)
        for offset, (rows, columns) in enumerate(window_slices(self.geometry, g.shape[2:])):
            target = padded[:, :, rows, columns]
            target += xp.where(self.choice == offset, g, 0)
        return xp.ascontiguousarray(padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width])
        # solution: end
