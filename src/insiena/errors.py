"""Exceptions whose message is meant to be read by an analyst, on one line where possible."""


class InsienaError(Exception):
    """Base class: the pipeline stops and prints the message, without a traceback."""


class ConfigError(InsienaError):
    pass


class RegistryError(InsienaError):
    pass


class RetrievalError(InsienaError):
    pass


class ChecksumMismatch(RetrievalError):
    pass


class UnsafeArchive(RetrievalError):
    pass


class InputRejected(InsienaError):
    """A raw file failed parsing or validation; failure cases were written to `failures_path`."""

    def __init__(self, message: str, failures_path: str | None = None):
        super().__init__(message)
        self.failures_path = failures_path
