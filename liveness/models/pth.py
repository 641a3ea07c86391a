"""Read the tensors of a PyTorch checkpoint with numpy alone, never running pickle code.

A `.pth` file is a pickle program plus raw storage bytes. `pickle.load` would run
whatever callables the program names, so this module never hands the file to the
`pickle` module: it walks the opcodes itself (`pickletools.genops` only parses)
and knows four globals, an ordered dict, the tensor rebuild function and the
storage types. Any other global, or an opcode outside the small set a state dict
uses, is refused with `ModelLoadError` before anything is built.

Both layouts torch has written are read: the legacy one (a row of pickles, then
each storage as an 8-byte element count and its bytes) and the zip one
(`*/data.pkl` beside `*/data/<key>`).
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveness.errors import ModelLoadError

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


@dataclass(frozen=True)
class _StorageType:
    dtype: Any


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: Any


@dataclass(frozen=True)
class _Global:
    name: str


class _Mark:
    pass


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_: Any) -> np.ndarray:
    """torch._utils._rebuild_tensor_v2: a strided view of a flat storage, copied out."""
    if not size:
        return np.array(storage[offset])
    item = storage.itemsize
    need = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) + 1
    if need > storage.size:
        raise ModelLoadError(f"a tensor of shape {tuple(size)} reaches past its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)
    )
    return np.array(view)


def _allowed_global(module: str, name: str) -> _Global | _StorageType:
    if (module, name) in {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2")}:
        return _Global(f"{module}.{name}")
    if module == "torch" and name in STORAGE_DTYPES:
        return _StorageType(STORAGE_DTYPES[name])
    raise ModelLoadError(
        f"the checkpoint names {module}.{name}, which is not on the allow-list of tensor types"
    )


class _Machine:
    """A pickle stack machine that builds only dicts, tuples, lists, scalars and tensors."""

    def __init__(self, load_storage: Callable[[_StorageRef], Any], build: bool = True) -> None:
        self.build = build  # False: only walk the program (to learn the storages' types)
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.load_storage = load_storage

    def run(self, ops: Iterator[tuple[Any, Any, Any]]) -> Any:
        for op, arg, _ in ops:
            name = op.name
            if name == "STOP":
                return self.stack.pop()
            handler = getattr(self, "op_" + name, None)
            if handler is None:
                raise ModelLoadError(
                    f"the checkpoint uses the pickle opcode {name}, which a state dict never needs"
                )
            handler(arg)
        raise ModelLoadError("the checkpoint's pickle has no STOP")

    def _pop_mark(self) -> list[Any]:
        items: list[Any] = []
        while True:
            item = self.stack.pop()
            if isinstance(item, _Mark):
                return items[::-1]
            items.append(item)

    # constants
    def op_PROTO(self, arg: Any) -> None:
        pass

    def op_FRAME(self, arg: Any) -> None:
        pass

    def op_MARK(self, arg: Any) -> None:
        self.stack.append(_Mark())

    def _push(self, arg: Any) -> None:
        self.stack.append(arg)

    op_BININT = op_BININT1 = op_BININT2 = op_LONG1 = op_BINFLOAT = _push
    op_BINUNICODE = op_SHORT_BINUNICODE = op_BINUNICODE8 = _push

    def op_NONE(self, arg: Any) -> None:
        self.stack.append(None)

    def op_NEWTRUE(self, arg: Any) -> None:
        self.stack.append(True)

    def op_NEWFALSE(self, arg: Any) -> None:
        self.stack.append(False)

    # memo
    def op_BINPUT(self, arg: int) -> None:
        self.memo[arg] = self.stack[-1]

    op_LONG_BINPUT = op_BINPUT

    def op_MEMOIZE(self, arg: Any) -> None:
        self.memo[len(self.memo)] = self.stack[-1]

    def op_BINGET(self, arg: int) -> None:
        self.stack.append(self.memo[arg])

    op_LONG_BINGET = op_BINGET

    # containers
    def op_EMPTY_TUPLE(self, arg: Any) -> None:
        self.stack.append(())

    def op_TUPLE(self, arg: Any) -> None:
        self.stack.append(tuple(self._pop_mark()))

    def _tuple_n(self, n: int) -> None:
        items = self.stack[-n:]
        del self.stack[-n:]
        self.stack.append(tuple(items))

    def op_TUPLE1(self, arg: Any) -> None:
        self._tuple_n(1)

    def op_TUPLE2(self, arg: Any) -> None:
        self._tuple_n(2)

    def op_TUPLE3(self, arg: Any) -> None:
        self._tuple_n(3)

    def op_EMPTY_DICT(self, arg: Any) -> None:
        self.stack.append({})

    def op_EMPTY_LIST(self, arg: Any) -> None:
        self.stack.append([])

    def op_SETITEM(self, arg: Any) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self.stack[-1][key] = value

    def op_SETITEMS(self, arg: Any) -> None:
        items = self._pop_mark()
        target = self.stack[-1]
        for key, value in zip(items[::2], items[1::2], strict=True):
            target[key] = value

    def op_APPEND(self, arg: Any) -> None:
        value = self.stack.pop()
        self.stack[-1].append(value)

    def op_APPENDS(self, arg: Any) -> None:
        items = self._pop_mark()
        self.stack[-1].extend(items)

    # the only calls: known globals, never a name from the file
    def op_GLOBAL(self, arg: str) -> None:
        module, _, name = arg.partition(" ")
        self.stack.append(_allowed_global(module, name))

    def op_STACK_GLOBAL(self, arg: Any) -> None:
        name = self.stack.pop()
        module = self.stack.pop()
        self.stack.append(_allowed_global(module, name))

    def op_REDUCE(self, arg: Any) -> None:
        args = self.stack.pop()
        func = self.stack.pop()
        if func == _Global("collections.OrderedDict") and args == ():
            self.stack.append({})
        elif func == _Global("torch._utils._rebuild_tensor_v2"):
            self.stack.append(_rebuild_tensor(*args) if self.build else None)
        else:
            raise ModelLoadError(f"the checkpoint calls {func!r}, which only tensors may do")

    def op_BUILD(self, arg: Any) -> None:
        self.stack.pop()  # an OrderedDict's `_metadata` (module versions): not needed for weights

    def op_BINPERSID(self, arg: Any) -> None:
        pid = self.stack.pop()
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"):
            raise ModelLoadError("the checkpoint refers to something other than a tensor storage")
        kind = pid[1]
        if not isinstance(kind, _StorageType):
            raise ModelLoadError("a storage of the checkpoint has no known element type")
        self.stack.append(self.load_storage(_StorageRef(str(pid[2]), kind.dtype)))


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The named tensors of a PyTorch checkpoint, as numpy arrays (a state dict)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read the checkpoint {path}: {exc.strerror or exc}") from None
    try:
        state = _read_zip(data) if zipfile.is_zipfile(io.BytesIO(data)) else _read_legacy(data)
    except (ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(f"{path} is not a readable PyTorch checkpoint ({exc})") from None
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ModelLoadError(f"{path} holds no state dict of tensors")
    return state


def _read_legacy(data: bytes) -> Any:
    """Two passes: the storages' bytes follow the state dict's pickle, so find them first."""
    stream = io.BytesIO(data)
    header = [_Machine(_no_storage).run(pickletools.genops(stream)) for _ in range(3)]
    if header[0] != _LEGACY_MAGIC:
        raise ValueError("not a torch checkpoint (wrong magic number)")
    state_at = stream.tell()
    dtypes: dict[str, Any] = {}

    def note(ref: _StorageRef) -> None:
        dtypes[ref.key] = np.dtype(ref.dtype)

    _Machine(note, build=False).run(pickletools.genops(stream))  # learn each storage's type
    keys = _Machine(_no_storage).run(pickletools.genops(stream))
    spans: dict[str, tuple[int, int]] = {}
    offset = stream.tell()
    for key in keys:
        count = int.from_bytes(data[offset : offset + 8], "little")
        spans[key] = (offset + 8, count)
        offset += 8 + count * dtypes[key].itemsize

    def load(ref: _StorageRef) -> np.ndarray:
        start, count = spans[ref.key]
        return np.frombuffer(data, dtype=np.dtype(ref.dtype).newbyteorder("<"), count=count, offset=start)

    return _Machine(load).run(pickletools.genops(io.BytesIO(data[state_at:])))


def _read_zip(data: bytes) -> Any:
    archive = zipfile.ZipFile(io.BytesIO(data))
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise ValueError("the zip holds no single data.pkl")
    root = pickles[0][: -len("data.pkl")]

    def load(ref: _StorageRef) -> np.ndarray:
        raw = archive.read(f"{root}data/{ref.key}")
        return np.frombuffer(raw, dtype=np.dtype(ref.dtype).newbyteorder("<"))

    return _Machine(load).run(pickletools.genops(io.BytesIO(archive.read(pickles[0]))))


def _no_storage(ref: _StorageRef) -> np.ndarray:
    raise ValueError("a storage outside the state dict")
