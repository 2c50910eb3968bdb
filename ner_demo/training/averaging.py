"""Weight averaging over the end of training (stochastic weight averaging of the decaying tail).

From ``start`` on, every ``every``-th optimizer step folds the current weights into a uniform running
mean (``mean += (w - mean) / n``). Dev evaluation and ``best/`` then use the mean, swapped into the model
for that moment only; training itself goes on from the raw weights. The mean and its count travel in
every checkpoint, so a resumed run averages exactly as an uninterrupted one.

>>> WeightAverage([], start=100, every=10).due(110), WeightAverage([], start=100, every=10).due(105)
(True, False)
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

FILE = "average.safetensors"


class WeightAverage:
    def __init__(self, params: list, start: int, every: int):
        self.params = params  # the trainable parameters, in the optimizer's order
        self.start = start
        self.every = every
        self.count = 0
        self.mean: list | None = None

    @classmethod
    def for_run(cls, params: list, average_from: float, every: int, total_steps: int) -> "WeightAverage | None":
        """None when averaging is off (``average_from`` 0)."""
        if not average_from:
            return None
        return cls(params, start=int(average_from * total_steps), every=every)

    def due(self, step: int) -> bool:
        return step > self.start and (step - self.start) % self.every == 0

    def snapshots_until(self, step: int) -> int:
        """How many snapshots the mean holds after optimizer step ``step``."""
        return max(0, (step - self.start) // self.every)

    def update(self, step: int) -> None:
        """Fold the weights after optimizer step ``step`` into the mean, when that step is due."""
        import torch

        if not self.due(step):
            return
        with torch.no_grad():
            current = [p.detach().float() for p in self.params]
            if self.mean is None:
                self.mean = [t.clone() for t in current]
                self.count = 1
                return
            self.count += 1
            torch._foreach_lerp_(self.mean, current, 1.0 / self.count)

    @contextmanager
    def swapped_in(self):
        """The model holds the mean inside the block and its own weights again after it."""
        import torch

        if not self.count:
            yield
            return
        with torch.no_grad():
            saved = [p.detach().clone() for p in self.params]
            for p, m in zip(self.params, self.mean):
                p.copy_(m)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, s in zip(self.params, saved):
                    p.copy_(s)

    # --- checkpoints -------------------------------------------------------------------------

    def tensors(self) -> dict | None:
        """What a checkpoint stores (None before the first average)."""
        if not self.count:
            return None
        return {str(i): t.detach().cpu().contiguous() for i, t in enumerate(self.mean)}

    def load(self, folder: Path, count: int) -> None:
        """Restore the mean a checkpoint stored; ``count`` comes from its TrainState."""
        from safetensors.torch import load_file

        if not count:
            self.mean, self.count = None, 0
            return
        path = Path(folder) / FILE
        if not path.is_file():
            raise ValueError(f"{folder}: the checkpoint says {count} weights were averaged but has no {FILE}")
        data = load_file(str(path))
        device = self.params[0].device
        self.mean = [data[str(i)].to(device) for i in range(len(self.params))]
        self.count = count
