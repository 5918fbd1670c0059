"""Scores from a classifier's predicted class probabilities p(y | x) on generated samples (N, classes).

inception_score: exp(E_x KL(p(y|x) || p(y))): high when each sample is confidently one class (sharp
p(y|x)) and the classes are balanced (flat p(y)); at most the number of classes.
class_coverage: how many classes get a fair share of the samples: a collapsed generator covers few.
"""
import numpy


def inception_score(probabilities, eps=1e-12):
    probabilities = numpy.asarray(probabilities, dtype=numpy.float64)
    marginal = probabilities.mean(axis=0, keepdims=True)
    kl = (probabilities * (numpy.log(probabilities + eps) - numpy.log(marginal + eps))).sum(axis=1)
    return float(numpy.exp(kl.mean()))


def class_coverage(probabilities, min_share=0.1):
    """Classes predicted for at least ``min_share`` of the share a uniform generator would give them
    (with 10 classes and the default, at least 1% of samples), and the predicted-class histogram."""
    probabilities = numpy.asarray(probabilities)
    classes = probabilities.shape[1]
    counts = numpy.bincount(probabilities.argmax(axis=1), minlength=classes)
    covered = int((counts >= min_share * len(probabilities) / classes).sum())
    return covered, counts.tolist()
