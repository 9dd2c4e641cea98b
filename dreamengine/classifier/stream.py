"""Runs the sound CNN on the newest window of mel frames every ``hop_frames`` frames."""

from __future__ import annotations

import numpy as np
import torch

from dreamengine.classifier.ensemble import SoundModel
from dreamengine.classifier.inference import inference_net
from dreamengine.vocabulary import enforce_hierarchy


class StreamingClassifier:
    """Keeps the last ``window_frames`` mel frames and emits a probability vector per hop.

    Before a full window has arrived the missing frames are the log floor (silence), so the
    first vectors appear after one hop, not after a whole window. The hop is the bundle's
    ``hop_frames`` unless ``hop_frames`` is given (the engine passes its configured one, so its
    smoothing times and the classifier agree). The network runs as an
    :class:`InferenceCNN` (or an ensemble's) built from ``model`` here (batch norms folded,
    oneDNN on a CPU), so later changes to ``model``'s weights need a new stream.
    """

    def __init__(self, model: SoundModel, floor: float, device: torch.device,
                 hop_frames: int | None = None) -> None:
        cfg = model.config
        self.hop_frames = cfg.hop_frames if hop_frames is None else int(hop_frames)
        if self.hop_frames < 1:
            raise ValueError(f"hop_frames must be at least 1, got {self.hop_frames}")
        self.model = model.to(device).eval()
        self.device = device
        self._net = inference_net(self.model, device)
        self.labels = cfg.labels
        self._window = np.full((cfg.n_mels, cfg.window_frames), np.log(floor), dtype=np.float32)
        self._since_last = 0

    @property
    def window(self) -> np.ndarray:
        """The newest ``[n_mels, window_frames]`` log-mel window (a copy)."""
        return self._window.copy()

    def push(self, frames: np.ndarray) -> list[np.ndarray]:
        """Feed ``[n, n_mels]`` frames; returns one ``[n_labels]`` vector per completed hop."""
        hop = self.hop_frames
        out = []
        for frame in frames:
            self._window[:, :-1] = self._window[:, 1:]  # shift in place: no allocation per hop
            self._window[:, -1] = frame
            self._since_last += 1
            if self._since_last >= hop:
                self._since_last = 0
                out.append(self.classify(self._window))
        return out

    @torch.inference_mode()
    def classify(self, window: np.ndarray) -> np.ndarray:
        """``[n_mels, T]`` log-mel → ``[n_labels]`` probabilities, music ≥ its children."""
        x = torch.from_numpy(window).to(self.device)[None, None]
        probs = torch.sigmoid(self._net(x))[0].float().cpu().numpy()
        return enforce_hierarchy(probs, self.labels)
