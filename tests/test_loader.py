"""Datasets, the DataLoader (batching, reproducible and resumable shuffling), splits and batch transforms."""
import numpy as np
import pytest

import tinygen as tg
from tinygen.data import (
    Compose,
    DataLoader,
    Flatten,
    ScalePixels,
    Subset,
    TensorDataset,
    random_split,
    train_test_split,
)

OTHER_DEVICE = "strict" if tg.get_default_device() != "strict" else "cpu"


def numbered(count=10):
    """A dataset whose sample i is (a row holding i, label i % 3), so batches show which samples they hold."""
    rows = tg.arange(count, dtype=tg.float32).reshape(count, 1) * tg.ones(1, 2)
    return TensorDataset(rows, tg.tensor(np.arange(count) % 3))


def served(loader):
    """The sample numbers of each batch of one epoch."""
    return [rows.numpy()[:, 0].astype(int).tolist() for rows, _ in loader]


def seeded(seed):
    return tg.Generator("cpu", seed)


# --- datasets ------------------------------------------------------------------------------------------

def test_tensor_dataset_indexes_every_tensor_alike():
    dataset = numbered(5)
    assert len(dataset) == 5
    rows, labels = dataset[np.array([4, 0])]
    assert rows.numpy().tolist() == [[4.0, 4.0], [0.0, 0.0]] and labels.tolist() == [1, 0]
    row, label = dataset[3]
    assert row.tolist() == [3.0, 3.0] and label.item() == 0


def test_tensor_dataset_rejects_bad_tensors():
    with pytest.raises(ValueError, match=r"one length.*\(3, 2\).*\(4,\)"):
        TensorDataset(tg.zeros(3, 2), tg.zeros(4))
    with pytest.raises(TypeError, match="argument 1 must be a tensor"):
        TensorDataset(tg.zeros(3), [1, 2, 3])
    with pytest.raises(TypeError, match="0-d tensor"):
        TensorDataset(tg.zeros(()))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


# --- batching ------------------------------------------------------------------------------------------

def test_batches_in_order_with_a_smaller_last_batch():
    loader = DataLoader(numbered(10), batch_size=3)
    assert len(loader) == 4
    assert served(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    rows, labels = next(iter(loader))
    assert rows.shape == (3, 2) and labels.tolist() == [0, 1, 2] and rows.device == tg.get_default_device()


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(numbered(10), batch_size=3, drop_last=True)
    assert len(loader) == 3 and served(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(DataLoader(numbered(9), batch_size=3, drop_last=True)) == 3


def test_a_batch_larger_than_the_dataset_is_the_whole_dataset():
    loader = DataLoader(numbered(4), batch_size=10)
    assert len(loader) == 1 and served(loader) == [[0, 1, 2, 3]]


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True, "8"])
def test_bad_batch_size_is_an_error(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(numbered(4), batch_size=batch_size)


def test_drop_last_with_an_oversized_batch_is_an_error():
    with pytest.raises(ValueError, match=r"batch_size 5 is larger than the dataset \(4 samples\).*no batch"):
        DataLoader(numbered(4), batch_size=5, drop_last=True)


def test_other_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="empty"):
        DataLoader(TensorDataset(tg.zeros(0, 2)), batch_size=1)
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(numbered(4), transform="scale")
    with pytest.raises(ValueError, match=r"start_batch must be in \[0, 2\]"):
        DataLoader(numbered(4), batch_size=2).set_epoch(0, start_batch=3)


# --- shuffling -----------------------------------------------------------------------------------------

def test_each_shuffled_epoch_serves_every_sample_once_in_a_new_order():
    loader = DataLoader(numbered(20), batch_size=6, shuffle=True, generator=seeded(1))
    epochs = [sum(served(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(20))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != list(range(20))
    assert epochs[1] == loader.order(1).tolist()


def test_shuffling_is_reproducible_from_the_seed():
    first = DataLoader(numbered(20), batch_size=4, shuffle=True, generator=seeded(7))
    second = DataLoader(numbered(20), batch_size=4, shuffle=True, generator=seeded(7))
    other = DataLoader(numbered(20), batch_size=4, shuffle=True, generator=seeded(8))
    assert [served(first) for _ in range(2)] == [served(second) for _ in range(2)]
    assert served(other) != served(DataLoader(numbered(20), batch_size=4, shuffle=True, generator=seeded(7)))


def test_manual_seed_fixes_the_shuffle_without_a_generator():
    tg.manual_seed(123)
    first = served(DataLoader(numbered(20), batch_size=5, shuffle=True))
    tg.manual_seed(123)
    assert served(DataLoader(numbered(20), batch_size=5, shuffle=True)) == first


def test_a_resumed_run_gets_identical_batches():
    original = DataLoader(numbered(23), batch_size=4, shuffle=True, generator=seeded(3))
    for _ in range(2):
        served(original)
    epoch_two = served(original)
    resumed = DataLoader(numbered(23), batch_size=4, shuffle=True, generator=seeded(3))
    resumed.set_epoch(2, start_batch=3)
    assert served(resumed) == epoch_two[3:]
    assert served(resumed) == served(original)  # and the epoch after continues in step


def test_an_interrupted_epoch_still_advances_the_epoch():
    loader = DataLoader(numbered(10), batch_size=2, shuffle=True, generator=seeded(0))
    next(iter(loader))
    assert loader.epoch == 1 and sum(served(loader), []) == loader.order(1).tolist()


def test_the_generator_stream_is_not_consumed():
    generator = seeded(5)
    DataLoader(numbered(10), shuffle=True, generator=generator)
    assert generator.permutation(10).tolist() == seeded(5).permutation(10).tolist()


# --- device and transforms -----------------------------------------------------------------------------

def test_batches_are_delivered_on_the_requested_device():
    loader = DataLoader(numbered(6), batch_size=4, device=OTHER_DEVICE)
    rows, labels = next(iter(loader))
    assert rows.device == labels.device == OTHER_DEVICE


def test_the_transform_applies_to_the_inputs_only():
    pixels = tg.tensor(np.array([[[0, 255], [51, 102]]] * 3, dtype=np.uint8)).reshape(3, 1, 2, 2)
    loader = DataLoader(TensorDataset(pixels, tg.arange(3)), batch_size=2, device=OTHER_DEVICE,
                        transform=Compose([ScalePixels(-1.0, 1.0), Flatten()]))
    inputs, labels = next(iter(loader))
    assert inputs.shape == (2, 4) and inputs.dtype == tg.float32 and inputs.device == OTHER_DEVICE
    np.testing.assert_allclose(inputs.numpy()[0], [-1.0, 1.0, -0.6, -0.2], atol=1e-6)
    assert labels.tolist() == [0, 1]


def test_scale_pixels_ranges():
    pixels = tg.tensor(np.array([[0, 128, 255]], dtype=np.uint8))
    np.testing.assert_allclose(ScalePixels()(pixels).numpy(), [[0.0, 128 / 255, 1.0]], rtol=1e-7)
    np.testing.assert_allclose(ScalePixels(-1.0, 1.0)(pixels).numpy(), [[-1.0, 128 / 127.5 - 1, 1.0]], atol=1e-7)
    assert ScalePixels(dtype=tg.float64)(pixels).dtype == tg.float64
    with pytest.raises(ValueError, match="low < high"):
        ScalePixels(1.0, -1.0)
    with pytest.raises(TypeError, match="floating-point"):
        ScalePixels(dtype=tg.int64)
    assert "ScalePixels(low=-1.0, high=1.0" in repr(Compose([ScalePixels(-1.0, 1.0), Flatten()]))


# --- splits --------------------------------------------------------------------------------------------

def test_random_split_gives_disjoint_subsets_covering_the_dataset():
    dataset = numbered(10)
    parts = random_split(dataset, [6, 3, 1], generator=seeded(0))
    assert [len(part) for part in parts] == [6, 3, 1]
    indices = np.concatenate([part.indices for part in parts])
    assert sorted(indices.tolist()) == list(range(10))
    rows, _ = parts[1][np.arange(3)]
    assert rows.numpy()[:, 0].astype(int).tolist() == parts[1].indices.tolist()
    again = random_split(dataset, [6, 3, 1], generator=seeded(0))
    assert [p.indices.tolist() for p in again] == [p.indices.tolist() for p in parts]


def test_random_split_by_fractions_hands_out_the_remainder():
    parts = random_split(numbered(10), [0.45, 0.45, 0.1], generator=seeded(0))
    assert [len(part) for part in parts] == [5, 4, 1]


def test_random_split_rejects_bad_lengths():
    with pytest.raises(ValueError, match=r"add up to the dataset's 10"):
        random_split(numbered(10), [5, 4])
    with pytest.raises(ValueError, match="fractions"):
        random_split(numbered(10), [0.5, 0.6])


def test_train_test_split_holds_out_a_disjoint_part():
    train, test = train_test_split(numbered(50), test_size=0.2, generator=seeded(4))
    assert (len(train), len(test)) == (40, 10)
    assert not set(train.indices.tolist()) & set(test.indices.tolist())
    assert len(train_test_split(numbered(50), test_size=7, generator=seeded(4))[1]) == 7
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        train_test_split(numbered(50), test_size=0.001)
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        train_test_split(numbered(50), test_size=50)


def test_a_loader_serves_a_subset():
    train, _ = train_test_split(numbered(20), test_size=0.25, generator=seeded(2))
    loader = DataLoader(train, batch_size=4, shuffle=True, generator=seeded(9))
    assert isinstance(train, Subset) and sorted(sum(served(loader), [])) == sorted(train.indices.tolist())


def test_mnist_through_the_loader():
    from tinygen.data import load_mnist

    images, labels = load_mnist()
    loader = DataLoader(TensorDataset(images, labels), batch_size=256, shuffle=True, generator=seeded(0),
                        transform=ScalePixels())
    batch, batch_labels = next(iter(loader))
    assert batch.shape == (256, 1, 28, 28) and batch.dtype == tg.float32 and len(loader) == 40
    assert 0.0 <= batch.numpy().min() and batch.numpy().max() <= 1.0
    np.testing.assert_array_equal(batch_labels.numpy(), labels.numpy()[loader.order(0)[:256]])
