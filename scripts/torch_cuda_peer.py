"""PyTorch on CUDA, eager, on the models of `latent-lab bench`: the peer of our WGSL step.

The models and losses are those of ../shared/bench/torch_peer.py (the CPU peer): the
pytorch/examples VAE 784-400-20 (BCE summed + KL, batch 128) and the AE 784-512-256-2 (MSE,
batch 256), Adam lr 1e-3. Batches are drawn from random pixels already on the GPU: the speed
of a step does not depend on the digits, and the device machine has no data set.

usage: python3 scripts/torch_cuda_peer.py [--steps N] [--warmup N]
prints one JSON line per model: {who, model, device, batch, steps, samples_per_s, ms_per_step}
"""
import argparse
import json
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def loss(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.fc4(F.relu(self.fc3(z)))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kl) / x.shape[0]


class Ae(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [784, 512, 256, 2, 256, 512, 784]
        layers = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.Linear(a, b))
            if i + 2 < len(widths) and b != 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def loss(self, x):
        return F.mse_loss(torch.sigmoid(self.net(x)), x)


def bench(name, model, batch, steps, warmup, device):
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.rand(8192, 784, device=device)

    def step():
        x = data[torch.randint(0, data.shape[0], (batch,), device=device)]
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if not torch.isfinite(loss):
        sys.exit(f"{name}: the loss is not finite")
    return {
        "who": "torch-cuda",
        "model": name,
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "batch": batch,
        "steps": steps,
        "samples_per_s": round(steps * batch / seconds, 1),
        "ms_per_step": round(1000 * seconds / steps, 4),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_cuda_peer: PyTorch sees no CUDA device here")
    torch.manual_seed(1)
    for name, model, batch in [("vae", Vae(), 128), ("ae", Ae(), 256)]:
        print(json.dumps(bench(name, model, batch, a.steps, a.warmup, "cuda")), flush=True)


if __name__ == "__main__":
    main()
