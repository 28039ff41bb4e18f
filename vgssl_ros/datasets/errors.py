"""The one error type a bad dataset raises."""


class DatasetError(ValueError):
    """A dataset is missing, empty or malformed; the message names the file and the expected format."""
