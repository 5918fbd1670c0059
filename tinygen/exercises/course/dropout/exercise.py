"""dropout: inverted dropout (the mask from a generator, the scaling, training and evaluation) and its backward."""
from tinygen.backend.dtypes import float32, float64
from tinygen.creation import rand
from tinygen.exercises.grading import Hints, check_forward, check_gradients, expect, random_tensor
from tinygen.random import Generator

SUMMARY = "inverted dropout: the mask, the 1/(1 - p) scaling, evaluation mode, and the backward"
READING = "docs/exercises.md"
AFTER = ("relu",)
REPLACES = {"dropout": "tinygen.ops.dropout:dropout", "Dropout": "tinygen.ops.dropout:Dropout"}
WRITES = {"Dropout": ("backward",)}

ANSWER = ("uniform = rand(input.shape, generator=generator, dtype=input.dtype, device=input.device); mask = "
          "(uniform >= p).to(dtype=input.dtype) * (1.0 / (1.0 - p)); return Dropout(mask.array)(input)")
FORWARD = Hints(
    what="the output differs from dropout's with the same generator: the kept entries or their scale",
    direction="draw the uniform numbers exactly as the docstring says (the grader draws the same ones), keep an "
              "entry where its number is >= p, and scale the kept entries so that each entry's expected value "
              "stays the same",
    step="an entry is kept with probability 1 - p, so a kept entry is multiplied by 1 / (1 - p)",
    answer=ANSWER,
)
MODES = Hints(
    what="outside training (training=False), or with p = 0, dropout must return its input unchanged; with p = 1, "
         "zeros",
    direction="handle these cases before drawing a mask",
    step="p = 1 keeps nothing, and 1 / (1 - p) would divide by zero: return zeros through Dropout",
    answer="if not training or p == 0: return input; if p == 1: return Dropout(xp.zeros(input.shape, "
           "dtype=input.dtype))(input)",
)
UNSCALED = Hints(what="the kept entries are not rescaled, so the output's expected value is (1 - p) times the "
                      "input's", direction=FORWARD.direction, step=FORWARD.step, answer=ANSWER)
INVERTED = Hints(what="your mask keeps the entries that should be dropped (the comparison with p is the wrong way "
                      "round)", direction=FORWARD.direction, step="keep an entry where its number is >= p, which "
                      "happens with probability 1 - p", answer=ANSWER)
BACKWARD = Hints(
    what="dL/dx is wrong",
    direction="y = x * mask with a constant mask",
    step="so dL/dx = g * mask: make the raw mask a Tensor on g's device",
    answer="g * as_tensor(self.mask, device=g.device)",
)


def wrong_masks(x, p, seed):
    """The output with the kept entries unscaled, and with the comparison inverted (same draws)."""
    uniform = rand(tuple(x.shape), generator=Generator(x.device, seed), dtype=x.dtype, device=x.device)
    return x * (uniform >= p).to(dtype=x.dtype), x * (uniform < p).to(dtype=x.dtype) * (1.0 / (1.0 - p))


def grade(student, reference):
    for dtype in (float64, float32):
        x = random_tensor((4, 50), 1, requires_grad=False, dtype=dtype)
        for p in (0.3, 0.75):
            unscaled, inverted = expect(wrong_masks, x, p, 5)
            check_forward(f"dropout(x (4, 50) {dtype}, p={p}, training=True)",
                          lambda x: student.dropout(x, p, True, Generator(x.device, 5)),
                          lambda x: reference.dropout(x, p, True, Generator(x.device, 5)), [x], ["x"], FORWARD,
                          variants=[(unscaled, "the kept entries are not scaled", UNSCALED),
                                    (inverted, "it keeps the entries it should drop", INVERTED)])
    x = random_tensor((3, 4), 2, requires_grad=False)
    for p, training in ((0.5, False), (0.0, True), (1.0, True)):
        check_forward(f"dropout(x (3, 4), p={p}, training={training})",
                      lambda x: student.dropout(x, p, training, Generator(x.device, 6)),
                      lambda x: reference.dropout(x, p, training, Generator(x.device, 6)), [x], ["x"], MODES)
    x = random_tensor((3, 5), 3)
    check_gradients("backward of dropout(x (3, 5), p=0.4)",
                    lambda x: student.dropout(x, 0.4, True, Generator(x.device, 7)),
                    lambda x: reference.dropout(x, 0.4, True, Generator(x.device, 7)), [x], ["x"], {"x": BACKWARD},
                    second_order=True)
