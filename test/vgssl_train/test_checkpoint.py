"""Checkpoints load with weights_only=True: a file that would run code is refused, RNG state round-trips."""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import torch

from vgssl_train.cli import main
from vgssl_train.models import DescriptorModel, ModelSpec
from vgssl_train.training.checkpoint import (
    CheckpointError,
    checkpoint_differences,
    load_checkpoint,
    load_descriptor_model,
    save_checkpoint,
)
from vgssl_train.training.rng import rng_state, set_rng_state


class _Payload:
    """Unpickling it calls os.mkdir(marker): proof that a load ran code from the file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _small_model() -> DescriptorModel:
    return DescriptorModel(ModelSpec(backbone="resnet18", layer="conv4", aggregation="gem", fc_dim=8), weights=None)


def _write_malicious(path, marker) -> None:
    model = _small_model()
    torch.save({"model": model.state_dict(), "model_spec": model.spec.to_dict(), "extra": _Payload(str(marker))}, path)


def test_a_checkpoint_whose_pickle_runs_code_is_refused_and_the_code_never_runs(tmp_path):
    evil, marker = tmp_path / "evil.pt", tmp_path / "code_ran"
    _write_malicious(evil, marker)
    with pytest.raises(CheckpointError, match=r"holds a Python object \(posix.mkdir\).*refused"):
        load_checkpoint(evil)
    with pytest.raises(CheckpointError):
        load_descriptor_model(evil)
    assert not marker.exists()
    torch.load(evil, weights_only=False)  # the unsafe load the trainer used to do: the payload is live
    assert marker.is_dir()


@pytest.mark.parametrize("command", ["eval", "export", "train"])
def test_every_command_refuses_it_with_one_line_and_exit_2(command, vpr_dataset, tmp_path, capsys):
    evil, marker = tmp_path / "evil.pt", tmp_path / "code_ran"
    _write_malicious(evil, marker)
    extra = {
        "eval": ["--dataset", str(vpr_dataset)],
        "export": ["--out", str(tmp_path / "m.onnx"), "--parity-images", str(vpr_dataset / "images" / "val")],
        "train": ["--method", "simclr", "--dataset", str(vpr_dataset), "--out", str(tmp_path / "run")],
    }[command]
    assert main([command, "--checkpoint", str(evil), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "would run code" in err and "Traceback" not in err
    assert not marker.exists()


def test_a_format_1_checkpoint_with_a_pickled_numpy_rng_is_refused_with_what_to_do(tmp_path):
    model, path = _small_model(), tmp_path / "last.pt"
    torch.save(
        {"format": 1, "model": model.state_dict(), "model_spec": model.spec.to_dict(), "rng": np.random.get_state()},
        path,
    )
    with pytest.raises(CheckpointError, match="use one written by this vgssl-train, or train again"):
        load_checkpoint(path)


def test_truncated_and_foreign_files_give_a_clear_error(tmp_path):
    model, good = _small_model(), tmp_path / "good.pt"
    save_checkpoint(good, {"model": model.state_dict(), "model_spec": model.spec.to_dict()})
    loaded, meta = load_descriptor_model(good)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
    assert meta["format"] == 2
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or not a vgssl checkpoint"):
        load_checkpoint(cut)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not a vgssl checkpoint"):
        load_checkpoint(other)


def test_saving_refuses_anything_a_safe_load_would_refuse(tmp_path):
    model = _small_model()
    payload = {"model": model.state_dict(), "model_spec": model.spec.to_dict()}
    with pytest.raises(TypeError, match=r"\['val_recall'\]\['1'\] is a numpy.float64"):
        save_checkpoint(tmp_path / "a.pt", {**payload, "val_recall": {"1": np.float64(90.0)}})
    with pytest.raises(TypeError, match=r"\['pairs'\] is a numpy.ndarray"):
        save_checkpoint(tmp_path / "a.pt", {**payload, "pairs": np.zeros(3)})
    assert not (tmp_path / "a.pt").exists()


def test_rng_state_survives_a_safe_save_and_load(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.gauss(0, 1), np.random.standard_normal()  # cached Gaussians are part of the state
    model = _small_model()
    save_checkpoint(
        tmp_path / "c.pt", {"model": model.state_dict(), "model_spec": model.spec.to_dict(), "rng": rng_state()}
    )
    expected = (random.random(), random.gauss(0, 1), np.random.standard_normal(3).tolist(), torch.rand(3).tolist())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(load_checkpoint(tmp_path / "c.pt")["rng"])
    assert (
        random.random(),
        random.gauss(0, 1),
        np.random.standard_normal(3).tolist(),
        torch.rand(3).tolist(),
    ) == expected


def test_resuming_from_a_model_only_checkpoint_says_to_use_last_pt(vpr_dataset, tmp_path, capsys):
    run = tmp_path / "run"
    spec = ModelSpec()  # the command's default model
    save_checkpoint(
        run / "last.pt",
        {"model": DescriptorModel(spec, weights=None).state_dict(), "model_spec": spec.to_dict(), "method": "simclr"},
    )
    argv = ["train", "--method", "simclr", "--dataset", str(vpr_dataset), "--out", str(run), "--resume"]
    assert main([*argv, "--weights", "none", "--resize", "32", "64", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lacks method_state, optimizer" in err and "resume from the last.pt" in err


def test_a_save_that_fails_part_way_leaves_the_previous_checkpoint_and_no_partial_file(tmp_path, monkeypatch):
    model = _small_model()
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model": model.state_dict(), "model_spec": model.spec.to_dict(), "step": 1})
    before = path.read_bytes()

    def dies_mid_write(obj, f, *args, **kwargs):
        with open(f, "wb") as out:  # some bytes of the new checkpoint reach the disk, then the disk fills
            out.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_mid_write)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, {"model": model.state_dict(), "model_spec": model.spec.to_dict(), "step": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before and load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary left under any name


def test_nested_values_and_keys_are_checked_with_their_place_named(tmp_path):
    with pytest.raises(TypeError, match=r"^checkpoint\['pairs'\]\[1\] is a numpy.ndarray; store tensors or plain"):
        save_checkpoint(tmp_path / "a.pt", {"pairs": [1, np.zeros(3)]})
    with pytest.raises(TypeError, match=r"^checkpoint\['log'\]: key 1.5 is a float, not str or int$"):
        save_checkpoint(tmp_path / "a.pt", {"log": {1.5: "x"}})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (
            {"model": {}, "model_spec": {}, "format": 3},
            r"has checkpoint format 3, newer than this vgssl \(2\); upgrade",
        ),
        ({"model": {}, "model_spec": {}, "format": "2"}, "has checkpoint format '2'"),
        ({"model": {}}, r"is not a vgssl checkpoint \(no 'model' and 'model_spec' entries\)"),
        ({"model_spec": {}}, "is not a vgssl checkpoint"),
        ([1, 2], "is not a vgssl checkpoint"),
    ],
)
def test_foreign_or_newer_checkpoints_are_refused(tmp_path, payload, error):
    torch.save(payload, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match=error):
        load_checkpoint(tmp_path / "x.pt")


def test_current_format_loads_and_missing_or_truncated_files_say_so(tmp_path):
    torch.save({"model": {}, "model_spec": {}, "format": 2, "t": torch.ones(2)}, tmp_path / "ok.pt")
    ckpt = load_checkpoint(tmp_path / "ok.pt")
    assert ckpt["format"] == 2 and ckpt["t"].device.type == "cpu"
    with pytest.raises(FileNotFoundError, match=r"^checkpoint .*nope.pt does not exist$"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "ok.pt").read_bytes()[:40])
    with pytest.raises(CheckpointError, match=r"^checkpoint .*cut.pt cannot be read \(\w+: .+\); it is truncated"):
        load_checkpoint(tmp_path / "cut.pt")


def test_a_checkpoint_written_on_a_gpu_loads_on_a_cpu_only_machine(tmp_path, monkeypatch):
    import torch.serialization

    model = _small_model()
    with monkeypatch.context() as m:  # tag every storage as CUDA, as torch.save does for a model on a GPU
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        save_checkpoint(tmp_path / "gpu.pt", {"model": model.state_dict(), "model_spec": model.spec.to_dict()})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded, _ = load_descriptor_model(tmp_path / "gpu.pt")
    assert all(t.device.type == "cpu" for t in loaded.state_dict().values())


def test_a_checkpoint_without_a_format_entry_is_format_0_and_loads(tmp_path):
    torch.save({"model": {}, "model_spec": {}, "step": 4}, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["step"] == 4


def _torch_error(path) -> Exception:
    """What torch.load itself raises for ``path``."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the test compares against whatever torch raises
        return exc
    raise AssertionError(f"torch.load read {path}")


@pytest.mark.parametrize("data", [b"", b"garbage, not a checkpoint", b"\x80\x02 a cut pickle", b"PK\x05\x06"])
def test_an_unreadable_file_is_named_with_the_first_sentence_of_torchs_error(tmp_path, data):
    path = tmp_path / "bad.pt"
    path.write_bytes(data)
    exc = _torch_error(path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    if isinstance(exc, pickle.UnpicklingError):  # torch's text advises weights_only=False: never passed on
        assert str(err.value).startswith(f"checkpoint {path} is not a vgssl checkpoint: its pickle holds something")
        return
    reason = str(exc).strip().splitlines()[0].split(". ")[0][:200] if str(exc).strip() else ""
    assert str(err.value) == (
        f"checkpoint {path} cannot be read ({type(exc).__name__}: {reason}); it is truncated or not a vgssl "
        "checkpoint: use the file training wrote (last.pt or best.pt)"
    )


def test_a_model_that_does_not_match_its_spec_quotes_the_first_line_of_the_error(tmp_path):
    model = _small_model()
    spec = {**model.spec.to_dict(), "fc_dim": 16}
    save_checkpoint(tmp_path / "a.pt", {"model": model.state_dict(), "model_spec": spec})
    with pytest.raises(CheckpointError) as err:
        load_descriptor_model(tmp_path / "a.pt")
    assert str(err.value) == (
        f"{tmp_path / 'a.pt'}: its model does not match its model spec "
        "(Error(s) in loading state_dict for DescriptorModel:)"
    )
    long_name = "k" * 300
    save_checkpoint(tmp_path / "b.pt", {"model": {}, "model_spec": {**model.spec.to_dict(), long_name: 1}})
    with pytest.raises(CheckpointError) as err:
        load_descriptor_model(tmp_path / "b.pt")
    quoted = str(err.value).split("model spec (", 1)[1]
    assert len(quoted) == 201 and quoted.endswith(")") and "unexpected keyword argument" in quoted


def test_a_model_error_without_text_is_named_by_its_type(tmp_path, monkeypatch):
    model = _small_model()
    save_checkpoint(tmp_path / "a.pt", {"model": model.state_dict(), "model_spec": model.spec.to_dict()})

    def fails_silently(self, state, *args, **kwargs):
        raise KeyError

    monkeypatch.setattr(DescriptorModel, "load_state_dict", fails_silently)
    with pytest.raises(CheckpointError, match=r"its model does not match its model spec \(KeyError\)$"):
        load_descriptor_model(tmp_path / "a.pt")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_checkpoint_with_non_finite_weights_is_refused_naming_the_tensor(value, tmp_path):
    """Found by the fuzz-files campaign: `vgssl-train export` wrote a model whose parity cosine was NaN."""
    model = _small_model()
    state = model.state_dict()
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 8)
    state[key].view(-1)[3] = value
    save_checkpoint(tmp_path / "a.pt", {"model": state, "model_spec": model.spec.to_dict()})
    with pytest.raises(CheckpointError, match=f"hold NaN or inf \\(first '{key}'\\).*earlier checkpoint"):
        load_descriptor_model(tmp_path / "a.pt")


def test_a_file_that_is_no_checkpoint_is_refused_without_passing_on_torchs_unsafe_advice(tmp_path):
    """Found by the fuzz-files campaign: the refusal quoted torch's 'Re-running with weights_only set to False'."""
    (tmp_path / "a.pt").write_bytes(b"not a checkpoint\n")
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "a.pt")
    assert "weights_only" not in str(exc.value) and "is not a vgssl checkpoint" in str(exc.value)
    (tmp_path / "b.pt").write_bytes(b"PK\x05\x06" + b"\0" * 10)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "b.pt")
    assert "weights_only" not in str(exc.value) and "If you are seeing" not in str(exc.value)


def test_checkpoint_differences_names_each_entry_that_is_not_bit_identical():
    a = {"model": {"w": torch.ones(3)}, "rng": {"python": [3, (1, 2)]}, "step": 4, "optimizer": {"lr": 0.1}}
    same = {"model": {"w": torch.ones(3)}, "rng": {"python": [3, (1, 2)]}, "step": 4, "optimizer": {"lr": 0.1}}
    assert checkpoint_differences(a, same) == []
    nudged = {**same, "model": {"w": torch.tensor([1.0, 1.0, 1.0 + 2**-23])}}  # the next float32 after 1
    assert checkpoint_differences(a, nudged) == ["model['w']"]
    assert checkpoint_differences(a, {**same, "step": 5.0, "rng": {"python": [3, (1,)]}}) == [
        "rng['python'][1][1]",
        "step",
    ]
    assert checkpoint_differences(a, {**same, "optimizer": {"lr": torch.tensor(0.1)}}) == ["optimizer['lr']"]
    assert checkpoint_differences(a, same, keys=("model",)) == []


def test_seed_all_fixes_every_global_generator():
    from vgssl_train.training.rng import seed_all

    seed_all(3)
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.random(), np.random.rand(), torch.rand(1)
    seed_all(3)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
