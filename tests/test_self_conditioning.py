"""The self-conditioned DCGAN (the default recipe's ``clusters``): k-means of the training images, a generator that
draws its cluster from z, a discriminator that reads each image's cluster, and the recipe that joins them."""
import re
import statistics

import numpy as np
import pytest

import tinygen
from tinygen.cli import main
from tinygen.models import ClusterConditionedGenerator, SpectralNormDiscriminator
from tinygen.serialization import load
from tinygen.training import DEFAULTS, TrainConfig, build_recipe, train
from tinygen.training.clusters import kmeans

from helpers import host


def quiet(**options):
    return TrainConfig(progress=False, **dict(dict(eval_size=200), **options))


def _blobs(seed=0, per_blob=40, spread=0.05):
    """Three tight blobs of 5-D points far apart, in a shuffled order: (points, blob of each point)."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0, 0, 0, 0], [4, 0, 0, 0, 0], [0, 4, 4, 0, 0]], dtype=np.float32)
    blob = rng.permutation(np.repeat(np.arange(3), per_blob))
    points = centers[blob] + spread * rng.standard_normal((len(blob), 5)).astype(np.float32)
    return points, blob


@pytest.mark.parametrize("seed", range(5))
def test_kmeans_finds_well_separated_blobs(seed):
    """Three blobs, three clusters: each cluster is one blob and its center is the blob's mean (k-means++ seeds one
    point in each blob almost surely; Lloyd's steps then stay)."""
    points, blob = _blobs(seed)
    assignment, centers = kmeans(tinygen.tensor(points), 3, generator=tinygen.random.Generator(seed=seed))
    assignment, centers = host(assignment), host(centers)
    assert assignment.dtype == np.int64 and centers.shape == (3, 5)
    for cluster in range(3):
        members = blob[assignment == cluster]
        assert len(members) == 40 and (members == members[0]).all()
        np.testing.assert_allclose(centers[cluster], points[assignment == cluster].mean(axis=0), rtol=1e-5, atol=1e-6)


def _lloyd_fixed_point(points, assignment, centers):
    """Each point is in the cluster of its nearest center, and each center with members is their mean."""
    distances = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(distances.argmin(1), assignment)
    for cluster in np.unique(assignment):
        np.testing.assert_allclose(centers[cluster], points[assignment == cluster].mean(axis=0), rtol=1e-4, atol=1e-5)


def test_kmeans_ends_at_a_fixed_point_of_lloyds_steps_and_repeats_with_its_seed():
    """On points with no clusters at all (uniform noise), k-means still ends where neither step changes anything,
    its (N, *) points' centers have their shape and dtype (float64 here), and the same generator seed gives the same
    clusters; integer points have float32 centers."""
    points = np.random.default_rng(1).random((300, 2, 3))
    runs = [kmeans(tinygen.tensor(points), 7, iterations=200, generator=tinygen.random.Generator(seed=3))
            for _ in range(2)]
    assignment, centers = (host(part) for part in runs[0])
    assert centers.shape == (7, 2, 3) and centers.dtype == np.float64 and set(assignment) == set(range(7))
    assert kmeans(tinygen.tensor((points * 10).astype(np.int64)), 3)[1].dtype == tinygen.float32
    _lloyd_fixed_point(points.reshape(300, 6), assignment, centers.reshape(7, 6))
    np.testing.assert_array_equal(assignment, host(runs[1][0]))


def test_kmeans_with_fewer_distinct_points_than_clusters_and_bad_counts():
    """Four copies of two points in three clusters, and three points in five: the clusters left over are empty,
    every point is in the cluster of a center at it; a count of clusters below 1, or no points, is refused."""
    for points, clusters, distinct in (([[0.0, 0.0], [1.0, 1.0]] * 4, 3, 2), ([[0.0], [2.0], [5.0]], 5, 3)):
        assignment, centers = kmeans(tinygen.tensor(points), clusters, generator=tinygen.random.Generator(seed=0))
        assignment, centers = host(assignment), host(centers)
        assert len(set(assignment.tolist())) == distinct and centers.shape == (clusters, len(points[0]))
        np.testing.assert_array_equal(centers[assignment], np.array(points, dtype=np.float32))
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"^kmeans: expected points and a whole number of clusters of at least 1"):
            kmeans(tinygen.zeros(8, 2), bad)
    with pytest.raises(ValueError, match=r"got 0 points and clusters=2$"):
        kmeans(tinygen.zeros(0, 2), 2)


def test_the_generator_draws_each_cluster_with_its_share():
    """k(z) = #{j : z_0 > t_j} with t_j = Phi^-1(s_0 + ... + s_j): over 40,000 codes each cluster's frequency is its
    share (within 4 standard errors), a code just below a threshold is in the cluster before it, just above in the
    one after; equal shares until ``set_clusters``."""
    generator = ClusterConditionedGenerator(latent_dim=6, clusters=4, features=4)
    z = tinygen.randn(40_000, 6, generator=tinygen.random.Generator(seed=0))
    np.testing.assert_allclose(np.bincount(host(generator.cluster(z)), minlength=4) / 40_000, 0.25, atol=0.01)
    shares = [0.1, 0.6, 0.0, 0.3]
    generator.set_clusters(tinygen.zeros(4, 1, 28, 28), shares)
    frequencies = np.bincount(host(generator.cluster(z)), minlength=4) / 40_000
    np.testing.assert_allclose(frequencies, shares, atol=4 * np.sqrt(0.25 / 40_000))
    edges = [statistics.NormalDist().inv_cdf(cumulative) for cumulative in (0.1, 0.7)]
    codes = tinygen.zeros(4, 6)
    codes[:, 0] = tinygen.tensor([edges[0] - 1e-4, edges[0] + 1e-4, edges[1] - 1e-4, edges[1] + 1e-4])
    assert host(generator.cluster(codes)).tolist() == [0, 1, 1, 3]  # cluster 2 has no share: never drawn


def test_the_generator_makes_an_image_of_the_cluster_it_draws():
    """G(z) = body(cat(z[1:], onehot(k(z)))): the same z[1:] in another cluster gives another image."""
    tinygen.manual_seed(0)
    generator = ClusterConditionedGenerator(latent_dim=5, clusters=3, features=4).eval()
    z = tinygen.randn(6, 5)
    code = np.eye(3, dtype=np.float32)[host(generator.cluster(z))]
    expected = generator.body(tinygen.tensor(np.concatenate([host(z)[:, 1:], code], axis=1)))
    np.testing.assert_array_equal(host(generator(z)), host(expected))
    z[:, 0] = -3.0
    first = generator(z)
    z[:, 0] = 3.0
    assert host(generator.cluster(z)).tolist() == [2] * 6 and not np.allclose(host(first), host(generator(z)))


def test_the_generator_tells_an_images_cluster_by_its_nearest_center():
    """``cluster_of_images`` against the brute-force nearest center; ``set_clusters`` refuses centers of another
    shape and shares that are not a distribution over the clusters; the clusters are saved with the weights."""
    rng = np.random.default_rng(0)
    generator = ClusterConditionedGenerator(latent_dim=3, clusters=5, features=4)
    centers, images = rng.standard_normal((5, 1, 28, 28)), rng.standard_normal((30, 1, 28, 28))
    generator.set_clusters(tinygen.tensor(centers.astype(np.float32)), [0.2] * 5)
    nearest = ((images[:, None] - centers[None]) ** 2).reshape(30, 5, -1).sum(-1).argmin(1)
    assert host(generator.cluster_of_images(tinygen.tensor(images.astype(np.float32)))).tolist() == nearest.tolist()
    state = generator.state_dict()
    np.testing.assert_array_equal(host(state["centers"]), centers.astype(np.float32))
    assert state["thresholds"].shape == (4,)
    with pytest.raises(ValueError, match=r"^set_clusters: expected centers of shape \(5, 1, 28, 28\), got \(5, 784\)$"):
        generator.set_clusters(tinygen.zeros(5, 784), [0.2] * 5)
    for shares in ([0.5, 0.5], [0.3, 0.3, 0.3, 0.3, -0.2], [0.1] * 5):
        with pytest.raises(ValueError, match=r"^set_clusters: expected 5 non-negative shares adding up to 1"):
            generator.set_clusters(tinygen.zeros(5, 1, 28, 28), shares)
    for bad in (1, 0, 2.5):
        with pytest.raises(ValueError, match="ClusterConditionedGenerator: clusters must be a whole number of at "
                                             "least 2"):
            ClusterConditionedGenerator(clusters=bad)


def test_the_discriminator_adds_the_projection_of_the_images_cluster():
    """D(x, k) = net(x) + e_k . phi(x), with phi(x) the read-out's input and e_k column k of the normalized
    embedding (in eval mode: the spectral norms' vectors stay); without clusters D is the plain critic, and giving
    or withholding clusters against how D was made is refused."""
    tinygen.manual_seed(0)
    plain_d = SpectralNormDiscriminator(features=4).eval()
    conditioned = SpectralNormDiscriminator(features=4, clusters=3).eval()
    images, clusters = tinygen.randn(5, 1, 28, 28), tinygen.tensor([2, 0, 1, 1, 0])
    with tinygen.no_grad():
        features = host(conditioned.net[:-1](images))
        read_out = host(conditioned.net[-1](conditioned.net[:-1](images)))
        embedding = host(conditioned.embed(tinygen.eye(3)))  # row k: e_k
        expected = read_out + (embedding[host(clusters)] * features).sum(1, keepdims=True)
        np.testing.assert_allclose(host(conditioned(images, clusters)), expected, rtol=1e-5, atol=1e-6)
        assert conditioned(images, clusters).shape == plain_d(images).shape == (5, 1)
    assert hasattr(conditioned.embed, "weight_orig")
    with pytest.raises(ValueError, match="made with 3 clusters: give each image's cluster"):
        conditioned(images)
    with pytest.raises(ValueError, match=r"made without clusters \(clusters=0\): give none"):
        plain_d(images, clusters)
    for shape in ((1,), (5, 1), (4,)):
        with pytest.raises(ValueError, match=re.escape(f"expected one cluster per image, of shape (5,), got {shape}")):
            conditioned(images, tinygen.zeros(*shape, dtype=tinygen.int64))


def test_the_discriminator_step_reads_real_images_by_center_and_fakes_by_their_draw(tmp_path, monkeypatch):
    """In a training step D sees each real image with the cluster of its nearest center and each fake with the
    cluster G drew it from; before ``prepare`` there are no clusters, and a step says so."""
    recipe = build_recipe(quiet(model="dcgan", latent_dim=4, clusters=3, out=str(tmp_path)))
    real = tinygen.rand(8, 1, 28, 28) * 2 - 1
    with pytest.raises(RuntimeError, match=r"call prepare\(training_images\) before train_step"):
        recipe.train_step(real)
    recipe.prepare(tinygen.rand(30, 1, 28, 28) * 2 - 1)
    seen = []
    original = type(recipe.discriminator).forward
    monkeypatch.setattr(type(recipe.discriminator), "forward",
                        lambda d, images, clusters=None: seen.append(host(clusters)) or original(d, images, clusters))
    noise = tinygen.randn(8, 4)
    monkeypatch.setattr(recipe, "noise", lambda n: noise)
    recipe.train_step(real)
    drawn, nearest = host(recipe.generator.cluster(noise)), host(recipe.generator.cluster_of_images(real))
    assert [clusters.tolist() for clusters in seen] == [np.concatenate([nearest, drawn]).tolist(), drawn.tolist()]


def test_prepare_clusters_the_training_images_for_every_generator(tmp_path):
    """The run's seed draws the k-means seeds; G and the average of G get the clusters' centers, and shares equal
    to the clusters' sizes: G draws clusters as often as they hold training images."""
    recipe = build_recipe(quiet(model="dcgan", latent_dim=4, clusters=4, seed=3, out=str(tmp_path)))
    images = tinygen.rand(40, 1, 28, 28) * 2 - 1
    recipe.prepare(images)
    assignment, centers = kmeans(images, 4, generator=tinygen.random.Generator(seed=3))
    cumulative = np.cumsum(np.bincount(host(assignment), minlength=4))[:-1] / 40
    for generator in (recipe.generator, recipe.average_generator):
        np.testing.assert_array_equal(host(generator.centers), host(centers))
        np.testing.assert_allclose(host(generator.thresholds),
                                   [statistics.NormalDist().inv_cdf(share) for share in cumulative], rtol=1e-6)


@pytest.mark.slow
def test_a_resumed_run_keeps_the_clusters_of_its_checkpoint(tmp_path, monkeypatch):
    """A fresh run clusters its training images once; a resumed one reads its clusters from the checkpoint (no
    k-means: its seeds could differ on another machine) and continues with them."""
    import tinygen.training.gan as gan

    calls = []
    monkeypatch.setattr(gan, "kmeans", lambda *args, **kwargs: calls.append(1) or kmeans(*args, **kwargs))
    config = dict(model="dcgan", latent_dim=4, batch_size=8, subset=64, clusters=3, out=str(tmp_path))
    train(quiet(epochs=1, **config), log=lambda line: None)
    saved = load(str(tmp_path / "checkpoint.npz"))["state"]["model.generator"]
    train(quiet(epochs=2, resume=True, **config), log=lambda line: None)
    resumed = load(str(tmp_path / "checkpoint.npz"))
    assert calls == [1] and resumed["epochs_done"] == 2
    for name in ("centers", "thresholds"):
        np.testing.assert_array_equal(host(resumed["state"]["model.generator"][name]), host(saved[name]))


def test_clusters_is_a_checked_setting_of_the_default_dcgan(tmp_path, capsys):
    """The default DCGAN's clusters (``DEFAULTS``), 0 for none; the seed recipe and the other families have no such
    setting, and a count of 1 or below 0 is refused, each in one line."""
    assert [quiet(model="dcgan").clusters, quiet(model="dcgan", recipe="seed").clusters,
            quiet(model="wgan-gp").clusters] == [DEFAULTS["dcgan"]["clusters"], None, None]
    plain = build_recipe(quiet(model="dcgan", latent_dim=4, clusters=0, out=str(tmp_path)))
    assert type(plain.generator).__name__ == "DCGANGenerator" and plain.discriminator.clusters == 0
    for bad in (1, -2, 2.5, True, "4"):
        with pytest.raises(ValueError, match=rf"^clusters must be 0 \(none\) or a whole number of k-means clusters of "
                                             rf"at least 2, got {bad!r}$"):
            quiet(model="dcgan", clusters=bad)
    for other in (dict(model="dcgan", recipe="seed"), dict(model="gan")):
        with pytest.raises(ValueError, match=r"^clusters is a setting of the default recipe of dcgan only"):
            quiet(clusters=4, **other)
    for options in (["dcgan", "--clusters", "1"], ["gan", "--clusters", "4"]):
        assert main(["train", *options, "--out", str(tmp_path / "cli"), "--no-progress"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "clusters" in error


def test_more_clusters_than_training_digits_is_refused_before_any_network_is_made(tmp_path, capsys):
    """20,000 clusters of 9,000 digits, or 10**9 (whose networks could not be made): one line naming clusters and
    the number of digits, before k-means or the networks take time or memory."""
    for clusters in (20_000, 10**9):
        assert main(["train", "dcgan", "--clusters", str(clusters), "--out", str(tmp_path), "--no-progress"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1
        assert f"clusters {clusters} is more than the 9000 training samples: at most one cluster per" in error


def test_a_small_subset_leaves_the_clusters_it_cannot_fill_empty(tmp_path):
    """A quick run on 12 digits with the default clusters: each digit is a cluster of its own, with a share of
    1/12, and the other clusters are never drawn."""
    recipe = build_recipe(quiet(model="dcgan", latent_dim=4, out=str(tmp_path)))
    digits = tinygen.rand(12, 1, 28, 28) * 2 - 1
    recipe.prepare(digits)
    drawn = np.bincount(host(recipe.generator.cluster(tinygen.randn(24_000, 4))), minlength=recipe.clusters)
    assert recipe.clusters > 12 and (drawn > 0).sum() == 12
    np.testing.assert_allclose(drawn[drawn > 0] / 24_000, 1 / 12, atol=0.01)
    assert sorted(host(recipe.generator.cluster_of_images(digits)).tolist()) == sorted(np.flatnonzero(drawn).tolist())
