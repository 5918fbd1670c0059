"""tinygen.utils.data: PyTorch's Dataset / DataLoader contract, default collate, samplers, random_split, and the
one-gather path for TensorDataset agreeing with sample-by-sample collation."""
import collections

import numpy as np
import pytest

import tinygen
from tinygen.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)

from helpers import host

Point = collections.namedtuple("Point", ["x", "y"])


class Squares(Dataset):
    """A per-sample dataset: (tensor image, int label, float weight, name)."""

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return tinygen.full((2, 2), float(index)), index, index / 2, f"s{index}"


def test_default_collate_follows_pytorch_rules():
    batch = default_collate([Squares()[0], Squares()[3]])
    assert isinstance(batch, list) and batch[0].shape == (2, 2, 2) and batch[0].dtype == tinygen.float32
    assert batch[1].dtype == tinygen.int64 and host(batch[1]).tolist() == [0, 3]
    assert batch[2].dtype == tinygen.float64 and batch[3] == ["s0", "s3"]
    mapped = default_collate([{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}])
    assert host(mapped["a"]).tolist() == [1, 2] and mapped["b"].shape == (2, 2)
    point = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert isinstance(point, Point) and host(point.x).tolist() == [1.0, 3.0]
    assert host(default_collate([True, False])).dtype == np.bool_


def test_default_collate_errors_are_clear():
    with pytest.raises(RuntimeError, match="differ in shape"):
        default_collate([tinygen.zeros(2), tinygen.zeros(3)])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="same number of entries"):
        default_collate([(1, 2), (1,)])


def test_loader_batches_in_order_with_drop_last():
    loader = DataLoader(Squares(), batch_size=4, num_workers=2, pin_memory=True)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert host(batches[1][1]).tolist() == [4, 5, 6, 7]
    dropped = DataLoader(Squares(), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [host(b[1]).tolist() for b in dropped] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert loader.dataset is not None and loader.batch_size == 4


def test_shuffle_is_a_new_permutation_each_epoch_and_seeded():
    loader = DataLoader(Squares(), batch_size=10, shuffle=True, generator=tinygen.Generator("cpu", 3))
    first, second = (host(next(iter(loader))[1]).tolist() for _ in range(2))
    assert sorted(first) == list(range(10)) and first != second
    again = DataLoader(Squares(), batch_size=10, shuffle=True, generator=tinygen.Generator("cpu", 3))
    assert host(next(iter(again))[1]).tolist() == first


def test_tensor_dataset_takes_the_gather_path_with_the_same_result():
    images, labels = tinygen.randn(7, 1, 3, 3), tinygen.arange(7)
    fast = list(DataLoader(TensorDataset(images, labels), batch_size=3))
    slow = list(DataLoader(TensorDataset(images, labels), batch_size=3, collate_fn=lambda b: default_collate(b)))
    for (a, b), (c, d) in zip(fast, slow):
        assert np.array_equal(host(a), host(c)) and np.array_equal(host(b), host(d))
    subset_batches = list(DataLoader(Subset(TensorDataset(images, labels), [6, 0, 3]), batch_size=2))
    assert host(subset_batches[0][1]).tolist() == [6, 0]


def test_samplers_and_batch_sampler():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    assert sorted(RandomSampler(range(5))) == list(range(5)) and len(RandomSampler(range(5), num_samples=3)) == 3
    assert len(list(RandomSampler(range(5), replacement=True, num_samples=12))) == 12
    assert sorted(SubsetRandomSampler([2, 4, 6])) == [2, 4, 6]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    loader = DataLoader(Squares(), batch_sampler=BatchSampler(range(4), 3, drop_last=False))
    assert [len(b[1]) for b in loader] == [3, 1]
    assert host(next(iter(DataLoader(Squares(), sampler=SubsetRandomSampler([5]))))[1]).tolist() == [5]


def test_getitems_protocol_and_unbatched_loading():
    class Batched(Squares):
        def __getitems__(self, indices):
            return [self[i] for i in indices]

    assert len(next(iter(DataLoader(Batched(), batch_size=3)))[1]) == 3
    single = next(iter(DataLoader(Squares(), batch_size=None)))
    assert isinstance(single[1], int) and single[0].shape == (2, 2)


def test_argument_conflicts_are_errors():
    with pytest.raises(ValueError, match="sampler and shuffle=True are mutually exclusive"):
        DataLoader(Squares(), sampler=SequentialSampler(range(10)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(Squares(), batch_size=4, batch_sampler=BatchSampler(range(4), 2, False))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(Squares(), batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(Squares(), num_workers=-1)
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


def test_random_split_is_disjoint_and_seeded():
    parts = random_split(Squares(), [0.7, 0.3], generator=tinygen.Generator("cpu", 0))
    indices = [int(i) for part in parts for i in part.indices]
    assert [len(p) for p in parts] == [7, 3] and sorted(indices) == list(range(10))
    assert parts[0][0][1] == int(parts[0].indices[0])


def test_tinygen_data_loader_is_still_the_fast_batched_one():
    from tinygen.data import DataLoader as FastLoader

    assert FastLoader is not DataLoader
    images, labels = next(iter(FastLoader(TensorDataset(tinygen.zeros(4, 2), tinygen.arange(4)), batch_size=2)))
    assert images.shape == (2, 2)


@pytest.mark.torch
def test_collation_matches_pytorch():
    torch = pytest.importorskip("torch")
    samples = [(np.arange(3.0), 1, 0.5, {"k": 2}), (np.arange(3.0) + 1, 2, 1.5, {"k": 3})]
    ours, theirs = default_collate(samples), torch.utils.data.default_collate(samples)
    assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for mine, their in zip(ours[:3], theirs[:3]):
        assert np.array_equal(host(mine), their.numpy()) and str(mine.dtype) == str(their.dtype).split(".")[1]
    assert host(ours[3]["k"]).tolist() == theirs[3]["k"].tolist()
