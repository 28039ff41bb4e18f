"""The errors the runtime core raises; each message names what was wrong and what to do."""


class DecodeError(ValueError):
    """An image message cannot be decoded: unsupported encoding or inconsistent sizes."""


class ModelError(ValueError):
    """model.onnx is missing, corrupt, or does not follow the vgssl model contract."""


class MapError(ValueError):
    """A map directory is missing, incomplete, corrupt, newer than this code, or built with another model."""
