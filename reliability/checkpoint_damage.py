"""Damaged checkpoints through `vgssl-train export --checkpoint` (loaded with weights_only=True).

Outcomes as in reliability/input_damage.py: ``refused`` (exit 2, one line), ``accepted`` (exit 0 and a model.onnx
written), ``wrong`` (accepted although it must be refused, or exit 0 without a model) or ``traceback``.
"""

from __future__ import annotations

import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reliability.map_damage import Outcome, command, error_line

CKPT = "ckpt/best.pt"
PARITY = 4
"""Images the export's parity check runs on (its minimum)."""
UNSAFE_ADVICE = "weights_only"
"""A refusal that mentions this passes on torch's advice to load with weights_only=False: it must not."""


@dataclass(frozen=True)
class CheckpointCase:
    """One damaged checkpoint: ``mutate(root)`` edits root/ckpt/best.pt."""

    name: str
    kind: str
    mutate: Callable[[Path], None]
    must_refuse: bool = True


def make_checkpoint(root: Path) -> Path:
    """root/ckpt/best.pt: a small ResNet-18 (conv4, GeM, fc 8) trained at 32x32, as training would write it."""
    from vgssl_train.models import DescriptorModel, ModelSpec
    from vgssl_train.training.checkpoint import save_checkpoint

    model = DescriptorModel(ModelSpec(backbone="resnet18", layer="conv4", aggregation="gem", fc_dim=8), weights=None)
    payload = {"model": model.state_dict(), "model_spec": model.spec.to_dict(), "resize": [32, 32], "step": 1}
    (root / "ckpt").mkdir(parents=True, exist_ok=True)
    save_checkpoint(root / CKPT, payload)
    rng = np.random.default_rng(7)
    (root / "ckpt" / "parity").mkdir()
    for i in range(PARITY):
        cv2.imwrite(str(root / "ckpt" / "parity" / f"p{i}.png"), rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return root / CKPT


def edit_payload(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """Load the checkpoint (safely), apply ``edit`` and save the result with plain torch.save."""

    def mutate(root: Path) -> None:
        import torch

        ckpt = torch.load(root / CKPT, map_location="cpu", weights_only=True)
        out = edit(ckpt)
        torch.save(ckpt if out is None else out, root / CKPT)

    return mutate


def _weights(value: float) -> Callable[[dict[str, Any]], None]:
    def edit(ckpt: dict[str, Any]) -> None:
        key = next(k for k, v in ckpt["model"].items() if v.is_floating_point() and v.numel() > 8)
        ckpt["model"][key].view(-1)[3] = value

    return edit


def _bytes(make: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        (root / CKPT).write_bytes(make((root / CKPT).read_bytes()))

    return mutate


def _flip(seed: int, count: int) -> Callable[[Path], None]:
    def make(data: bytes) -> bytes:
        rng = np.random.default_rng(seed)
        buf = bytearray(data)
        for pos in rng.integers(0, len(buf), count):
            buf[pos] ^= 1 << int(rng.integers(8))
        return bytes(buf)

    return _bytes(make)


def _tensor_data(seed: int) -> Callable[[Path], None]:
    """Flip a bit inside one stored tensor's data (the zip's CRC is not checked by every reader)."""

    def mutate(root: Path) -> None:
        rng = np.random.default_rng(seed)
        with zipfile.ZipFile(root / CKPT) as z:
            infos = [i for i in z.infolist() if "/data/" in i.filename and i.file_size > 64]
        info = infos[int(rng.integers(len(infos)))]
        buf = bytearray((root / CKPT).read_bytes())
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        pos = start + int(rng.integers(info.file_size))
        buf[pos] ^= 1 << int(rng.integers(8))
        (root / CKPT).write_bytes(bytes(buf))

    return mutate


def checkpoint_cases(seed: int, randoms: int) -> list[CheckpointCase]:
    """Named damages of the payload and the file, then seeded truncations and bit flips."""
    named: dict[str, tuple[Callable[[Path], None], bool]] = {
        "NaN weight": (edit_payload(_weights(float("nan"))), True),
        "inf weight": (edit_payload(_weights(float("inf"))), True),
        "format 3": (edit_payload(lambda c: c.update(format=3)), True),
        "format 'x'": (edit_payload(lambda c: c.update(format="x")), True),
        "backbone 'nope'": (edit_payload(lambda c: c["model_spec"].update(backbone="nope")), True),
        "fc_dim -1": (edit_payload(lambda c: c["model_spec"].update(fc_dim=-1)), True),
        "fc_dim '8'": (edit_payload(lambda c: c["model_spec"].update(fc_dim="8")), True),
        "model_spec a list": (edit_payload(lambda c: c.update(model_spec=[1, 2])), True),
        "model_spec unknown field": (edit_payload(lambda c: c["model_spec"].update(extra=1)), True),
        "resize [0, 0]": (edit_payload(lambda c: c.update(resize=[0, 0])), True),
        "resize 'abc'": (edit_payload(lambda c: c.update(resize="abc")), True),
        "resize [100000, 1]": (edit_payload(lambda c: c.update(resize=[100000, 1])), True),
        "resize [32.5, 32]": (edit_payload(lambda c: c.update(resize=[32.5, 32])), True),
        "no model": (edit_payload(lambda c: c.pop("model")), True),
        "model weights of another shape": (edit_payload(lambda c: c["model_spec"].update(fc_dim=16)), True),
        "payload a list": (edit_payload(lambda c: [1, 2, 3]), True),
        "empty file": (_bytes(lambda d: b""), True),
        "cut to half": (_bytes(lambda d: d[: len(d) // 2]), True),
        "zip magic only": (_bytes(lambda d: d[:4]), True),
        "text file": (_bytes(lambda d: b"not a checkpoint\n"), True),
        "a legacy (non-zip) pickle of a dict": (_legacy_pickle, True),
    }
    cases = [CheckpointCase(f"checkpoint {n}", "checkpoints", m, refuse) for n, (m, refuse) in named.items()]
    rng = np.random.default_rng(seed + 3)
    for k in range(randoms):
        s = int(rng.integers(1 << 30))
        if k % 3 == 0:
            frac = float(rng.uniform(0.01, 0.99))
            cut = _bytes(partial(_cut, frac=frac))
            cases.append(CheckpointCase(f"checkpoint cut to {frac:.1%}", "checkpoints", cut))
        elif k % 3 == 1:
            flip = _flip(s, int(rng.choice([1, 8, 50])))
            cases.append(CheckpointCase(f"checkpoint bit flips (seed {s})", "checkpoints", flip, False))
        else:
            cases.append(CheckpointCase(f"checkpoint tensor bit (seed {s})", "checkpoints", _tensor_data(s), False))
    return cases


def _cut(data: bytes, frac: float) -> bytes:
    return data[: int(len(data) * frac)]


def _legacy_pickle(root: Path) -> None:
    import torch

    ckpt = torch.load(root / CKPT, map_location="cpu", weights_only=True)
    torch.save(ckpt, root / CKPT, _use_new_zipfile_serialization=False)
    data = (root / CKPT).read_bytes()
    (root / CKPT).write_bytes(data[: len(data) - 7])  # the old format, truncated in its tensor data


def run_checkpoint_case(case: CheckpointCase, assets: Path, work: Path) -> Outcome:
    """Copy the checkpoint, damage it and export it; classify what `vgssl-train export` did."""
    from vgssl_train.cli import main as vgssl_train

    t0 = time.perf_counter()
    if work.exists():
        shutil.rmtree(work)
    (work / "ckpt").mkdir(parents=True)
    shutil.copy(assets / CKPT, work / CKPT)
    case.mutate(work)
    out = work / "model.onnx"
    argv = ["export", "--checkpoint", str(work / CKPT), "--out", str(out), "--parity-count", str(PARITY)]
    rc, stdout, err = command([*argv, "--parity-images", str(assets / "ckpt" / "parity")], vgssl_train)
    seconds = time.perf_counter() - t0
    if rc != 0:
        line = error_line(rc, err)
        result, message = ("traceback", err.strip()[-300:]) if line is None else ("refused", line)
        if line is not None and UNSAFE_ADVICE in line:
            result = "wrong"
        return Outcome(case, result, message, seconds)  # type: ignore[arg-type]
    wrong = case.must_refuse or not out.is_file()
    return Outcome(case, "wrong" if wrong else "accepted", stdout.strip()[-200:], seconds)  # type: ignore[arg-type]
