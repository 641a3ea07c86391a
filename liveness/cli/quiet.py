"""Drop the C++ chatter of TensorFlow and LiteRT from the command's stderr, pass the rest on.

TensorFlow 2.20 writes oneDNN, CUDA and CPU-feature notices through absl before
any Python setting can reach it, and LiteRT announces its XNNPACK delegate on
every start; no environment variable silences them. The command runs with file
descriptor 2 turned into a pipe that a thread reads: lines matching `NOISE`
are dropped, everything else (our logs, tqdm bars, real native errors) is
written to the original stderr as it arrives. Only the `liveness` command does
this; importing the library changes nothing.
"""

from __future__ import annotations

import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\]|WARNING: All log messages before absl::InitializeLog"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate|To enable the following instructions:"
    rb"|WARNING: AutoGraph is not available"
    rb"|E\d{4} [\d:. ]+\d+ cuda_platform\.cc:\d+\] failed call to cuInit)"  # no GPU: not an error here
)


class NativeNoiseFilter:
    """A context in which fd 2 is filtered line by line (segments end at a newline or a carriage return)."""

    def __enter__(self) -> NativeNoiseFilter:
        sys.stderr.flush()
        self._saved = os.dup(2)
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self._thread = threading.Thread(target=self._pump, args=(read, os.dup(self._saved)), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # closes the pipe's last write end here: the pump sees its end
        os.close(self._saved)
        self._thread.join(timeout=2.0)

    @staticmethod
    def _pump(read: int, out: int) -> None:
        pending = b""
        try:
            while chunk := os.read(read, 65536):
                pending += chunk
                for segment in re.findall(rb"[^\r\n]*[\r\n]+", pending):
                    if not NOISE.match(segment):
                        os.write(out, segment)
                    pending = pending[len(segment) :]
            if pending and not NOISE.match(pending):
                os.write(out, pending)
        finally:
            os.close(read)
            os.close(out)
