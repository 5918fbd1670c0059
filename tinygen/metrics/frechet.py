"""The Frechet distance between two Gaussians fitted to feature vectors (the idea behind FID).

    d^2 = ||mu_1 - mu_2||^2 + tr(C_1 + C_2 - 2 (C_1 C_2)^(1/2))

tr (C_1 C_2)^(1/2) equals tr (S C_2 S)^(1/2) with S = C_1^(1/2), and S C_2 S is symmetric positive
semi-definite, so both square roots come from symmetric eigendecompositions: no SciPy needed.
Host-side statistics on NumPy arrays.
"""
import numpy


def gaussian_statistics(features):
    """Mean (d,) and covariance (d, d) of features (N, d), as float64."""
    features = numpy.asarray(features, dtype=numpy.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"gaussian_statistics: expected at least 2 feature vectors (N, d), got shape {features.shape}")
    return features.mean(axis=0), numpy.cov(features, rowvar=False)


def _psd_sqrt(matrix):
    values, vectors = numpy.linalg.eigh(matrix)
    return (vectors * numpy.sqrt(numpy.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean_1, covariance_1, mean_2, covariance_2):
    """The squared Frechet distance between N(mean_1, covariance_1) and N(mean_2, covariance_2)."""
    root_1 = _psd_sqrt(covariance_1)
    cross = numpy.linalg.eigvalsh(root_1 @ covariance_2 @ root_1)
    trace_sqrt = numpy.sqrt(numpy.clip(cross, 0.0, None)).sum()
    difference = numpy.asarray(mean_1) - numpy.asarray(mean_2)
    return float(difference @ difference + numpy.trace(covariance_1) + numpy.trace(covariance_2) - 2.0 * trace_sqrt)
