"""Training methods, one per file; ``METHODS`` maps a name to its class (defaults are the paper's)."""

from __future__ import annotations

from typing import Any

from vgssl_train.methods.barlowtwins import BarlowTwins
from vgssl_train.methods.base import Method
from vgssl_train.methods.byol import BYOL
from vgssl_train.methods.mocov2 import MoCoV2
from vgssl_train.methods.simclr import SimCLR
from vgssl_train.methods.simsiam import SimSiam
from vgssl_train.methods.triplet import Triplet
from vgssl_train.methods.vicreg import VICReg
from vgssl_train.models import DescriptorModel

METHODS: dict[str, type[Method]] = {
    "simclr": SimCLR,
    "mocov2": MoCoV2,
    "byol": BYOL,
    "simsiam": SimSiam,
    "barlowtwins": BarlowTwins,
    "vicreg": VICReg,
    "triplet": Triplet,
}


def method_class(name: str) -> type[Method]:
    """The class registered as ``name``; an unknown name raises with the valid ones."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; valid methods: {', '.join(METHODS)}")
    return METHODS[name]


def build_method(name: str, model: DescriptorModel, **hparams: Any) -> Method:
    """Method ``name`` around ``model``; ``hparams`` override its defaults (unknown ones raise)."""
    cls = method_class(name)
    try:
        return cls(model, **hparams)
    except TypeError as exc:
        raise ValueError(f"bad hyper-parameters {sorted(hparams)} for method {name!r}: {exc}") from None


__all__ = ["METHODS", "Method", "build_method", "method_class"]
