"""Whole-frame context for a generator that translates crops (the global half of pix2pixHD's global/local pair).

A generator trained on 64 px crops has a receptive field of about 100 px: it cannot see what decides
polarization at the scale of the frame (where the sun is, the sky's brightness gradient). The context branch
sees the whole frame at low resolution and hands each crop the features of its own region:

1. :func:`context_canvas`: the frame resized (aspect kept) into a ``size`` x ``size`` canvas, centred, with
   two coordinate channels (x, y in [-1, 1] over the frame, so the branch knows where a pixel sits in the
   frame) and a mask of the frame's pixels: (B, 6, size, size);
2. :class:`GlobalContext`: a small convolutional encoder of the canvas plus its frame-wide mean, (B, C, s/4, s/4);
3. :func:`sample_region`: the encoder's features over a crop's box, resampled to the crop's feature grid.

At training the sampler builds each frame's canvas and its crop's box (:func:`crop_box`); at inference on a
whole frame the box is the frame itself, so the same network runs at any resolution unchanged.
Boxes are (x0, y0, x1, y1) in the canvas' normalized coordinates ([-1, 1], ``align_corners=False``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CANVAS_CHANNELS = 6  # RGB, x, y, frame mask


def frame_placement(height: int, width: int, size: int) -> tuple[int, int, int, int]:
    """Where a (height, width) frame lands in the canvas: (top, left, h, w) in canvas pixels."""
    scale = size / max(height, width)
    h, w = max(1, round(height * scale)), max(1, round(width * scale))
    return (size - h) // 2, (size - w) // 2, h, w


def context_canvas(rgb: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole frames as context canvases.

    Args:
        rgb: (B, 3, H, W) frames in [-1, 1].
        size: the canvas side in pixels (a multiple of 4).

    Returns:
        (canvas (B, 6, size, size), frame box (4,) in canvas-normalized coordinates).
    """
    b, _, height, width = rgb.shape
    top, left, h, w = frame_placement(height, width, size)
    small = F.interpolate(rgb.float(), size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    canvas = rgb.new_zeros((b, CANVAS_CHANNELS, size, size), dtype=torch.float32)
    ys = torch.linspace(-1, 1, h, device=rgb.device).view(h, 1).expand(h, w)
    xs = torch.linspace(-1, 1, w, device=rgb.device).view(1, w).expand(h, w)
    canvas[:, :3, top:top + h, left:left + w] = small
    canvas[:, 3, top:top + h, left:left + w] = xs
    canvas[:, 4, top:top + h, left:left + w] = ys
    canvas[:, 5, top:top + h, left:left + w] = 1.0
    box = torch.tensor([left, top, left + w, top + h], dtype=torch.float32, device=rgb.device) * (2 / size) - 1
    return canvas, box


def crop_box(frame_box: torch.Tensor, y: int, x: int, crop_h: int, crop_w: int, height: int,
             width: int) -> torch.Tensor:
    """The box of a crop, in canvas coordinates.

    Args:
        frame_box: the frame's box (4,) from :func:`context_canvas`.
        y, x: the crop's top-left pixel in the frame; crop_h, crop_w: its size; height, width: the frame's.

    Returns:
        (4,) (x0, y0, x1, y1) in canvas-normalized coordinates.
    """
    fx0, fy0, fx1, fy1 = frame_box.tolist()
    sx, sy = (fx1 - fx0) / width, (fy1 - fy0) / height
    return torch.tensor([fx0 + x * sx, fy0 + y * sy, fx0 + (x + crop_w) * sx, fy0 + (y + crop_h) * sy])


def sample_region(features: torch.Tensor, boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Each sample's features over its box, bilinearly resampled to a (height, width) grid.

    Args:
        features: (B, C, h, w) over the canvas.
        boxes: (B, 4) in canvas-normalized coordinates.
        height, width: the output grid (the crop's feature map).

    Returns:
        (B, C, height, width).
    """
    x0, y0, x1, y1 = boxes.to(features.dtype).unbind(1)
    theta = torch.zeros(boxes.shape[0], 2, 3, dtype=features.dtype, device=features.device)
    theta[:, 0, 0], theta[:, 0, 2] = (x1 - x0) / 2, (x1 + x0) / 2
    theta[:, 1, 1], theta[:, 1, 2] = (y1 - y0) / 2, (y1 + y0) / 2
    grid = F.affine_grid(theta, [boxes.shape[0], features.shape[1], height, width], align_corners=False)
    return F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=False)


class GlobalContext(nn.Module):
    """Encoder of the context canvas: c7s1-ngf, two stride-2 convolutions, ``n_blocks`` residual blocks;
    the frame-wide mean of the result (over the frame's pixels, not the padding) is added to every position,
    so each crop also receives a summary of the whole frame.

    Args:
        channels: output channels (the local path's feature width).
        ngf: first layer's width.
        n_blocks: residual blocks.
    """

    def __init__(self, channels: int, ngf: int = 16, n_blocks: int = 2):
        from .networks import ResnetBlock, encoder_layers

        super().__init__()
        layers = encoder_layers(CANVAS_CHANNELS, ngf)
        ch = ngf * 4
        layers += [ResnetBlock(ch) for _ in range(n_blocks)]
        layers += [nn.Conv2d(ch, channels, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, canvas: torch.Tensor) -> torch.Tensor:
        """Args: canvas (B, 6, s, s). Returns: features (B, channels, s/4, s/4)."""
        f = self.model(canvas)
        mask = F.adaptive_avg_pool2d(canvas[:, 5:6], f.shape[-2:])
        mean = (f * mask).sum((2, 3), keepdim=True) / mask.sum((2, 3), keepdim=True).clamp_min(1e-6)
        return f + mean
