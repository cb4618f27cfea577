#!/usr/bin/env python3
"""compare.py - the benches' figures beside PyTorch's and beside the goals.

Reads the rows the benches wrote with --tsv FILE (figure, isa, threads,
value, unit) from DIR/*.tsv, times the same trainings in PyTorch (net P,
net C and the LeNet mixture, on the thread counts bench_train used), and
prints one table: every goal with the figure measured for it, whether it is
met, and what it was compared with. The table is written to DIR/goals.tsv
too, for tracking.

    compare.py DIR

Needs Debian's python3-torch for the PyTorch rows (use /usr/bin/python3:
another python3 on PATH may lack it). Without torch it says so, and those
rows read "no PyTorch".
"""
import glob
import os
import sys
import time

BATCH = {"net P": 64, "net C": 100, "LeNet mixture": 64}


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


def mixture(torch):
    """relunet's RN_ACT_MIX_ADAPTIVE: X ATanh + Y ASigmoid + Z AReLU with one
    a, b, c, d shared by the three, X, Y, Z the weights over their sum."""
    class MixAdaptive(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.Parameter(torch.ones(3))
            self.abcd = torch.nn.Parameter(torch.tensor([1.0, 1.0, 0.0, 0.0]))

        def forward(self, x):
            a, b, c, d = self.abcd
            w = self.weights / self.weights.sum()
            u = a * x + c
            return (w[0] * (b * torch.tanh(u) + d) + w[1] * (b * torch.sigmoid(u) + d)
                    + w[2] * torch.maximum(u, b * x + d))
    return MixAdaptive()


def build(which, torch):
    nn = torch.nn
    if which == "LeNet mixture":
        net = nn.Sequential(nn.Conv2d(3, 6, 5, padding=2), nn.BatchNorm2d(6), mixture(torch),
                            nn.MaxPool2d(2), nn.Conv2d(6, 16, 5, padding=2), nn.BatchNorm2d(16),
                            mixture(torch), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 120),
                            nn.BatchNorm1d(120), mixture(torch), nn.Dropout(0.1),
                            nn.Linear(120, 10))
        return net, torch.optim.SGD(net.parameters(), lr=0.001), (3, 32, 32)
    if which == "net P":
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
    if which == "net P":
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
    return net, opt, (1, 28, 28)


def torch_images_per_second(which, threads, torch):
    """The best of three windows of about a quarter second, as bench_train."""
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    net, opt, shape = build(which, torch)
    batch = BATCH[which]
    images = torch.rand(batch, *shape)
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


class Rows:
    """The benches' rows in the order they wrote them: (figure, isa, threads,
    value, unit). Every bench lists the instruction sets best last."""

    def __init__(self, folder):
        self.rows = []
        for path in sorted(glob.glob(os.path.join(folder, "*.tsv"))):
            if os.path.basename(path) == "goals.tsv":
                continue
            for line in open(path):
                fields = line.rstrip("\n").split("\t")
                if len(fields) == 5:
                    figure, isa, threads, value, unit = fields
                    self.rows.append((figure, isa, int(threads), float(value), unit))

    def matching(self, figure, unit, threads, isa=None):
        """The rows of the figure (or a figure that starts with it) in this
        unit and thread count: of one instruction set, or of every one."""
        return [row for row in self.rows
                if row[0].startswith(figure) and row[2] == threads and row[4] == unit
                and (row[1] == isa if isa else row[1] not in ("-", "scalar"))]

    def best(self, figure, unit, threads=1):
        """(isa, value) of the best instruction set that has the figure."""
        rows = self.matching(figure, unit, threads)
        return (rows[-1][1], rows[-1][3]) if rows else (None, None)

    def get(self, figure, isa, threads, unit):
        rows = self.matching(figure, unit, threads, isa)
        return rows[-1][3] if rows else None


def machine():
    """The CPU's name and family, and the load average now."""
    model, family = "unknown CPU", "?"
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            if key.strip() == "cpu family" and family == "?":
                family = value.strip()
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "%s (cpu family %s), %d CPUs" % (model, family, os.cpu_count() or 1), load


def goals(rows, torch_rate):
    """(figure, value, goal text, met or None, detail) for every goal."""
    out = []

    def missing(label, goal, why="not measured"):
        out.append((label, "-", goal, None, why))

    def share(figure, unit, minimum, label, extra=""):
        isa, value = rows.best(figure, unit)
        goal = ">= %.0f%%" % (100 * minimum)
        if value is None:
            return missing(label, goal)
        out.append(("%s, %s, 1 thread" % (label, isa), "%.0f%%" % (100 * value), goal,
                    value >= minimum, extra))

    def vs_pytorch(net, threads, minimum):
        isa, ours = rows.best(net, "images/s", threads)
        theirs = torch_rate(net, threads)
        goal = ">= %.1fx" % minimum if minimum else "(beside)"
        count = "%d thread%s" % (threads, "s" if threads > 1 else "")
        if ours is None or theirs is None:
            return missing("%s training vs PyTorch, %s" % (net, count), goal,
                           "not measured" if ours is None else "no PyTorch")
        out.append(("%s training vs PyTorch, %s, %s" % (net, isa, count),
                    "%.2fx" % (ours / theirs), goal,
                    ours / theirs >= minimum if minimum else None,
                    "relunet %.0f images/s, PyTorch %.0f" % (ours, theirs)))

    for op in ("AB", "AB'"):
        for size in (256, 512, 1024):
            figure = "SGEMM %s %d" % (op, size)
            share(figure, "of peak", 0.85, figure)
    share("net C", "of peak", 0.60, "net C training, of peak")
    for net, minimum in (("net C", 2.5), ("net P", 3.0), ("LeNet mixture", None)):
        vs_pytorch(net, 1, minimum)
    for layer, minimum in (("P conv1", 0.32), ("P conv2", 0.32), ("P conv3", 0.32),
                           ("C conv1", 0.30), ("LeNet conv1", 0.50), ("LeNet conv2", 0.50)):
        bound = rows.get(layer, "-", 1, "bound of peak")
        per_byte = rows.get(layer, "-", 1, "FLOP/byte")
        detail = ("%.2f FLOP/byte, bandwidth allows %.0f%%" % (per_byte, 100 * bound)
                  if bound is not None else "")
        share(layer, "of peak", minimum, layer + " training step, of peak", detail)
    for curve in ("exp", "tanh", "sigmoid", "ATanh", "ASigmoid", "mix_adaptive", "mix_fixed"):
        isa, speedup = rows.best(curve, "vs scalar")
        if speedup is None:
            missing(curve + " vs scalar", ">= 8x")
            continue
        ns = rows.get(curve, isa, 1, "ns/elem")
        out.append(("%s vs scalar libm, %s" % (curve, isa), "%.1fx" % speedup, ">= 8x",
                    speedup >= 8.0, "%.2f ns per element" % ns))
        error = rows.get(curve, isa, 1, "relative error")
        if error is not None:
            out.append(("%s largest relative error, %s" % (curve, isa), "%.1e" % error,
                        "<= 2e-7", error <= 2e-7, "against double"))
    for unit, minimum, label in (("images/s", 1.85, "2 threads / 1, idle"),
                                 ("busy images/s", 0.9, "2 threads / 1, one core busy")):
        for net in ("net C", "net P", "LeNet mixture"):
            isa, one = rows.best(net, unit, 1)
            two = rows.get(net, isa, 2, unit) if isa else None
            if one is None or two is None:
                missing("%s %s" % (net, label), ">= %.2fx" % minimum)
                continue
            out.append(("%s %s, %s" % (net, label, isa), "%.2fx" % (two / one),
                        ">= %.2fx" % minimum, two / one >= minimum,
                        "%.0f and %.0f images/s" % (two, one)))
    for net in ("net C", "net P", "LeNet mixture"):
        vs_pytorch(net, 2, None)
    return out


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    folder = sys.argv[1]
    rows = Rows(folder)
    if not rows.rows:
        print("compare.py: no bench rows in %s/*.tsv (run make bench)" % folder, file=sys.stderr)
        return 1
    try:
        import torch
    except ImportError:
        torch = None
        print("compare.py: PyTorch is not installed (apt-get install python3-torch); "
              "its rows read 'no PyTorch'")
    cpu, load_before = machine()
    measured = {}

    def torch_rate(net, threads):
        if torch is None:
            return None
        if (net, threads) not in measured:
            measured[(net, threads)] = torch_images_per_second(net, threads, torch)
        return measured[(net, threads)]

    table = goals(rows, torch_rate)
    _, load_after = machine()
    peak = [row[3] for row in rows.rows if row[0].startswith("FMA peak")]
    print("%s; single-core FMA peak %.1f GFLOP/s; load average %.2f before PyTorch, %.2f after"
          % (cpu, max(peak) if peak else float("nan"), load_before, load_after))
    width = max(len(row[0]) for row in table)
    print("%-*s %9s %10s %5s  %s" % (width, "figure", "measured", "goal", "met", "detail"))
    tsv = open(os.path.join(folder, "goals.tsv"), "w")
    tsv.write("figure\tmeasured\tgoal\tmet\tdetail\n")
    for figure, value, goal, met, detail in table:
        verdict = "-" if met is None else "yes" if met else "no"
        print("%-*s %9s %10s %5s  %s" % (width, figure, value, goal, verdict, detail))
        tsv.write("\t".join((figure, value, goal, verdict, detail)) + "\n")
    tsv.close()
    print("met %d of %d goals" % (sum(1 for row in table if row[3]),
                                  sum(1 for row in table if row[3] is not None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
