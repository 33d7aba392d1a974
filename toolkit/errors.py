"""Exceptions raised by the library; the CLI turns each into one line and exit code 2."""


class ToolkitError(Exception):
    """Base class: a problem with the user's input that deserves a one-line message."""


class InputError(ToolkitError):
    """An input file is missing, empty, binary, undecodable or too large."""


class AnnotationError(ToolkitError):
    """An annotation file or Label Studio export is malformed or inconsistent."""


class FoldsError(AnnotationError, ValueError):
    """The data have fewer report groups than the cross-validation folds asked for."""


class LockError(ToolkitError):
    """Another writer holds a file's lock (the annotation store, a model) longer than the timeout."""


class UnknownLabelError(AnnotationError):
    """A label is not one of the taxonomy's slugs."""


class ModelError(ToolkitError):
    """A model file is missing, corrupt, foreign or made for another taxonomy."""


class ProjectError(ToolkitError):
    """No annotation project is named or found, or the one named is not a project."""


class LabelStudioError(ToolkitError):
    """The Label Studio server is unreachable, refuses the key, or holds another project."""


class ModelWarning(UserWarning):
    """A model file is about to be unpickled from outside a ``models/`` folder (a pickle runs code)."""


def json_problem(exc: ValueError) -> str:
    """What is wrong with a JSON text and where, from :class:`json.JSONDecodeError` (whose messages
    may end in "at", as "Unterminated string starting at"): "Expecting value at line 1 column 5".

    >>> import json
    >>> try:
    ...     json.loads('[{"a": "b')
    ... except json.JSONDecodeError as exc:
    ...     json_problem(exc)
    'Unterminated string starting at line 1 column 8'
    """
    msg, line, column = getattr(exc, "msg", str(exc)), getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if line is None:
        return msg
    return f"{msg.removesuffix(' at')} at line {line} column {column}"
