"""Output checks made before any work starts: a long run must not end on a file it cannot write.

Every command that writes files checks them here first: the folder exists or
can be made, a file can be created in it, and nothing already there is
replaced unless the user asked (`--overwrite`). Training for 20 minutes and
then failing on an unwritable folder, or silently replacing last week's model,
is what this prevents.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from liveness.errors import ConfigError


def check_output_files(paths: Iterable[str | Path | None], overwrite: bool = False) -> None:
    """Each named output file may be written: its folder is writable, and it does not exist yet
    (or `overwrite`). `None` and "-" (stdout) are skipped."""
    for given in paths:
        if given is None or str(given) == "-":
            continue
        path = Path(given)
        if path.is_dir():
            raise ConfigError(f"{path} is a folder; expected a file name")
        if path.exists() and not overwrite:
            raise ConfigError(f"{path} already exists; pass --overwrite to replace it")
        check_output_folder(path.parent)


def check_output_folder(folder: str | Path, holds: Iterable[str] = (), overwrite: bool = False) -> None:
    """`folder` exists or can be made, a file can be created in it, and none of the file names
    `holds` is there already (unless `overwrite`)."""
    folder = Path(folder)
    taken = [name for name in holds if (folder / name).exists()]
    if taken and not overwrite:
        raise ConfigError(f"{folder} already holds {', '.join(taken)}; pass --overwrite to replace them")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        raise ConfigError(f"cannot write to {folder}: a file of that name is in the way") from None
    except NotADirectoryError:
        raise ConfigError(f"cannot write to {folder}: part of the path is a file, not a folder") from None
    except OSError as exc:
        raise ConfigError(f"cannot write to {folder}: {exc.strerror or exc}") from None
