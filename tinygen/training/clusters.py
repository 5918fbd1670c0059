"""k-means: which training images look alike, for the self-conditioned DCGAN (``clusters``, tinygen/training/gan.py).

Lloyd's algorithm from k-means++ seeds (Arthur and Vassilvitskii 2007), on the flattened images:
    seeds:  c_1 = a point drawn uniformly; c_j = a point drawn with probability proportional to d(x)^2, its squared
            distance to the nearest seed so far
    repeat: k_i = argmin_j |x_i - c_j|^2 (assign), then c_j = mean of {x_i : k_i = j} (move; an empty cluster keeps
            its center), until no assignment changes or ``iterations`` are done
Each step lowers sum_i |x_i - c_{k_i}|^2, so it ends; where depends on the seeds, drawn from ``generator``.
"""
from tinygen import random as tg_random
from tinygen.autograd.grad_mode import no_grad
from tinygen.ops.elementwise import where
from tinygen.ops.indexing import one_hot


def squared_distances(points, centers):
    """(N, D), (K, D) -> (N, K): |x_i - c_j|^2 = |x_i|^2 - 2 x_i . c_j + |c_j|^2 (one product, no (N, K, D) array)."""
    return (points * points).sum(1, keepdim=True) - 2 * points @ centers.T + (centers * centers).sum(1)


def kmeans_plus_plus(points, clusters, generator):
    """(N, D) -> (clusters, D) seeds: each a point drawn with probability proportional to its squared distance to the
    nearest seed before it (the first uniformly)."""
    count = points.shape[0]
    chosen = [int(generator.integers(0, count, size=1)[0])]
    nearest = squared_distances(points, points[chosen[0]:chosen[0] + 1])[:, 0]
    for _ in range(1, clusters):
        weights = nearest.clamp(min=0).double().numpy()  # cancellation can leave -1e-7 where the distance is 0
        total = weights.sum()
        if total == 0:  # fewer distinct points than clusters: any point will do
            chosen.append(int(generator.integers(0, count, size=1)[0]))
        else:
            chosen.append(int(generator.choice(count, 1, True, weights / total)[0]))
        nearest = nearest.minimum(squared_distances(points, points[chosen[-1]:chosen[-1] + 1])[:, 0])
    return points[chosen]


def kmeans(points, clusters, iterations=30, generator=None):
    """(N, *) points -> ((N,) int64 cluster of each point, (clusters, *) centers, float32 for integer points): each
    point is in the cluster of its nearest center. ``generator`` (a ``tinygen.random.Generator``, default the global
    one) draws the seeds. With fewer distinct points than clusters, the clusters left over stay empty (their seeds
    repeat a point, and a point goes to the first of equally near centers)."""
    if not isinstance(clusters, int) or isinstance(clusters, bool) or clusters < 1 or not points.shape[0]:
        raise ValueError(f"kmeans: expected points and a whole number of clusters of at least 1, got "
                         f"{points.shape[0]} points and clusters={clusters!r}")
    generator = tg_random.resolve(generator, points.device)
    with no_grad():
        flat = points.reshape(points.shape[0], -1)
        flat = flat if flat.is_floating_point() else flat.float()  # float64 points stay float64
        centers = kmeans_plus_plus(flat, clusters, generator)
        assignment = squared_distances(flat, centers).argmin(1)
        for _ in range(iterations):
            members = one_hot(assignment, clusters).float()           # (N, K)
            counts = members.sum(0)[:, None]                            # (K, 1)
            centers = where(counts > 0, members.T @ flat / counts.clamp(min=1), centers)
            moved = squared_distances(flat, centers).argmin(1)
            if bool((moved == assignment).all()):
                break
            assignment = moved
    return assignment, centers.reshape(clusters, *points.shape[1:])
