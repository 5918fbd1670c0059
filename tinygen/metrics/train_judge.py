"""Train the judge classifier on the bundled MNIST digits and save ``judge.npz`` beside this file.

    python -m tinygen.metrics.train_judge [--epochs 15] [--seed 0]

The last ``EVAL_SIZE`` images (the same held-out split the training CLI evaluates on) are not trained
on; the script reports the accuracy on them.
"""
import argparse

import tinygen
from tinygen import nn, optim
from tinygen.autograd.grad_mode import no_grad
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist, split_images
from tinygen.metrics.judge import WEIGHTS, JudgeClassifier
from tinygen.serialization import save

EVAL_SIZE = 1000


def accuracy(model, images, labels):
    with no_grad():
        predictions = model.eval()(images).argmax(dim=1)
    model.train()
    return float((predictions == labels).float().mean().item())


def main(argv=None):
    parser = argparse.ArgumentParser(description="train the judge classifier used by tinygen's metrics")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=WEIGHTS)
    args = parser.parse_args(argv)
    tinygen.manual_seed(args.seed)
    images, labels = load_mnist()
    images = ScalePixels(-1.0, 1.0)(images)
    (train_images, train_labels), (eval_images, eval_labels) = split_images(images, labels, EVAL_SIZE)
    model = JudgeClassifier()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=128, shuffle=True,
                        generator=tinygen.Generator(seed=args.seed))
    for epoch in range(args.epochs):
        for batch_images, batch_labels in loader:
            loss = nn.functional.cross_entropy(model(batch_images), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: train accuracy {accuracy(model, train_images, train_labels):.4f}, "
              f"held-out accuracy {accuracy(model, eval_images, eval_labels):.4f}")
    save({"model": model.state_dict(), "held_out_accuracy": accuracy(model, eval_images, eval_labels)}, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
