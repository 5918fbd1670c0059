"""tinygen.vision: MNIST with torchvision's class and folders, the transforms, make_grid and save_image, checked
against torchvision's documented rules (sizes, rounding, layouts) since torchvision is not installable here."""
import gzip
import warnings

import numpy as np
import pytest
from PIL import Image

import tinygen
from tinygen.vision import datasets, transforms
from tinygen.vision.utils import make_grid, save_image

from helpers import assert_close, host
from test_mnist import FileServer, fake_training_files


# --- MNIST ------------------------------------------------------------------------------------------------

def test_test_split_is_the_bundled_digits(tmp_path):
    dataset = datasets.MNIST(tmp_path, train=False)
    image, label = dataset[0]
    assert len(dataset) == 10000 and isinstance(image, Image.Image) and image.mode == "L"
    assert image.size == (28, 28) and isinstance(label, int) and label == 7
    assert dataset.data.shape == (10000, 28, 28) and dataset.data.dtype == tinygen.uint8
    assert dataset.targets.dtype == tinygen.int64 and dataset.class_to_idx["3 - three"] == 3


def test_missing_training_split_falls_back_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGEN_DATA", str(tmp_path / "empty-cache"))
    with pytest.warns(UserWarning, match="using the 10,000 bundled test digits instead") as caught:
        dataset = datasets.MNIST(tmp_path, train=True)
    assert len(caught) == 1 and "download=True" in str(caught[0].message) and len(dataset) == 10000


@pytest.mark.parametrize("compressed", [False, True])
def test_training_split_is_read_from_torchvisions_folder(tmp_path, compressed, monkeypatch):
    files, md5s, (images, labels) = fake_training_files(count=12)
    monkeypatch.setattr(datasets.MNIST, "checksums", md5s)  # .gz files are checked against these md5s
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, data in files.items():
        if compressed:
            (raw / name).write_bytes(data)
        else:  # torchvision keeps the files unpacked
            (raw / name[:-3]).write_bytes(gzip.decompress(data))
    dataset = datasets.MNIST(str(tmp_path), train=True, transform=transforms.ToTensor(),
                             target_transform=lambda y: y + 100)
    assert len(dataset) == 12
    tensor, label = dataset[5]
    assert_close(tensor[0], images[5] / 255.0, rtol=1e-6) and label == labels[5] + 100


def test_download_fetches_into_torchvisions_folder(tmp_path, monkeypatch):
    server = FileServer()
    try:
        files, md5s, (images, _) = fake_training_files(count=9)
        server.files.update(files)
        monkeypatch.setattr(datasets.MNIST, "mirrors", [server.url])
        monkeypatch.setattr(datasets.MNIST, "checksums", md5s)
        monkeypatch.setenv("TINYGEN_DATA", str(tmp_path / "empty-cache"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dataset = datasets.MNIST(tmp_path, train=True, download=True)
        assert len(dataset) == 9 and (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()
        assert np.array_equal(np.asarray(dataset[2][0]), images[2])
    finally:
        server.close()


def test_unreachable_mirror_warns_and_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setenv("TINYGEN_DATA", str(tmp_path / "empty-cache"))
    with pytest.warns(UserWarning) as caught:
        dataset = datasets.MNIST(tmp_path, train=True, download=True)
    messages = " | ".join(str(w.message) for w in caught)
    assert "could not download" in messages and "bundled test digits" in messages and len(dataset) == 10000


# --- transforms ---------------------------------------------------------------------------------------------

def digit(size=(28, 28), seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, size[::-1], dtype=np.uint8))


def test_to_tensor_scales_pixels_and_puts_channels_first():
    image = digit((5, 3))
    tensor = transforms.ToTensor()(image)
    assert tensor.shape == (1, 3, 5) and tensor.dtype == tinygen.float32
    assert_close(tensor[0], np.asarray(image) / np.float32(255), rtol=1e-6)
    rgb = np.random.default_rng(1).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    assert transforms.ToTensor()(rgb).shape == (3, 4, 6)
    assert transforms.ToTensor()(np.zeros((2, 2), dtype=np.float64)).dtype == tinygen.float64
    assert transforms.PILToTensor()(image).dtype == tinygen.uint8


def test_normalize_and_compose_and_lambda():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,)),
                                   transforms.Lambda(lambda x: x * 2)])
    out = pipeline(Image.fromarray(np.array([[0, 255]], dtype=np.uint8)))
    assert_close(out, [[[-2.0, 2.0]]])
    three = transforms.Normalize((0.1, 0.2, 0.3), (1.0, 2.0, 4.0))(tinygen.ones(3, 1, 1))
    assert_close(three.reshape(-1), [0.9, 0.4, 0.175], rtol=1e-6)
    with pytest.raises(TypeError, match="Normalize: expected a float tensor"):
        transforms.Normalize((0.5,), (0.5,))(tinygen.ones(1, 2, 2, dtype=tinygen.uint8))


@pytest.mark.parametrize("size, expected", [(32, (32, 32)), ((20, 10), (20, 10)), ([14], (14, 14))])
def test_resize_of_a_pil_image_is_pillows_resize(size, expected):
    image = digit()
    resized = transforms.Resize(size)(image)
    assert resized.size == expected[::-1]
    assert np.array_equal(np.asarray(resized), np.asarray(image.resize(expected[::-1], Image.BILINEAR)))
    nearest = transforms.Resize(size, interpolation=transforms.InterpolationMode.NEAREST)(image)
    assert np.array_equal(np.asarray(nearest), np.asarray(image.resize(expected[::-1], Image.NEAREST)))


def test_resize_keeps_the_aspect_ratio_by_the_shorter_side():
    assert transforms.resized_size(30, 20, 10) == (15, 10) and transforms.resized_size(20, 30, 10) == (10, 15)
    assert transforms.resized_size(20, 30, 10, max_size=12) == (8, 12)
    assert transforms.Resize(28)(digit()).size == (28, 28)


def test_resize_of_a_tensor_is_bilinear_interpolation():
    x = tinygen.randn(1, 6, 5)
    bigger = transforms.Resize((9, 10))(x)
    expected = tinygen.nn.functional.interpolate(x.unsqueeze(0), size=(9, 10), mode="bilinear", align_corners=False)
    assert_close(bigger, expected[0])
    assert transforms.Resize((3, 4), antialias=False)(tinygen.randn(2, 1, 6, 5)).shape == (2, 1, 3, 4)
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        transforms.Resize(3)(x)


def test_center_crop_takes_the_middle_and_pads_when_needed():
    image = digit((6, 6))
    cropped = transforms.CenterCrop(4)(image)
    assert np.array_equal(np.asarray(cropped), np.asarray(image)[1:5, 1:5])
    tensor = tinygen.arange(25.0).reshape(1, 5, 5)
    # top = round((5 - 2) / 2) = 2 (Python rounds half to even, as torchvision's round does), left = 1
    assert host(transforms.CenterCrop((2, 3))(tensor)).tolist() == [[[11.0, 12.0, 13.0], [16.0, 17.0, 18.0]]]
    padded = transforms.CenterCrop(7)(tensor)
    assert padded.shape == (1, 7, 7) and host(padded)[0, 1, 1] == 0.0 and host(padded)[0, 1:6, 1:6].sum() == 300
    assert transforms.CenterCrop(8)(image).size == (8, 8)


# --- make_grid and save_image -------------------------------------------------------------------------------

def test_make_grid_layout_matches_torchvision():
    images = tinygen.rand(10, 1, 4, 5)
    grid = make_grid(images, nrow=4, padding=2, pad_value=0.5)
    assert grid.shape == (3, 3 * (4 + 2) + 2, 4 * (5 + 2) + 2)  # ceil(10 / 4) rows, one-channel made three
    cell = host(grid)[:, 2 + 6:2 + 6 + 4, 2 + 7:2 + 7 + 5]  # image 5: row 1, column 1
    assert np.array_equal(cell[0], host(images)[5, 0]) and np.array_equal(cell[2], host(images)[5, 0])
    assert host(grid)[0, 0, 0] == 0.5 and host(grid)[0, -1, -1] == 0.5
    assert make_grid(images[:1]).shape == (3, 4, 5)
    assert make_grid([images[0], images[1]], nrow=1).shape == (3, 2 * 6 + 2, 7 + 2)


def test_make_grid_normalize_and_scale_each():
    images = tinygen.tensor([[[[-1.0, 1.0]]], [[[0.0, 3.0]]]])
    overall = host(make_grid(images, normalize=True, padding=0))
    assert overall.min() == 0.0 and overall.max() == 1.0 and overall[0, 0, 0] == 0.0
    each = host(make_grid(images, normalize=True, scale_each=True, padding=0))
    assert each[0].tolist() == [[0.0, 1.0, 0.0, 1.0]]
    clipped = host(make_grid(images, normalize=True, value_range=(0.0, 1.0), padding=0))
    assert clipped[0].tolist() == [[0.0, 1.0, 0.0, 1.0]]
    with pytest.raises(TypeError, match="value_range must be a tuple"):
        make_grid(images, normalize=True, value_range=[0, 1])


def test_save_image_rounds_and_writes_three_channels(tmp_path):
    images = tinygen.tensor([[[[0.0, 0.5, 1.2]]], [[[0.001, 0.999, -0.3]]]], requires_grad=True)
    path = tmp_path / "grid.png"
    save_image(images, path, nrow=2, padding=1, pad_value=1.0)
    pixels = np.asarray(Image.open(path))
    assert pixels.shape == (3, 9, 3) and pixels[1, 1:4, 0].tolist() == [0, 128, 255]
    assert pixels[1, 5:8, 0].tolist() == [0, 255, 0] and pixels[0, 0, 0] == 255
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    save_image(images[0], tmp_path / "one.jpg")
    assert Image.open(tmp_path / "one.jpg").format == "JPEG"
    with pytest.raises(ValueError, match="cannot tell the image format"):
        save_image(images, tmp_path / "grid")
