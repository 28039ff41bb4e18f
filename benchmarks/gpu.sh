#!/usr/bin/env bash
# The GPU path in one table (benchmarks/gpu.py): ONNX Runtime CUDA/TensorRT fp32/fp16 and training per precision.
# Needs onnxruntime-gpu in place of onnxruntime for the CUDA/TensorRT rows (otherwise they say why they did not run).
#   bash benchmarks/gpu.sh [--dry-run] [gpu.py flags]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "${PYTHON:-.venv/bin/python}" benchmarks/gpu.py "$@"
