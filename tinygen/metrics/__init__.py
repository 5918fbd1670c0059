"""Measuring generative models without downloads: a small MNIST classifier trained with tinygen (the judge),
a Frechet distance in its feature space, and classifier-based scores."""
from tinygen.metrics.frechet import frechet_distance, gaussian_statistics
from tinygen.metrics.judge import JudgeClassifier, feature_statistics, judge_report, load_judge
from tinygen.metrics.scores import class_coverage, inception_score

__all__ = [
    "JudgeClassifier", "class_coverage", "feature_statistics", "frechet_distance", "gaussian_statistics", "inception_score",
    "judge_report", "load_judge",
]
