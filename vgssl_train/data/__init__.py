"""Datasets for training and evaluation: geo-tagged splits and torch image datasets."""

from vgssl_train.data.image_dataset import ImageDataset, image_transform
from vgssl_train.data.splits import DATASET_FORMATS, GeoSplit, detect_format, load_split

__all__ = ["DATASET_FORMATS", "GeoSplit", "ImageDataset", "detect_format", "image_transform", "load_split"]
