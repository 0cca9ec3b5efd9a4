"""The exceptions the package raises; the native module raises them with the Rust crates' messages."""


class OutflowError(Exception):
    """Every error Outflow raises."""


class InputError(OutflowError, ValueError):
    """Bad data or parameters: an empty or non-finite matrix, a wrong width, an invalid parameter, a
    missing or wrongly typed column. The message names the row, column, field or parameter."""


class ModelFileError(OutflowError):
    """A model file or model bytes that cannot be read: not a model, corrupt, another format version,
    or a signature that does not verify."""
