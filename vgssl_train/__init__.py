"""vgssl_train: offline PyTorch training, evaluation and export of geo-localization descriptors."""
