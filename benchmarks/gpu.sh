#!/usr/bin/env bash
# The GPU path in one table (benchmarks/gpu.py): ONNX Runtime CUDA/TensorRT fp32/fp16 and training per precision.
# The CUDA/TensorRT rows need the CUDA, cuDNN and TensorRT libraries (otherwise they say why they did not run).
#   bash benchmarks/gpu.sh [--dry-run] [gpu.py flags]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "${PYTHON:-.venv/bin/python}" benchmarks/gpu.py "$@"
