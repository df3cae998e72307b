"""The image pool of CycleGAN's discriminator updates (Shrivastava et al.)."""

from __future__ import annotations

import torch


class ImagePool:
    """History of generated images: with probability ½ a query returns an older image instead.

    Uses its own seeded generator so that a resumed run draws exactly as an uninterrupted one.
    """

    def __init__(self, size: int, seed: int = 0):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.gen = torch.Generator().manual_seed(seed)

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        """Args: batch (B, C, H, W) of generated images. Returns: (B, C, H, W), some swapped for older ones."""
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach():
            img = img[None]
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand(1, generator=self.gen).item() < 0.5:
                k = int(torch.randint(0, self.size, (1,), generator=self.gen).item())
                out.append(self.images[k].clone())
                self.images[k] = img.clone()
            else:
                out.append(img)
        return torch.cat(out)

    def state_dict(self) -> dict:
        return {"images": [t.cpu() for t in self.images], "gen": self.gen.get_state()}

    def load_state_dict(self, state: dict, device: str | torch.device = "cpu") -> None:
        self.images = [t.to(device) for t in state["images"]]
        self.gen.set_state(state["gen"])
