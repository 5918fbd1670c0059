"""Regression tests for the bugs users of small autograd engines and GAN/VAE teaching code hit again and again:
one module per family, each test named after the pitfall, its docstring saying what goes wrong elsewhere and why
tinygen gets it right. docs/pitfalls.md lists them all."""
