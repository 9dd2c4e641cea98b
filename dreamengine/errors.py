"""The one exception type a user is meant to read.

Anything raised as :class:`DreamengineError` is bad input or a missing resource: the CLI prints
its message (which names the file, key or device at fault) and exits non-zero, never a traceback.
"""


class DreamengineError(Exception):
    """A failure the user can fix; the message says what and where."""
