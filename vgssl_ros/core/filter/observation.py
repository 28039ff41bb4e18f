"""Observation model: how well one frame's descriptor explains each place it is asked about.

Both sides are centred on their own domain's mean (the map on its mean descriptor, the drive on a
running mean of its recent frames, weighted by the distance each frame moved: season and lighting
shift all descriptors alike), then each
frame's similarities are z-scored against a fixed random sample of reference places, so scores
mean the same from frame to frame. The cost is one dot product per place asked about.
"""

from __future__ import annotations

import faiss
import numpy as np

from vgssl_ros.core.filter.tuning import STD_FLOOR


def map_descriptors(index: faiss.Index) -> np.ndarray:
    """All descriptors [N, D] of a FAISS index (exact for flat/HNSW, decoded codes for PQ)."""
    ivf = None
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:
        pass
    if ivf is not None:
        ivf.make_direct_map()
    try:
        return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)
    except RuntimeError as exc:
        raise ValueError(
            f"the map's {type(index).__name__} index cannot return its descriptors ({exc}); "
            f"rebuild the map with a flat, HNSW, IVF or IVF-PQ index to use the temporal filter"
        ) from None


class ObservationModel:
    """Log-likelihoods of places given one descriptor; ``descriptors`` [N, D] L2-normalised map descriptors."""

    def __init__(
        self, descriptors: np.ndarray, temperature: float, query_mean_rate: float, reference_places: int, seed: int = 0
    ) -> None:
        desc = np.asarray(descriptors, dtype=np.float32)
        if desc.ndim != 2 or len(desc) == 0 or not np.isfinite(desc).all():
            raise ValueError(f"map descriptors must be a finite [N, D] array with N >= 1, got {desc.shape}")
        self.map_mean = desc.mean(axis=0)
        self.centred = desc - self.map_mean
        self.temperature, self.rate = float(temperature), float(query_mean_rate)
        rng = np.random.default_rng(seed)
        self.reference = np.sort(rng.choice(len(desc), min(reference_places, len(desc)), replace=False))
        self.query_mean = self.map_mean.copy()
        self.last_view: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the drive's running mean and the last view."""
        self.query_mean = self.map_mean.copy()
        self.last_view = None

    def frame(self, descriptor: np.ndarray, weight: float = 1.0) -> FrameObservation:
        """Prepare one frame (descriptor [D]); the running query mean moves ``weight`` x the rate towards it."""
        q = np.asarray(descriptor, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.centred.shape[1] or not np.isfinite(q).all():
            raise ValueError(f"descriptor must be finite with dim {self.centred.shape[1]}, got shape {q.shape}")
        centred = q - self.query_mean if self.rate > 0 else q - self.map_mean
        self.query_mean += self.rate * float(weight) * (q - self.query_mean)
        ref = self.centred[self.reference] @ centred
        mean, std = float(ref.mean()), max(float(ref.std()), STD_FLOOR)
        ref_loglik = (ref - mean) / std / self.temperature
        top = ref_loglik.max()
        background = float(top + np.log(np.mean(np.exp(ref_loglik - top))))
        novelty = 1.0 if self.last_view is None else 1.0 - _cosine(centred, self.last_view)
        self.last_view = centred
        return FrameObservation(self, centred, mean, std, background, float(np.clip(novelty, 0.0, 1.0)))


class FrameObservation:
    """One frame's observation: ``loglik(places)``, the mean log-likelihood of a random place (``background``) and
    ``novelty``: 1 - the cosine between this frame's centred descriptor and the last one's, in [0, 1] (1 for the
    first frame): how much of the frame is news. Consecutive views of one place are alike (low novelty); each frame
    of a drive that passes a new place per frame, or a new condition, shows more."""

    def __init__(
        self,
        model: ObservationModel,
        centred: np.ndarray,
        mean: float,
        std: float,
        background: float,
        novelty: float = 1.0,
    ) -> None:
        self._model, self._q, self._mean, self._std = model, centred, mean, std
        self.background, self.novelty = background, novelty

    def loglik(self, places: np.ndarray) -> np.ndarray:
        """Log-likelihood [M] of the frame at each of ``places`` [M]."""
        sims = self._model.centred[places] @ self._q
        loglik: np.ndarray = (sims - self._mean) / self._std / self._model.temperature
        return loglik


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two vectors [D] (0 when either is zero)."""
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0
