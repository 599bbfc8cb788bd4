"""The flash bill: an int8 .tflite rewritten without what neither TFLM nor LiteRT reads.

The converter's flatbuffer carries a description, a signature def, metadata (min_runtime_version,
CONVERSION_METADATA), a long name for every tensor, an empty buffer for every non-constant tensor, empty
quantization tables on int32 tensors, and a fresh copy of every vector and table even where an equal
one is already written: on a 6k-parameter model that is more bytes than the weights. Operators, shapes,
weights, per-channel scales and zero points stay exactly as they were, so the outputs stay bit-identical
in LiteRT and TFLM (tests/test_shrink.py and benchmarks/bench_shrink.py check both).
"""

from __future__ import annotations

import copy

import flatbuffers
import numpy as np

from .runtimes import input_order


def _schema():
    from ai_edge_litert import schema_py_generated as schema  # flatbuffers and numpy only, not TF

    return schema


def _read(buf: bytes):
    schema = _schema()
    if not schema.Model.ModelBufferHasIdentifier(buf, 0):
        raise ValueError("not a TFLite flatbuffer (no TFL3 identifier)")
    return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))


# -- the steps, one category of bytes each; the model is valid after every one -----------------------


def _drop_metadata(m) -> None:
    # min_runtime_version and CONVERSION_METADATA are informational: of metadata TFLM reads only an
    # "OfflineMemoryAllocation" plan (which names buffers, so it is not ours to drop), LiteRT none of
    # these. Their buffers go with the unreferenced ones in _compact_buffers.
    if any(md.name == b"OfflineMemoryAllocation" for md in m.metadata or []):
        raise ValueError("the model plans its own memory (OfflineMemoryAllocation): not shrunk")
    m.metadata = m.metadataBuffer = None


def _drop_signature_defs(m) -> None:
    # signature runners are a LiteRT convenience; heartzoo and TFLM address tensors by position
    m.signatureDefs = None


def _drop_description(m) -> None:
    m.description = None


def _short_names(m) -> None:
    """No names, but the first subgraph's inputs keep the 'ecg' / 'rr' that io_specs reads them by."""
    for k, sg in enumerate(m.subgraphs):
        keep = {}
        if k == 0:
            ins = [{"name": (sg.tensors[i].name or b"").decode()} for i in sg.inputs]
            keep = dict(zip(sg.inputs.tolist(), input_order(ins), strict=True))
        sg.name = None
        for i, t in enumerate(sg.tensors):
            t.name = keep[i].encode() if i in keep else None


def _drop_empty_quantization(m) -> None:
    # a table with no scale and no zero point (on int32 shapes, axes) reads as "not quantized" in both
    fields = ("scale", "zeroPoint", "min", "max", "details")
    for sg in m.subgraphs:
        for t in sg.tensors:
            if t.quantization is not None and all(getattr(t.quantization, f) is None for f in fields):
                t.quantization = None


def _compact_buffers(m) -> None:
    """Buffer 0 is the schema's always-empty buffer: every tensor without data points at it, and only
    the buffers tensors read are kept."""
    schema = _schema()
    if any(b.offset or b.size for b in m.buffers):
        raise ValueError("buffers stored after the flatbuffer (> 2 GB models) are not supported")
    new, remap = [schema.BufferT()], {}
    for sg in m.subgraphs:
        for t in sg.tensors:
            data = m.buffers[t.buffer].data
            if data is None or len(data) == 0:
                t.buffer = 0
                continue
            if t.buffer not in remap:
                remap[t.buffer] = len(new)
                new.append(schema.BufferT(data=data))
            t.buffer = remap[t.buffer]
    m.buffers = new


STEPS = {
    "metadata": _drop_metadata,
    "signature_defs": _drop_signature_defs,
    "description": _drop_description,
    "tensor_names": _short_names,
    "empty_quantization": _drop_empty_quantization,
    "empty_and_unused_buffers": _compact_buffers,
}


# -- packing -------------------------------------------------------------------------------------------


def _key(x):
    """A hashable value equal for equal object-API tables, vectors and scalars."""
    if isinstance(x, _Shared):
        x = x.obj
    if isinstance(x, np.ndarray):
        return x.dtype.str, x.shape, x.tobytes()
    if isinstance(x, list | tuple):
        return tuple(_key(v) for v in x)
    if hasattr(x, "__dict__"):
        return type(x).__name__, tuple((k, _key(v)) for k, v in sorted(vars(x).items()))
    return x


class _Shared:
    """Stands in for a table: equal tables are written once, and every reference points at that one.
    A flatbuffer may point at one table or vector from many places; both runtimes only read it."""

    def __init__(self, obj):
        self.obj = obj

    def Pack(self, builder):  # the object API's name: the generated Pack methods call it
        return builder.once(_key(self.obj), lambda: self.obj.Pack(builder))


class _Buffer:
    """Packs like schema.BufferT, with the data aligned to `align` bytes in the file."""

    def __init__(self, data, align: int):
        self.data, self.align = None if data is None else np.asarray(data, np.uint8).tobytes(), align

    def Pack(self, builder):
        schema, vec = _schema(), None
        if self.data:
            builder.StartVector(1, len(self.data), self.align)
            builder.head -= len(self.data)
            builder.Bytes[builder.head : builder.head + len(self.data)] = self.data
            vec = builder.EndVector()
        schema.BufferStart(builder)
        if vec is not None:
            schema.BufferAddData(builder, vec)
        return schema.BufferEnd(builder)


class _Builder(flatbuffers.Builder):
    """A builder that writes each distinct vector (and, through `_Shared`, table) once."""

    def __init__(self, share: bool):
        super().__init__(1 << 16)
        self.share, self.memo = share, {}

    def once(self, key, make):
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def CreateNumpyVector(self, x):  # every shape, scale, zero-point and index vector comes here
        if not self.share:
            return super().CreateNumpyVector(x)
        return self.once(
            ("vector", x.dtype.str, x.tobytes()), lambda: super(_Builder, self).CreateNumpyVector(x)
        )


def _pack(model, *, share: bool, align: int) -> bytes:
    m = copy.deepcopy(model)
    m.buffers = [_Buffer(b.data, align) for b in m.buffers or []]
    if share:
        for sg in m.subgraphs:
            for t in sg.tensors:
                t.quantization = None if t.quantization is None else _Shared(t.quantization)
            for op in sg.operators:
                op.builtinOptions = None if op.builtinOptions is None else _Shared(op.builtinOptions)
            # tensors are told apart by their index, never by their table
            sg.tensors = [_Shared(t) for t in sg.tensors]
    builder = _Builder(share)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def shrink_tflite(buf: bytes, *, align: int = 4) -> bytes:
    """The same int8 model in far fewer bytes, run bit-identically by TFLM and LiteRT; shrinking it again
    gives the same bytes. `align`: of weight and bias data in the file, 4 as the converter writes it
    (int32 biases); the schema's force_align of 16 costs ~5 bytes per constant tensor (192 B on the
    beat-3 student)."""
    m = _read(buf)
    for step in STEPS.values():
        step(m)
    return _pack(m, share=True, align=align)


def shrink_report(buf: bytes, *, align: int = 4) -> dict[str, int]:
    """Bytes each step of `shrink_tflite` removes, in order, with the sizes before and after ('repack':
    what packing alone changes, alignment included)."""
    m = _read(buf)
    sizes = {"repack": len(_pack(m, share=False, align=align))}
    for name, step in STEPS.items():
        step(m)
        sizes[name] = len(_pack(m, share=False, align=align))
    sizes["shared_vectors_and_tables"] = len(_pack(m, share=True, align=align))
    report, last = {"original_bytes": len(buf)}, len(buf)
    for name, n in sizes.items():
        report[name], last = last - n, n
    return {**report, "shrunk_bytes": last}
