"""CycleGAN networks (Zhu et al. 2017, as in the reference implementation): a ResNet generator and a
PatchGAN discriminator, for any number of input and output channels (RGB = 3, polarimetric = 4).

Shapes: generators map (B, C_in, H, W) in [-1, 1] to (B, C_out, H, W) in [-1, 1] (tanh); H and W must be
multiples of 4 (two stride-2 downsamplings). Discriminators map (B, C, H, W) to a (B, 1, H', W') patch map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import BlurPool2D
from torch import nn

UPSAMPLING = ("transpose", "resize")
DOWNSAMPLING = ("stride", "blur")
SKIPS = (0, 1, 2)


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with reflection padding and instance norm, plus the identity."""

    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def encoder_layers(in_channels: int, ngf: int, downsample: str = "stride") -> list[nn.Module]:
    """CycleGAN's encoder: c7s1-ngf, d2ngf, d4ngf (reflection padding, instance norm, ReLU): (B, C, H, W) ->
    (B, 4 ngf, H/4, W/4).

    Args:
        downsample: "stride" (the reference's stride-2 convolutions) or "blur" (a stride-1 convolution, then a
            binomial blur and subsampling after the ReLU: anti-aliased, Zhang 2019; kornia's BlurPool2D).
    """
    if downsample not in DOWNSAMPLING:
        raise ValueError(f"downsample must be one of {DOWNSAMPLING}, got {downsample!r}")
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=False),
                               nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    ch, stride = ngf, 2 if downsample == "stride" else 1
    for _ in range(2):
        layers += [nn.Conv2d(ch, ch * 2, 3, stride=stride, padding=1, bias=False), nn.InstanceNorm2d(ch * 2),
                   nn.ReLU(True)]
        if downsample == "blur":  # subsampling a ReLU's output aliases; blurring it first does not
            layers.append(BlurPool2D(3, stride=2))
        ch *= 2
    return layers


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d2ngf, d4ngf, n_blocks x R4ngf, u2ngf, ungf, c7s1-out (CycleGAN's ResNet generator).

    Instance norm without affine parameters and no conv bias before it, as in the reference. ``tanh=False``
    leaves the last convolution's outputs unbounded.

    Args:
        upsample: "transpose" (the reference's transposed convolutions) or "resize" (nearest-neighbour
            2x then a 3x3 convolution: no checkerboard artifacts, Odena et al. 2016).
        downsample: "stride" or "blur" (:func:`encoder_layers`).
        context: side of the whole-frame context canvas (:mod:`polaraug.nn.context`); 0 for none. With a
            context the encoder's features receive the frame's features over the input's region, through a
            1x1 fusion whose gate starts at 0 (the network starts as the plain generator).
        skips: how many of the encoder's finer resolutions (0, 1: full, 2: full and half) hand their features
            to the decoder at the same resolution, added after the decoder's ReLU (U-Net-like, no new
            weights): the output layer then sees the input's edges directly instead of only through two
            upsamplings from a quarter of the resolution.
    """

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, n_blocks: int = 9, tanh: bool = True,
                 *, upsample: str = "transpose", downsample: str = "stride", context: int = 0, skips: int = 0):
        super().__init__()
        if upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {UPSAMPLING}, got {upsample!r}")
        if skips not in SKIPS:
            raise ValueError(f"skips must be one of {SKIPS}, got {skips!r}")
        layers = encoder_layers(in_channels, ngf, downsample)
        relus = [i for i, layer in enumerate(layers) if isinstance(layer, nn.ReLU)]  # full, half, quarter res
        self.encoder_depth = len(layers)  # where the context joins
        ch = ngf * 4
        layers += [ResnetBlock(ch) for _ in range(n_blocks)]
        ups = []
        for _ in range(2):
            if upsample == "transpose":
                up: nn.Module = nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1, bias=False)
            else:
                up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                                   nn.Conv2d(ch, ch // 2, 3, bias=False))
            layers += [up, nn.InstanceNorm2d(ch // 2), nn.ReLU(True)]
            ups.append(len(layers) - 1)  # half res, then full res
            ch //= 2
        # blur downsampling puts the subsampling after the ReLU: keep what follows it, at the lower resolution
        taps = [relus[0]] + [i + 1 if downsample == "blur" else i for i in relus[1:2]]
        # (layer whose output is kept, layer whose output receives it), finest resolution first
        self.skip_pairs = list(zip(taps, reversed(ups), strict=True))[:skips]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_channels, 7)]
        if tanh:  # outputs in [-1, 1]; heads that map raw outputs to physics (the Stokes head) go without
            layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers)
        self.context_size = context
        if context:
            from .context import GlobalContext

            width = ngf * 4
            self.context_net = GlobalContext(width, ngf)
            self.fuse = nn.Conv2d(2 * width, width, 1)
            self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, context: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Args: x (B, C_in, H, W); context: (canvas (B, 6, s, s), boxes (B, 4)) of the frames ``x`` was
        cropped from, or None (then ``x`` is taken as whole frames). Returns: (B, C_out, H, W)."""
        if not self.context_size and not self.skip_pairs:
            return self.model(x)
        if self.context_size and context is None:  # whole frames: their own canvas
            from .context import context_canvas

            canvas, box = context_canvas(x, self.context_size)
            context = (canvas, box.expand(x.shape[0], 4))
        kept: dict[int, torch.Tensor] = {}
        joins = {join: tap for tap, join in self.skip_pairs}
        taps = set(joins.values())
        for i, layer in enumerate(self.model):
            if i == self.encoder_depth and self.context_size:
                x = self._with_context(x, context)
            x = layer(x)
            if i in taps:
                kept[i] = x
            elif i in joins:
                x = x + kept[joins[i]]
        return x

    def extra_repr(self) -> str:
        # in repr (the ONNX cache key hashes it): skips change the graph, not the weights
        return f"skips={len(self.skip_pairs)}" if self.skip_pairs else ""

    def _with_context(self, h: torch.Tensor, context: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The encoder's features h (B, 4 ngf, H/4, W/4) with the frames' context (canvas (B, 6, s, s),
        boxes (B, 4)) fused in: same shape."""
        from .context import sample_region

        canvas, boxes = context
        region = sample_region(self.context_net(canvas.to(h.dtype)), boxes, h.shape[-2], h.shape[-1])
        return h + self.gate * self.fuse(torch.cat([h, region], 1))


class PatchDiscriminator(nn.Module):
    """PatchGAN: n_layers stride-2 convolutions then two stride-1 ones; n_layers = 3 gives 70x70 patches."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=False),
                       nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The patch map as a one-scale list (the interface :class:`MultiScaleDiscriminator` shares)."""
        return [self.model(x)]

    def features(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """One scale: the activation after each LeakyReLU, then the patch map (B, 1, H', W')."""
        feats = []
        for layer in self.model:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(x)
        return [[*feats, x]]


class MultiScaleDiscriminator(nn.Module):
    """pix2pixHD's multi-scale discriminator: identical PatchGANs on the input and on its 2x, 4x, ...
    average-pooled copies, so coarse scales judge global structure and the finest one texture.

    Args:
        in_channels, ndf, n_layers: each scale's PatchGAN.
        n_scales: number of scales (2 or 3 in pix2pixHD).
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, n_scales: int = 2):
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, ndf, n_layers) for _ in range(n_scales))

    def _inputs(self, x: torch.Tensor):
        for i, d in enumerate(self.scales):
            if i:  # pix2pixHD's downsampling: 3x3 average, stride 2, borders not diluted by padding
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            yield d, x

    def outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Per scale, finest first, the patch map."""
        return [d(xi) for d, xi in self._inputs(x)]

    def features(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """Per scale, finest first, the activations then the patch map."""
        return [d.features(xi)[0] for d, xi in self._inputs(x)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.outputs(x)


def min_input_side(n_layers: int, n_scales: int = 1) -> int:
    """The smallest square input a (multi-scale) PatchGAN of ``n_layers`` judges: its coarsest scale must
    keep 3 · 2^n_layers pixels (after n_layers halvings, two more pixels for instance norm and one for the
    4x4 output convolution). Each scale's average pooling gives ceil(x / 2)."""
    need = 3 * 2**n_layers
    for _ in range(n_scales - 1):
        need = 2 * need - 1  # the smallest x with ceil(x / 2) >= need
    return need


def build_discriminator(in_channels: int, ndf: int, n_layers: int, n_scales: int = 1) -> nn.Module:
    """A PatchGAN (one scale: the reference's network, checkpoint keys unchanged) or a multi-scale one,
    initialised; both have ``outputs(x)`` and ``features(x)`` (lists over scales)."""
    if n_scales == 1:
        return init_weights(PatchDiscriminator(in_channels, ndf, n_layers))
    return init_weights(MultiScaleDiscriminator(in_channels, ndf, n_layers, n_scales))


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """CycleGAN's 'normal' init: conv weights N(0, 0.02), biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net
