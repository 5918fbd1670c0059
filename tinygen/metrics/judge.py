"""The judge: a small MNIST classifier, trained with tinygen on the bundled data (``python -m
tinygen.metrics.train_judge``), whose weights ship with the package (``judge.npz``, about 0.4 MB).

    x (N, 1, 28, 28) in [-1, 1] -> conv 5x5 16 -> ReLU -> maxpool 2 -> conv 5x5 32 -> ReLU -> maxpool 2
      -> 1568 -> 64 -> ReLU (the features) -> 10 logits
"""
import os

import numpy

from tinygen import nn
from tinygen.autograd.grad_mode import no_grad
from tinygen.cores import map_on_cores
from tinygen.metrics.frechet import frechet_distance, gaussian_statistics
from tinygen.metrics.scores import class_coverage, inception_score
from tinygen.serialization import load

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "judge.npz")
BATCH = 500


class JudgeClassifier(nn.Module):
    def __init__(self, features=64, classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, features), nn.ReLU(),
        )
        self.head = nn.Linear(features, classes)

    def features(self, images):
        """(N, 1, 28, 28) in [-1, 1] -> (N, 64): the representation the Frechet distance compares."""
        return self.body(images)

    def forward(self, images):
        return self.head(self.features(images))


def load_judge(device=None, path=WEIGHTS):
    """The trained judge in evaluation mode on ``device``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_judge: no judge weights at {path}; train them with python -m tinygen.metrics.train_judge")
    judge = JudgeClassifier()
    judge.load_state_dict(load(path)["model"])
    return judge.to(device).eval()


def _features_and_probabilities(judge, images):
    """Host arrays: the judge's features (N, 64) and class probabilities (N, 10), in batches spread over the cores."""
    def judge_batch(start):
        features = judge.features(images[start:start + BATCH])
        return features.numpy(), nn.functional.softmax(judge.head(features), dim=1).numpy()

    with no_grad():
        starts = range(0, max(images.shape[0], 1), BATCH)  # no images: one empty batch, (0, 64) features
        features, probabilities = zip(*map_on_cores(judge_batch, starts, images.device))
    return numpy.concatenate(features), numpy.concatenate(probabilities)


def feature_statistics(judge, images):
    """Mean and covariance of the judge's features of ``images``: the real side of a Frechet distance, which a
    training run computes once for its held-out digits rather than every epoch."""
    features, _ = _features_and_probabilities(judge, images)
    return gaussian_statistics(features)


def judge_report(judge, generated, real=None, real_statistics=None):
    """Scores of ``generated`` images against ``real`` ones (both (N, 1, 28, 28) in [-1, 1]), or against
    ``real_statistics`` from ``feature_statistics``: Frechet distance in the judge's feature space (lower is
    better), inception-style score (higher is better, at most 10), mean confidence of the judge, and how
    many digit classes are covered."""
    if (real is None) == (real_statistics is None):
        raise ValueError("judge_report: pass either real images or their real_statistics (one of the two)")
    if real_statistics is None:
        real_statistics = feature_statistics(judge, real)
    generated_features, probabilities = _features_and_probabilities(judge, generated)
    covered, histogram = class_coverage(probabilities)
    return {
        "frechet_distance": frechet_distance(*gaussian_statistics(generated_features), *real_statistics),
        "inception_score": inception_score(probabilities),
        "judge_confidence": float(probabilities.max(axis=1).mean()),
        "classes_covered": covered,
        "class_histogram": histogram,
    }
