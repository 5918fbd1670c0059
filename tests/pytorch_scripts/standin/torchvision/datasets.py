"""MNIST for the stand-in: the same digits tinygen.vision reads from ``root``, as PIL images and ints."""
import tinygen.vision.datasets


class MNIST:
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.digits = tinygen.vision.datasets.MNIST(root, train=train, download=download)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.digits)

    def __getitem__(self, index):
        image, target = self.digits[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
