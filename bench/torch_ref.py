#!/usr/bin/env python3
"""torch_ref.py - bench_train's two trainings in PyTorch, for comparison.

Net P (3-conv ReLU_alpha net, batch 64, SGD) and net C (8/16/32-channel
ReLU_alpha net, batch 100, Adam) train on synthetic 28x28 images, on 1
and 2 threads; prints images/s.

    torch_ref.py               PyTorch alone
    torch_ref.py --compare F   beside relunet's figures: F (or - for stdin)
                               holds bench_train --tsv output

Needs Debian's python3-torch (use /usr/bin/python3: another python3 on PATH
may lack it). Without torch it says so and prints relunet's figures alone.
"""
import os
import sys
import time

BATCH = {"P": 64, "C": 100}


def relu_alpha(torch):
    """ReLU(x) - (1 - alpha) ReLU(-x) with one learned alpha per layer, written
    the way the studies' PyTorch code writes it."""
    class ReLUAlpha(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.alpha = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            return torch.relu(x) - (1 - self.alpha) * torch.relu(-x)
    return ReLUAlpha()


def build(which, torch):
    nn = torch.nn
    if which == "P":
        convs = [nn.Conv2d(1, 15, 2, 2), nn.Conv2d(15, 15, 2, 2), nn.Conv2d(15, 1, 2, 1)]
        linear = nn.Linear(36, 10)
    else:
        convs = [nn.Conv2d(1, 8, 5, padding=2), nn.Conv2d(8, 16, 5, padding=2),
                 nn.Conv2d(16, 32, 3, padding=1)]
        linear = nn.Linear(32 * 28 * 28, 10)
    layers = []
    for conv in convs:
        layers += [conv, relu_alpha(torch)]
    net = nn.Sequential(*layers, nn.Flatten(), linear)
    if which == "P":
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
    return net, opt


def images_per_second(which, threads, torch):
    """The best of three windows of about a quarter second, as bench_train."""
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    net, opt = build(which, torch)
    batch = BATCH[which]
    images = torch.rand(batch, 1, 28, 28)
    labels = torch.randint(0, 10, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        opt.step()

    step()
    start = time.perf_counter()
    step()
    steps = max(1, int(0.25 / (time.perf_counter() - start)) + 1)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, time.perf_counter() - start)
    return steps * batch / best


def read_relunet(path):
    """{(net, threads): {isa: images/s}} from bench_train --tsv lines."""
    results = {}
    source = sys.stdin if path == "-" else open(path)
    for line in source:
        fields = line.split()
        if len(fields) == 4:
            net, isa, threads, rate = fields
            results.setdefault((net, int(threads)), {})[isa] = float(rate)
    return results


def main():
    compare = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--compare" else None
    relunet = read_relunet(compare) if compare else {}
    try:
        import torch
    except ImportError:
        torch = None
        print("torch_ref.py: PyTorch is not installed (apt-get install python3-torch); "
              "printing relunet's figures only")
    threads_list = sorted({t for _, t in relunet} or {1, min(2, os.cpu_count() or 1)})
    print("%-4s %7s %15s %15s %15s %9s" % ("net", "threads", "relunet scalar", "relunet SIMD",
                                            "PyTorch", "SIMD/PT"))
    for which in "PC":
        for threads in threads_list:
            ours = relunet.get((which, threads), {})
            simd = max((rate for isa, rate in ours.items() if isa != "scalar"), default=None)
            theirs = images_per_second(which, threads, torch) if torch else None
            cell = lambda value: "%15.0f" % value if value else "%15s" % "-"
            ratio = "%9.2f" % (simd / theirs) if simd and theirs else "%9s" % "-"
            print("%-4s %7d %s %s %s %s" % (which, threads, cell(ours.get("scalar")), cell(simd),
                                             cell(theirs), ratio))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
