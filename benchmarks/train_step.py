"""Benchmark: seconds per training iteration of every translator objective, polaraug vs a plain PyTorch
re-statement of the reference implementation's step (junyanz/pytorch-CycleGAN-and-pix2pix): for the
CycleGAN, ResNet generators with conv bias before instance norm, 70x70 PatchGAN, LSGAN, L1 cycle, pools of
50, identity loss off because the domains have 3 and 4 channels; for the paired objective, pix2pix's
conditional PatchGAN with L1 x 100. Measured in one run, interleaved. Target: never slower (ratio <= 1).

    .venv/bin/python benchmarks/train_step.py [--size 128 --ngf 32 --blocks 6 --repeats 5]
        [--threads N] [--channels-last] [--compile]

``--threads`` sets torch's intra-op threads for every run (default: torch's choice); ``--channels-last``
puts polaraug's networks and inputs in channels-last memory format; ``--compile`` runs polaraug's
generators through ``torch.compile`` (the reference stays eager and contiguous): the CPU settings are
chosen by measurement.

``--quick``: 32 px, ngf 8, 1 block, 1 repeat, 1 thread, a smoke test the suite runs (its ratios mean nothing).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from polaraug.nn import ImagePool, init_weights, lsgan
from polaraug.physics import camera_matrix
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig
from polaraug.translate.paired import PairedTranslator


def ref_resnet_generator(cin: int, cout: int, ngf: int, n_blocks: int) -> nn.Module:
    """The reference ResnetGenerator with InstanceNorm: use_bias = True on every conv."""
    def block(dim: int) -> nn.Module:
        class Res(nn.Module):
            def __init__(self):
                super().__init__()
                self.b = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim),
                                       nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
                                       nn.InstanceNorm2d(dim))

            def forward(self, x):
                return x + self.b(x)
        return Res()

    layers = [nn.ReflectionPad2d(3), nn.Conv2d(cin, ngf, 7, bias=True), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    ch = ngf
    for _ in range(2):
        layers += [nn.Conv2d(ch, ch * 2, 3, 2, 1, bias=True), nn.InstanceNorm2d(ch * 2), nn.ReLU(True)]
        ch *= 2
    layers += [block(ch) for _ in range(n_blocks)]
    for _ in range(2):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1, bias=True), nn.InstanceNorm2d(ch // 2),
                   nn.ReLU(True)]
        ch //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, cout, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def ref_patchgan(cin: int, ndf: int = 64, n_layers: int = 3) -> nn.Module:
    layers = [nn.Conv2d(cin, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers):
        prev, mult = mult, min(2**n, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=True), nn.InstanceNorm2d(ndf * mult),
                   nn.LeakyReLU(0.2, True)]
    prev, mult = mult, min(2**n_layers, 8)
    layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=True), nn.InstanceNorm2d(ndf * mult),
               nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
    return nn.Sequential(*layers)


class ReferenceStep:
    """optimize_parameters() of the reference CycleGANModel, restated."""

    def __init__(self, ngf: int, blocks: int):
        torch.manual_seed(0)
        self.g_a, self.g_b = (init_weights(ref_resnet_generator(3, 4, ngf, blocks)),
                              init_weights(ref_resnet_generator(4, 3, ngf, blocks)))
        self.d_a, self.d_b = init_weights(ref_patchgan(4)), init_weights(ref_patchgan(3))
        self.opt_g = torch.optim.Adam([*self.g_a.parameters(), *self.g_b.parameters()], 2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam([*self.d_a.parameters(), *self.d_b.parameters()], 2e-4, betas=(0.5, 0.999))
        self.pool_a, self.pool_b = ImagePool(50), ImagePool(50)

    def __call__(self, real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(False)
        self.opt_g.zero_grad()
        loss_g = (lsgan(self.d_a(fake_b), True) + lsgan(self.d_b(fake_a), True)
                  + 10 * (rec_a - real_a).abs().mean() + 10 * (rec_b - real_b).abs().mean())
        loss_g.backward()
        self.opt_g.step()
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(True)
        self.opt_d.zero_grad()
        fb = self.pool_b.query(fake_b)
        (0.5 * (lsgan(self.d_a(real_b), True) + lsgan(self.d_a(fb.detach()), False))).backward()
        fa = self.pool_a.query(fake_a)
        (0.5 * (lsgan(self.d_b(real_a), True) + lsgan(self.d_b(fa.detach()), False))).backward()
        self.opt_d.step()


class ReferencePix2PixStep:
    """optimize_parameters() of the reference Pix2PixModel (conditional PatchGAN, LSGAN, L1 x 100), restated
    for RGB -> 4 channels."""

    def __init__(self, ngf: int, blocks: int):
        torch.manual_seed(0)
        self.g = init_weights(ref_resnet_generator(3, 4, ngf, blocks))
        self.d = init_weights(ref_patchgan(7))
        self.opt_g = torch.optim.Adam(self.g.parameters(), 2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), 2e-4, betas=(0.5, 0.999))

    def __call__(self, real_a: torch.Tensor, real_b: torch.Tensor) -> None:
        fake_b = self.g(real_a)
        self.d.requires_grad_(True)
        self.opt_d.zero_grad()
        loss_d = 0.5 * (lsgan(self.d(torch.cat([real_a, fake_b.detach()], 1)), False)
                        + lsgan(self.d(torch.cat([real_a, real_b], 1)), True))
        loss_d.backward()
        self.opt_d.step()
        self.d.requires_grad_(False)
        self.opt_g.zero_grad()
        loss_g = lsgan(self.d(torch.cat([real_a, fake_b], 1)), True) + 100 * (fake_b - real_b).abs().mean()
        loss_g.backward()
        self.opt_g.step()


def _timed(runs: dict, real_a: torch.Tensor, real_b: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median seconds per call of each run, interleaved (after one warm-up call each)."""
    times = {k: [] for k in runs}
    for fn in runs.values():
        fn(real_a, real_b)
    for _ in range(repeats):
        for k, fn in runs.items():
            t0 = time.perf_counter()
            fn(real_a, real_b)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _compiled(model: nn.Module) -> nn.Module:
    """The training state with its generators compiled (most of a step's time; the discriminators are
    called through methods other than forward, and the paired objective iterates their layers, neither of
    which torch.compile wraps)."""
    for name in ("g_ab", "g_ba"):
        if hasattr(model, name):
            setattr(model, name, torch.compile(getattr(model, name)))
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--quick", action="store_true", help="32 px, ngf 8, 1 block, 1 repeat, 1 thread")
    args = ap.parse_args()
    if args.quick:
        args.size, args.ngf, args.blocks, args.repeats = 32, 8, 1, 1
        args.threads = args.threads or 1  # tiny convolutions: threads only wait for each other
    if args.threads:
        torch.set_num_threads(args.threads)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    a = camera_matrix()
    print(f"CPU, {args.size}px, ngf {args.ngf}, {args.blocks} blocks, 70x70 PatchGAN; median s/iteration "
          f"of {args.repeats}, interleaved; {torch.get_num_threads()} threads; polaraug "
          f"{'channels-last' if args.channels_last else 'contiguous'}{', compiled' if args.compile else ''}")
    prepare = _compiled if args.compile else (lambda model: model)
    for batch in (1, 4):
        g = torch.Generator().manual_seed(0)
        real_a = torch.rand(batch, 3, args.size, args.size, generator=g) * 2 - 1
        real_b = torch.rand(batch, 4, args.size, args.size, generator=g) * 2 - 1
        ours_a, ours_b = real_a.contiguous(memory_format=fmt), real_b.contiguous(memory_format=fmt)
        runs = {"reference": ReferenceStep(args.ngf, args.blocks)}
        for mode, head in (("none", "intensities"), ("relax", "intensities"), ("project", "intensities"),
                           ("none", "stokes")):
            cfg = TranslatorConfig(mode=mode, head=head, ngf=args.ngf, n_blocks=args.blocks)
            model = prepare(ConstrainedCycleGAN(cfg, a).to(memory_format=fmt))
            runs[f"cyclegan {mode}/{head}"] = lambda x, y, m=model, xa=ours_a, xb=ours_b: m.training_step(xa, xb)
        paired = {"reference": ReferencePix2PixStep(args.ngf, args.blocks)}
        for head in ("intensities", "stokes"):
            model = PairedTranslator(TranslatorConfig(mode="project", head=head, ngf=args.ngf, n_blocks=args.blocks), a)
            model = prepare(model.to(memory_format=fmt))
            paired[f"paired {head}"] = lambda x, y, m=model, xa=ours_a, xb=ours_b: m.training_step(xa, xb)
        for title, group in (("CycleGAN", runs), ("paired (pix2pix)", paired)):
            med = _timed(group, real_a, real_b, args.repeats)
            for k, v in med.items():
                print(f"  batch {batch}  {title:<16} {k:<26} {v:7.3f} s/it   ratio vs reference "
                      f"{v / med['reference']:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
