"""torch_reference.py CASES - recompute tests/torch_driver.c's cases with
PyTorch in float64 and compare (make test-torch).

Each line of CASES is one case: its settings, its inputs and starting values,
and what relunet computed. Every tensor relunet computed is compared with
torch's by its relative error, the largest absolute difference divided by
the largest magnitude in torch's tensor (at least 1e-6, so that a tensor of
zeros is compared absolutely). The worst error of each family is printed;
any error above 1e-5 fails the run. Int8 quantisation cases are exact:
their error is the number of scales, zero points and int8 values that
differ from torch's.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
TOLERANCE = 1e-5


def floats(values):
    return torch.tensor(values, dtype=torch.float64)


def tensor(case, name):
    return floats(case[name]).reshape(case[name + "_shape"])


def relative_error(ours, theirs):
    ours = torch.as_tensor(ours, dtype=torch.float64).flatten()
    theirs = theirs.detach().flatten()
    if ours.numel() != theirs.numel():
        return float("inf")
    if ours.numel() == 0:
        return 0.0
    scale = max(theirs.abs().max().item(), 1e-6)
    return (ours - theirs).abs().max().item() / scale


# ----- layers -----

def broadcast(param, x, share):
    """A per-channel parameter over dimension 1 of x; per-layer as it is."""
    if share == "layer":
        return param.reshape([])
    return param.reshape([1, -1] + [1] * (x.dim() - 2))


def activation(case, x, params):
    kind, share = case["kind"], case["share"]
    p = [broadcast(q, x, share) for q in params]
    if kind == "identity":
        return x
    if kind == "relu":
        return F.relu(x)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "tanh":
        return torch.tanh(x)
    if kind == "lrelu":
        return F.leaky_relu(x, case["slope"])
    if kind == "prelu":
        return torch.where(x > 0, x, p[0] * x)
    if kind == "relu_alpha":
        return F.relu(x) - (1 - p[0]) * F.relu(-x)
    if kind in ("asigmoid", "atanh"):
        a, b, c, d = p
        squash = torch.sigmoid if kind == "asigmoid" else torch.tanh
        return b * squash(a * x + c) + d
    if kind == "arelu":
        a, b, c, d = p
        return torch.maximum(a * x + c, b * x + d)
    if kind == "mix_adaptive":
        wa, wb, wg, a, b, c, d = p
        total = wa + wb + wg
        u = a * x + c
        return (wa * (b * torch.tanh(u) + d) + wb * (b * torch.sigmoid(u) + d) +
                wg * torch.maximum(u, b * x + d)) / total
    if kind == "mix_fixed":
        wa, wb, wg = p
        return (wa * torch.tanh(x) + wb * torch.sigmoid(x) + wg * F.relu(x)) / (wa + wb + wg)
    raise ValueError("unknown activation kind " + kind)


def run_layer(case, x, params):
    layer = case["layer"]
    if layer == "conv2d":
        return F.conv2d(x, params[0], params[1] if case["bias"] else None,
                        stride=case["stride"], padding=case["padding"])
    if layer == "linear":
        return F.linear(x, params[0], params[1] if case["bias"] else None)
    if layer == "flatten_linear":
        return F.linear(x.flatten(1), params[0], params[1])
    if layer == "maxpool":
        return F.max_pool2d(x, case["kernel"], case["stride"])
    if layer == "avgpool":
        return F.avg_pool2d(x, case["kernel"], case["stride"])
    if layer == "activation":
        return activation(case, x, params)
    if layer == "batchnorm":
        case["torch_running_mean"] = tensor(case, "running_mean0").clone()
        case["torch_running_var"] = tensor(case, "running_var0").clone()
        return F.batch_norm(x, case["torch_running_mean"], case["torch_running_var"], params[0],
                            params[1], training=case["mode"] == "train",
                            momentum=case["momentum"], eps=case["eps"])
    if layer == "dropout":
        if case["mode"] == "eval":
            return x
        # relunet's mask, read back from its output: torch checks the scaling
        kept = (floats(case["y"]).reshape(x.shape) != 0).to(x.dtype)
        return x * kept / (1 - case["p"])
    raise ValueError("unknown layer " + layer)


def check_layer(case):
    x = tensor(case, "x").requires_grad_()
    params = [floats(v).requires_grad_() for v in case["params"]]
    if case["layer"] in ("conv2d", "linear", "flatten_linear"):
        out_features = case["y_shape"][1]
        params[0] = floats(case["params"][0]).reshape(out_features, -1)
        if case["layer"] == "conv2d":
            k = case["kernel"]
            params[0] = params[0].reshape(out_features, -1, k, k)
        params[0].requires_grad_()
    y = run_layer(case, x, params)
    dy = tensor(case, "dy")
    y.backward(dy)
    errors = [relative_error(case["y"], y), relative_error(case["dx"], x.grad)]
    for p, g in zip(params, case["dparams"]):
        errors.append(relative_error(g, p.grad))
    if case["layer"] == "batchnorm":
        errors.append(relative_error(case["running_mean"], case["torch_running_mean"]))
        errors.append(relative_error(case["running_var"], case["torch_running_var"]))
    return max(errors)


# ----- losses -----

def check_loss(case):
    x = tensor(case, "x").requires_grad_()
    if case["loss"] == "cross_entropy":
        loss = F.cross_entropy(x, torch.tensor(case["labels"]))
    elif case["loss"] == "bce_logits":
        loss = F.binary_cross_entropy_with_logits(x, floats(case["targets"]).reshape(x.shape))
    else:
        loss = F.mse_loss(x, floats(case["targets"]).reshape(x.shape))
    loss.backward()
    return max(relative_error(case["value"], loss), relative_error(case["grad"], x.grad))


# ----- optimizers -----

def make_optimizer(case, groups):
    kind = case["kind"]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=case["lr"], momentum=case["momentum"],
                               dampening=case["dampening"], nesterov=bool(case["nesterov"]),
                               weight_decay=case["weight_decay"])
    if kind in ("adam", "adamw"):
        maker = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return maker(groups, lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                     weight_decay=case["weight_decay"])
    return torch.optim.Rprop(groups, lr=case["lr"], etas=tuple(case["etas"]),
                             step_sizes=tuple(case["step_sizes"]))


def check_optimizer(case):
    x, target = tensor(case, "x"), tensor(case, "target")
    values = case["params"]
    w1 = floats(values[0]).reshape(4, 3).requires_grad_()
    b1 = floats(values[1]).requires_grad_()
    w2 = floats(values[2]).reshape(2, 4).requires_grad_()
    b2 = floats(values[3]).requires_grad_()
    weights, biases = [w1, w2], [b1, b2]
    if case["bias_lr"] > 0:
        groups = [{"params": weights},
                  {"params": biases, "lr": case["bias_lr"], "weight_decay": case["bias_decay"]}]
    else:
        groups = [{"params": weights + biases}]
    optimizer = make_optimizer(case, groups)
    schedule = (torch.optim.lr_scheduler.MultiStepLR(optimizer, [5, 12], 0.1)
                if case["schedule"] else None)
    low, high = case["weight_range"]
    worst = 0.0
    for step, ours in enumerate(case["trajectory"]):
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), target)
        loss.backward()
        if step < case["freeze_biases_until"]:
            for b in biases:
                b.grad = None  # torch.optim skips a parameter without a gradient
        optimizer.step()
        if low < high:
            with torch.no_grad():
                for w in weights:
                    w.clamp_(low, high)
        if schedule:
            schedule.step()
        worst = max(worst, relative_error([ours["loss"]], loss))
        for mine, theirs in zip(ours["params"], [w1, b1, w2, b2]):
            worst = max(worst, relative_error(mine, theirs))
    return worst


# ----- the ReLU_alpha study network -----

def check_study(case):
    x = tensor(case, "x")
    labels = torch.tensor(case["labels"])
    shapes = [(15, 1, 2, 2), (15,), (1,), (15, 15, 2, 2), (15,), (1,), (1, 15, 2, 2), (1,), (1,),
              (10, 36), (10,)]
    params = [floats(v).reshape(s).requires_grad_() for v, s in zip(case["params"], shapes)]
    alphas = [params[2], params[5], params[8]]
    optimizer = torch.optim.SGD(params, lr=case["lr"], momentum=case["momentum"])
    worst = 0.0

    def relu_alpha(h, alpha):
        return F.relu(h) - (1 - alpha) * F.relu(-h)

    for ours in case["losses"]:
        optimizer.zero_grad()
        h = relu_alpha(F.conv2d(x, params[0], params[1], stride=2), params[2])
        h = relu_alpha(F.conv2d(h, params[3], params[4], stride=2), params[5])
        h = relu_alpha(F.conv2d(h, params[6], params[7], stride=1), params[8])
        loss = F.cross_entropy(F.linear(h.flatten(1), params[9], params[10]), labels)
        loss = loss + case["lambda"] * sum(a.abs().sum() for a in alphas)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for a in alphas:
                a.clamp_(0.0, 1.0)
        worst = max(worst, relative_error([ours], loss))
    for mine, theirs in zip(case["final"], params):
        worst = max(worst, relative_error(mine, theirs))
    return worst


# ----- int8 quantisation -----

def check_quantize(case):
    """relunet's scales, zero points and int8 values against torch's
    observers and quantize functions, in float32 as a torch user gets them
    (the observers make their tensors in the default dtype): the count of
    values that differ, so any difference fails."""
    torch.set_default_dtype(torch.float32)
    try:
        return quantize_differences(case)
    finally:
        torch.set_default_dtype(torch.float64)


def quantize_differences(case):
    quant = torch.ao.quantization
    weight = torch.tensor(case["weight"], dtype=torch.float32).reshape(case["weight_shape"])
    observer = quant.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8,
                                              qscheme=torch.per_channel_symmetric,
                                              quant_min=-127, quant_max=127)
    observer(weight)
    scales, zero_points = observer.calculate_qparams()
    weight_int8 = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8).int_repr()
    x = torch.tensor(case["x"], dtype=torch.float32)
    observer = quant.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine)
    observer(x)
    scale, zero_point = observer.calculate_qparams()
    x_int8 = torch.quantize_per_tensor(x, scale.item(), zero_point.item(), torch.qint8).int_repr()
    ours_scales = torch.tensor(case["weight_scales"], dtype=torch.float32)
    differences = int((ours_scales != scales).sum()) + int((zero_points != 0).sum())
    differences += int((torch.tensor(case["weight_int8"]) != weight_int8.flatten()).sum())
    differences += int(torch.tensor(case["x_scale"], dtype=torch.float32) != scale.float()[0])
    differences += int(case["x_zero_point"] != zero_point.item())
    differences += int((torch.tensor(case["x_int8"]) != x_int8.flatten()).sum())
    return float(differences)


CHECKS = {"conv2d": check_layer, "pooling": check_layer, "linear": check_layer,
          "batchnorm": check_layer, "dropout": check_layer, "activation": check_layer,
          "loss": check_loss, "optimizer": check_optimizer, "study": check_study,
          "quantize": check_quantize}


def describe(case):
    keys = ("layer", "kind", "share", "mode", "loss", "name", "kernel", "stride", "padding")
    return " ".join("%s=%s" % (k, case[k]) for k in keys if k in case)


def main(path):
    worst, counts, failures = {}, {}, 0
    with open(path) as cases:
        for line in cases:
            case = json.loads(line)
            family = case["family"]
            if family == "activation":
                family = "activation " + case["kind"]
            error = CHECKS[case["family"]](case)
            counts[family] = counts.get(family, 0) + 1
            worst[family] = max(worst.get(family, 0.0), error)
            if not error <= TOLERANCE:
                failures += 1
                print("FAIL %s: relative error %.3g" % (describe(case), error))
    print("torch %s, float64; worst relative error per family (limit %g):"
          % (torch.__version__, TOLERANCE))
    for family in worst:
        print("  %-26s %3d cases  %.2e" % (family, counts[family], worst[family]))
    print("%d cases, %d above the limit" % (sum(counts.values()), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
