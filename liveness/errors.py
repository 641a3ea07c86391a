"""One exception hierarchy, so front ends can tell user mistakes from bugs.

The command line prints a `LivenessError` as one line and exits with code 2;
anything else is a bug and keeps its traceback.
"""


class LivenessError(Exception):
    """Base class of every error caused by input, configuration or files."""


class ConfigError(LivenessError):
    """An option or a combination of options makes no sense."""


class ModelLoadError(LivenessError):
    """A model, model card or detector file is missing, unsafe or malformed."""


class InputError(LivenessError):
    """An image, video or camera cannot be read."""


class DatasetError(LivenessError):
    """A dataset folder or manifest cannot be used as given."""


class UnknownComponentError(LivenessError, KeyError):
    """A registry was asked for a name it does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
