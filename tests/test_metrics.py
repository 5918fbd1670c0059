"""Quality metrics: the Frechet distance against closed forms, the scores' bounds, and the shipped judge."""
import numpy as np
import pytest

from tinygen.data import ScalePixels, load_mnist
from tinygen.metrics import class_coverage, frechet_distance, gaussian_statistics, inception_score, judge_report, load_judge
from tinygen.data import split_images


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 3))
    mean, covariance = gaussian_statistics(a)
    assert frechet_distance(mean, covariance, mean, covariance) == pytest.approx(0.0, abs=1e-9)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(1.0 + 1.0)
    # commuting covariances: ||m1 - m2||^2 + sum (sqrt(l1) - sqrt(l2))^2
    assert frechet_distance([0, 0], np.diag([1.0, 9.0]), [3, 4], np.diag([4.0, 1.0])) == pytest.approx(25 + 1 + 4)


def test_inception_score_and_coverage_bounds():
    confident_balanced = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(confident_balanced) == pytest.approx(10.0, rel=1e-6)
    collapsed = np.eye(10)[np.zeros(1000, dtype=int)]
    assert inception_score(collapsed) == pytest.approx(1.0, rel=1e-6)
    assert class_coverage(confident_balanced)[0] == 10 and class_coverage(collapsed)[0] == 1


def test_the_shipped_judge_classifies_held_out_digits_and_scores_real_data_well():
    images, labels = load_mnist()
    images = ScalePixels(-1.0, 1.0)(images)
    (train, _), (held_out, held_out_labels) = split_images(images, labels, 1000)
    judge = load_judge()
    accuracy = float((judge(held_out).argmax(dim=1) == held_out_labels).float().mean().item())
    assert accuracy > 0.95
    real_vs_real = judge_report(judge, train[:1000], held_out)
    blank_vs_real = judge_report(judge, train[:1000] * 0.0 - 1.0, held_out)  # 1000 black images
    assert real_vs_real["frechet_distance"] < blank_vs_real["frechet_distance"] / 10
    assert real_vs_real["classes_covered"] == 10 and real_vs_real["inception_score"] > 8


def test_precomputed_real_statistics_give_the_same_report():
    images, labels = load_mnist()
    images = ScalePixels(-1.0, 1.0)(images)
    judge = load_judge()
    generated, real = images[:300], images[-300:]
    from tinygen.metrics import feature_statistics

    assert judge_report(judge, generated, real) == judge_report(judge, generated, real_statistics=feature_statistics(judge, real))
    with pytest.raises(ValueError, match="either real images or their real_statistics"):
        judge_report(judge, generated)


@pytest.mark.parametrize("count", [0, 1])
def test_too_few_images_to_score_say_so(count):
    import tinygen

    judge, real = load_judge(), tinygen.rand(5, 1, 28, 28) * 2 - 1
    with pytest.raises(ValueError, match=rf"expected at least 2 feature vectors \(N, d\), got shape \({count}, 64\)"):
        judge_report(judge, tinygen.rand(count, 1, 28, 28), real)
