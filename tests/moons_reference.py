#!/usr/bin/env python3
"""Prints scikit-learn make_moons points for tests/test_data.c to compare.

    python3 tests/moons_reference.py > build/moons_reference.txt
    RELUNET_MOONS_REFERENCE=build/moons_reference.txt build/test_data

One line per point: n_samples noise shuffle seed index x y label.
"""
from sklearn.datasets import make_moons

CASES = [  # n_samples, noise, shuffle, random_state
    (100, 0.1, True, 42),  # the RAI study's data
    (7, 0.3, True, 0),
    (10, 0.0, False, 1),
    (1001, 0.25, True, 4294967295),
]

for n_samples, noise, shuffle, seed in CASES:
    X, y = make_moons(n_samples=n_samples, noise=noise, shuffle=shuffle, random_state=seed)
    for i, ((x0, x1), label) in enumerate(zip(X, y)):
        print(n_samples, repr(noise), int(shuffle), seed, i, repr(x0), repr(x1), label)
