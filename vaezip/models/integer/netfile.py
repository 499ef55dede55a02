"""The integer model file (``.vzn``): an ``IntegerModel`` as bytes, byte for byte in ``docs/format.md``.

Layout (little-endian)::

    magic      8 bytes  b"VZNET\\r\\n\\x1a"
    version    u16      1
    json_size  u32
    json       json_size bytes of UTF-8 JSON (keys sorted, no spaces)
    arrays     the integer arrays the JSON refers to, back to back

The JSON holds ``config`` (the ``VAEConfig``), ``latent`` (``frac`` and the
``table`` array), ``encoder`` and ``decoder`` (programs: ``ops`` and
``tables``), ``head`` (or null) and ``output_frac``. An array is
``{"dtype": "<i2" | "<i4" | "<i8", "shape": [...], "offset": N}``, N counted
from the first byte after the JSON; arrays follow each other in the order
they are written, without gaps, and end the file. ``write`` uses the
narrowest type that holds each array, so writing the same model twice gives
the same bytes, and a file's sha256 names its model. ``read`` checks every
field before it builds anything, then ``IntegerModel.check``.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from vaezip.models.config import ModelConfigError, VAEConfig
from vaezip.models.integer.network import OUTPUT_FRAC, IntegerHead, IntegerModel
from vaezip.models.integer.program import KINDS, Op, Program, ProgramError, Table

MAGIC = b"VZNET\r\n\x1a"
VERSION = 1
_HEAD = struct.Struct("<8sHI")
_DTYPES = {"<i2": np.int16, "<i4": np.int32, "<i8": np.int64}
MAX_JSON = 1 << 24


class NetFileError(ValueError):
    """An integer model file that cannot be read."""


# -- writing ---------------------------------------------------------------------------
class _Writer:
    def __init__(self):
        self.blobs, self.size = [], 0

    def array(self, values) -> dict:
        a = np.asarray(values, dtype=np.int64)
        for name, dtype in _DTYPES.items():
            info = np.iinfo(dtype)
            if a.size == 0 or (a.min() >= info.min and a.max() <= info.max):
                break
        data = np.ascontiguousarray(a, dtype=np.dtype(name)).tobytes()
        entry = {"dtype": name, "shape": list(a.shape), "offset": self.size}
        self.blobs.append(data)
        self.size += len(data)
        return entry


def _op_dict(w: _Writer, op: Op) -> dict:
    out = {"kind": op.kind}
    if op.weight is not None:
        out.update(weight=w.array(op.weight), bias=w.array(op.bias), shift=w.array(op.shift), limit=int(op.limit))
        if op.kind != "linear":
            out.update(stride=int(op.stride), padding=int(op.padding))
    elif op.kind == "add":
        out["limit"] = int(op.limit)
    elif op.kind == "lut":
        out["table_of"] = w.array(op.table_of)
    elif op.kind == "unflatten":
        out["shape"] = [int(v) for v in op.shape]
    return out


def _program_dict(w: _Writer, program: Program) -> dict:
    ops = [_op_dict(w, op) for op in program.ops]
    tables = [{"low": int(t.low), "values": w.array(t.values), "slope_shift": int(t.slope_shift),
               "offset": int(t.offset)} for t in program.tables]
    return {"ops": ops, "tables": tables}


def dumps(model: IntegerModel) -> bytes:
    """The file's bytes (the same bytes for the same model); arrays in the order ``loads`` reads them."""
    w = _Writer()
    doc = {"config": model.config.to_dict(),
           "latent": {"frac": int(model.latent_frac), "table": w.array(model.latent_table)},
           "encoder": _program_dict(w, model.encoder), "decoder": _program_dict(w, model.decoder),
           "head": _head_dict(w, model.head), "output_frac": OUTPUT_FRAC}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return _HEAD.pack(MAGIC, VERSION, len(text)) + text + b"".join(w.blobs)


def _head_dict(w: _Writer, head: IntegerHead | None) -> dict | None:
    if head is None:
        return None
    return {"offsets": w.array(head.offsets), "conv": w.array(head.conv), "feature_shift": int(head.feature_shift),
            "layers": [_op_dict(w, op) for op in head.layers], "out": _op_dict(w, head.out)}


# -- reading ---------------------------------------------------------------------------
class _Reader:
    def __init__(self, blob: bytes):
        self.blob, self.end = blob, 0

    def array(self, entry, ndim: int | None = None) -> np.ndarray:
        if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
            raise NetFileError("an array entry without a known integer type")
        shape, offset = entry.get("shape"), entry.get("offset")
        if not isinstance(shape, list) or not all(isinstance(v, int) and 0 <= v < 1 << 31 for v in shape):
            raise NetFileError("an array with a bad shape")
        if ndim is not None and len(shape) != ndim:
            raise NetFileError(f"an array of {len(shape)} dimensions where {ndim} are needed")
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(entry["dtype"]).itemsize
        if offset != self.end or offset + size > len(self.blob):
            raise NetFileError("an array outside the file, or not where the previous one ends")
        self.end = offset + size
        data = np.frombuffer(self.blob, dtype=np.dtype(entry["dtype"]), count=size // np.dtype(entry["dtype"]).itemsize,
                             offset=offset)
        return data.astype(np.int64).reshape(shape)


def _int(doc: dict, key: str, lo: int, hi: int) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise NetFileError(f"field {key!r} must be an integer in {lo}..{hi}")
    return value


def _op(r: _Reader, doc) -> Op:
    if not isinstance(doc, dict) or doc.get("kind") not in KINDS:
        raise NetFileError("an operation of unknown kind")
    kind = doc["kind"]
    if kind in ("conv", "conv_transpose", "linear"):
        ndim = 2 if kind == "linear" else 4
        op = Op(kind, r.array(doc.get("weight"), ndim), r.array(doc.get("bias"), 1), r.array(doc.get("shift"), 1),
                _int(doc, "limit", 1, (1 << 31) - 1))
        if kind != "linear":
            op.stride, op.padding = _int(doc, "stride", 1, 64), _int(doc, "padding", 0, 64)
        return op
    if kind == "add":
        return Op(kind, limit=_int(doc, "limit", 1, (1 << 31) - 1))
    if kind == "lut":
        return Op(kind, table_of=r.array(doc.get("table_of"), 1))
    if kind == "unflatten":
        shape = doc.get("shape")
        if not isinstance(shape, list) or not shape or not all(isinstance(v, int) and 0 < v < 1 << 16 for v in shape):
            raise NetFileError("unflatten needs a shape of positive integers")
        return Op(kind, shape=tuple(shape))
    return Op(kind)


def _program(r: _Reader, doc) -> Program:
    if not isinstance(doc, dict) or not isinstance(doc.get("ops"), list) or not isinstance(doc.get("tables"), list):
        raise NetFileError("a program needs 'ops' and 'tables' lists")
    ops = [_op(r, op) for op in doc["ops"]]
    tables = []
    for t in doc["tables"]:
        if not isinstance(t, dict):
            raise NetFileError("a table must be an object")
        values = r.array(t.get("values"), 1)
        if len(values) == 0:
            raise NetFileError("an empty table")
        tables.append(Table(_int(t, "low", -(1 << 40), 1 << 40), values, _int(t, "slope_shift", 0, 30),
                            _int(t, "offset", -(1 << 40), 1 << 40)))
    return Program(ops, tables)


def _head(r: _Reader, doc) -> IntegerHead | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise NetFileError("the head must be an object with a 'layers' list")
    return IntegerHead(r.array(doc.get("offsets"), 2), r.array(doc.get("conv"), 2), _int(doc, "feature_shift", 0, 30),
                       [_op(r, op) for op in doc["layers"]], _op(r, doc.get("out")))


def loads(data: bytes) -> IntegerModel:
    """The model in ``data``; NetFileError (or ProgramError) for anything malformed or inexact."""
    if len(data) < _HEAD.size:
        raise NetFileError("not an integer model file: too short")
    magic, version, size = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise NetFileError("not an integer model file (bad magic)")
    if version != VERSION:
        raise NetFileError(f"integer model file version {version}; this vaezip reads version {VERSION}")
    if size > MAX_JSON or _HEAD.size + size > len(data):
        raise NetFileError("integer model file truncated")
    try:
        doc = json.loads(data[_HEAD.size:_HEAD.size + size])
        config = VAEConfig.from_dict(doc["config"])
    except (ValueError, KeyError, TypeError, ModelConfigError) as error:
        raise NetFileError(f"integer model file: bad description ({error})") from None
    reader = _Reader(data[_HEAD.size + size:])
    latent = doc.get("latent") if isinstance(doc.get("latent"), dict) else {}
    if doc.get("output_frac") != OUTPUT_FRAC:
        raise NetFileError(f"integer model file: output_frac must be {OUTPUT_FRAC}")
    table = reader.array(latent.get("table"), 1)
    encoder, decoder = _program(reader, doc.get("encoder")), _program(reader, doc.get("decoder"))
    model = IntegerModel(config, encoder, decoder, table, _int(latent, "frac", 0, 30), _head(reader, doc.get("head")))
    if reader.end != len(reader.blob):
        raise NetFileError("integer model file: bytes after the last array")
    model.check()
    return model


def read(path) -> IntegerModel:
    with open(path, "rb") as stream:
        return loads(stream.read())


__all__ = ["MAGIC", "VERSION", "NetFileError", "ProgramError", "dumps", "loads", "read"]
