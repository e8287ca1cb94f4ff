"""dfpar's Python worker: runs a user function over the chunks that dfpar sends.

Started by dfpar, once per `--jobs` slot, as

    python3 -c <this source> --py SPEC [--by row|frame] [--arg KEY=VALUE]...
                             [--as NAME,NAME...] [--col NAME]... [--frame-nulls float|Int64]
                             [--frame-output auto|append|table]

and reused for every chunk. The protocol (PROTOCOL.md) runs over the process's original
fd 0 (requests) and fd 1 (responses); both are moved to private descriptors at start-up,
fd 0 is reopened on /dev/null and fd 1 is pointed at stderr, so neither `print()` nor
`input()` nor a child process of the user's code can touch the protocol stream.

Row mode needs the standard library only; pandas and numpy are imported in frame mode.
"""

import argparse
import ast
import functools
import importlib
import importlib.machinery
import importlib.util
import inspect
import itertools
import operator
import os
import signal
import struct
import sys
import traceback

PROTOCOL_VERSION = 1

# Message tags (4 ASCII bytes at the start of every header).
TAG_HELLO = b"HELO"  # runner -> dfpar: ready, after loading the function
TAG_FAIL = b"FAIL"  # runner -> dfpar: cannot start (then the runner exits 2)
TAG_CHUNK = b"CHNK"  # dfpar -> runner: a chunk of columns
TAG_RESULT = b"RSLT"  # runner -> dfpar: the chunk's result columns
TAG_ERROR = b"ERRR"  # runner -> dfpar: the function failed on the chunk
TAG_QUIT = b"QUIT"  # dfpar -> runner: exit now (closing stdin does the same)

HEADER = struct.Struct("<4sIQ")  # tag, sequence number, body length
CHUNK_HEAD = struct.Struct("<QII")  # rows, columns, flags
COL_DESC = struct.Struct("<BB6x")  # type, has_mask
RESULT_HEAD = struct.Struct("<QII")  # rows, columns, flags
RES_COL = struct.Struct("<BBHI")  # type, has_mask, reserved, name length
U32 = struct.Struct("<I")
I64_U32 = struct.Struct("<qI")

# Column type tags, requests and responses alike.
T_NULL, T_I64, T_F64, T_BOOL, T_STR = 0, 1, 2, 3, 4

# RSLT flags.
F_REPLACE = 1  # the result is a table of its own, not columns to append to the records

# FAIL kinds (start-up) and ERRR kinds (per chunk).
FAIL_USAGE, FAIL_IMPORT, FAIL_MISSING, FAIL_SIGNATURE, FAIL_NO_PANDAS = 1, 2, 3, 4, 5
ERR_RAISED, ERR_RESULT, ERR_REQUEST = 1, 2, 3

TRACEBACK_FRAMES = 8  # the last frames kept in a reported traceback


class Failure(Exception):
    """A start-up failure, reported in the FAIL message."""

    def __init__(self, kind, message, trace=""):
        super().__init__(message)
        self.kind, self.message, self.trace = kind, message, trace


class ChunkError(Exception):
    """A chunk that cannot be processed, reported in the ERRR message."""

    def __init__(self, kind, row, message, exc_type="", trace=""):
        super().__init__(message)
        self.kind, self.row, self.message = kind, row, message
        self.exc_type, self.trace = exc_type, trace


# ----------------------------------------------------------------------------------------
# Transport


class Channel:
    """Framed messages over two private descriptors."""

    def __init__(self, fd_in, fd_out):
        self.inp = os.fdopen(fd_in, "rb", buffering=0)
        self.out = os.fdopen(fd_out, "wb", buffering=1 << 16)
        self.buf = bytearray()

    def _read_into(self, view):
        """Fills `view`; returns False on EOF before its first byte."""
        got, want = 0, len(view)
        while got < want:
            n = self.inp.readinto(view[got:])
            if not n:
                if got == 0:
                    return False
                raise EOFError("truncated message: %d of %d bytes" % (got, want))
            got += n
        return True

    def receive(self):
        """The next (tag, seq, body) or None at EOF. The body is a memoryview of a buffer
        that is reused while nothing else holds a view of it (frame mode's DataFrames are
        views of it: one that the user keeps makes the next message take a new buffer)."""
        head = bytearray(HEADER.size)
        if not self._read_into(memoryview(head)):
            return None
        tag, seq, size = HEADER.unpack(head)
        if len(self.buf) < size or exported(self.buf):
            self.buf = bytearray(size)
        body = memoryview(self.buf)[:size]
        if size and not self._read_into(body):
            raise EOFError("truncated message: no body")
        return tag, seq, body

    def send(self, tag, seq, parts):
        size = sum(map(len, parts))
        self.out.write(HEADER.pack(tag, seq, size))
        for part in parts:
            self.out.write(part)
        self.out.flush()


def exported(buf):
    """True while a memoryview or numpy array still refers to the bytearray `buf`
    (a bytearray with exports refuses to change size)."""
    if not buf:
        return False
    try:
        last = buf.pop()  # pop, then append, stay within the allocation
    except BufferError:
        return True
    buf.append(last)
    return False


def take_protocol_fds():
    """Moves the protocol off fds 0 and 1, so user code cannot read or write it."""
    fd_in, fd_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # C-level writes to fd 1 (extensions, child processes) go to stderr
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    for fd in (fd_in, fd_out):
        os.set_inheritable(fd, False)
    return fd_in, fd_out


def pack_str(s):
    b = s.encode("utf-8", "replace")
    return U32.pack(len(b)) + b


def pad8(n):
    return b"\0" * (-n % 8)


# ----------------------------------------------------------------------------------------
# Start-up: options, the function, its keyword arguments


def parse_options(argv):
    p = argparse.ArgumentParser(prog="dfpar-python-runner", add_help=False)
    p.add_argument("--py", required=True)
    p.add_argument("--by", choices=("row", "frame"), default="row")
    p.add_argument("--arg", action="append", default=[])
    p.add_argument("--as", dest="names", default=None)
    p.add_argument("--col", action="append", default=[])
    p.add_argument("--frame-nulls", choices=("float", "Int64"), default="float")
    p.add_argument("--frame-output", choices=("auto", "append", "table"), default="auto")
    try:
        opts = p.parse_args(argv)
    except SystemExit:
        raise Failure(FAIL_USAGE, "bad runner arguments: %r" % (argv,))
    opts.kwargs = parse_kwargs(opts.arg)
    opts.names = opts.names.split(",") if opts.names else None
    return opts


def literal(text):
    """A --arg value: a Python literal if it is one (4, 4.5, True, None, 'x', [1, 2]),
    else the text itself as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_kwargs(pairs):
    kwargs = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise Failure(FAIL_USAGE, "--arg %r: expected KEY=VALUE with KEY a Python name" % pair)
        kwargs[key] = literal(value)
    return kwargs


def load_function(spec):
    """`path/to/file.py:name` or `module:name` (name may be dotted: `mod:Class.method`)."""
    target, colon, name = spec.rpartition(":")
    if not colon or not target or not name:
        raise Failure(FAIL_USAGE, "--py %r: expected FILE.py:FUNCTION or MODULE:FUNCTION" % spec)
    module = import_target(target)
    obj = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise Failure(FAIL_MISSING, "%s has no function %r" % (target, name))
    if not callable(obj):
        raise Failure(FAIL_MISSING, "%s:%s is not callable (it is %s)" % (target, name, type(obj).__name__))
    return obj


def import_target(target):
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        if target.endswith(".py") or os.sep in target or os.path.isfile(target):
            return import_file(target)
        return importlib.import_module(target)
    except Failure:
        raise
    except BaseException as e:  # SyntaxError, ImportError, anything the module raises, exit()
        raise Failure(FAIL_IMPORT, "cannot import %s: %s" % (target, describe(e)), user_trace(e))


def import_file(path):
    if not os.path.isfile(path):
        raise Failure(FAIL_IMPORT, "cannot import %s: no such file" % path)
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.isidentifier() or name in sys.modules:  # never shadow a loaded module
        name = "dfpar_user_" + "".join(c if c.isalnum() else "_" for c in name)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # its sibling modules
    loader = importlib.machinery.SourceFileLoader(name, path)  # any file name
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    sys.modules[name] = module  # pickling, dataclasses and typing look it up there
    loader.exec_module(module)
    return module


def check_signature(f, kwargs, what):
    """Fails at start-up, not on the first row, when f cannot take (first, **kwargs).
    Returns the BoundArguments, or None when the signature cannot be read (builtins)."""
    try:
        sig = inspect.signature(f)
    except (ValueError, TypeError):
        return None
    try:
        return sig.bind(what, **kwargs)
    except TypeError as e:
        name = getattr(f, "__name__", "function")
        call = ", ".join([what] + ["%s=%r" % kv for kv in kwargs.items()])
        hint = " (give it with --arg NAME=VALUE)" if "missing" in str(e) else ""
        raise Failure(FAIL_SIGNATURE, "%s%s cannot be called as %s(%s): %s%s" % (name, sig, name, call, e, hint))


def bind_call(f, kwargs, bound):
    """A one-argument callable equivalent to `lambda row: f(row, **kwargs)`, plus the
    extra positional values to feed beside the rows through `map(g, rows, *repeats)`.

    Keyword arguments cost a dict merge per call through functools.partial; those that
    the signature lets pass by position are fed as `itertools.repeat` iterables instead,
    which `map` passes at C speed. The binding is inspect's own, so the call is the same.
    """
    if bound is None:
        return (functools.partial(f, **kwargs) if kwargs else f), ()
    extra_pos, extra_kw = bound.args[1:], bound.kwargs
    g = functools.partial(f, **extra_kw) if extra_kw else f
    return g, tuple(itertools.repeat(v) for v in extra_pos)


# ----------------------------------------------------------------------------------------
# Errors


def describe(e):
    msg = str(e)
    return "%s: %s" % (type(e).__name__, msg) if msg else type(e).__name__


RUNNER_FILES = {"<string>", globals().get("__file__", "<string>")}  # -c, or a file


def user_trace(e):
    """The traceback's last frames, without the runner's own leading frames nor those of
    the import machinery."""
    tb = e.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename in RUNNER_FILES
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb, limit=-TRACEBACK_FRAMES))


def error_parts(err):
    return [I64_U32.pack(err.row, err.kind), pack_str(err.exc_type), pack_str(err.message), pack_str(err.trace)]


# ----------------------------------------------------------------------------------------
# Requests: columns in


def parse_chunk(body):
    """(rows, [(type, values_view, mask_view or None)]) from a CHNK body."""
    try:
        return parse_layout(body)
    except struct.error as e:
        raise ChunkError(ERR_REQUEST, -1, "malformed request: %s" % e)


def parse_layout(body):
    rows, ncols, _flags = CHUNK_HEAD.unpack_from(body, 0)
    pos = CHUNK_HEAD.size
    descs = [COL_DESC.unpack_from(body, pos + 8 * i) for i in range(ncols)]
    pos += 8 * ncols
    cols = []
    for typ, _ in descs:
        if typ not in (T_I64, T_F64):
            raise ChunkError(ERR_REQUEST, -1, "bad column type tag %d in request" % typ)
        cols.append([typ, body[pos:pos + 8 * rows], None])
        pos += 8 * rows
    for col, (_, has_mask) in zip(cols, descs):
        if has_mask:
            col[2] = body[pos:pos + rows]
            pos += rows
    if pos != len(body):
        raise ChunkError(ERR_REQUEST, -1, "request body is %d bytes, layout says %d" % (len(body), pos))
    return rows, cols


def column_values(typ, values, mask):
    """A column as a sequence of int or float, None where the mask says null: a tuple
    from struct.unpack (the fastest, measured), a list when there are nulls to set."""
    rows = len(values) // 8
    out = struct.unpack("<%d%s" % (rows, "q" if typ == T_I64 else "d"), values)
    if mask is None:
        return out
    out = list(out)
    mask = bytes(mask)
    if mask.count(1) < rows // 16:  # sparse: jump from null to null at memchr speed
        i = mask.find(1)
        while i >= 0:
            out[i] = None
            i = mask.find(1, i + 1)
    else:
        for i in itertools.compress(range(rows), mask):
            out[i] = None
    return out


# ----------------------------------------------------------------------------------------
# Results: columns out


PLAIN = frozenset((int, float, bool, str, type(None)))
NONE = type(None)


def encode_values(values, rows):
    """One result column from Python values: (type, mask bytes or None, [data parts]).

    int -> i64 (an int out of int64's range makes the column str: the same digits in CSV);
    int and float -> f64; bool -> bool; str -> str; None -> null (all None: a null column);
    numpy scalars through .item(); any other type, or any other mix -> str(value)."""
    kinds = set(map(type, values))
    if not kinds <= PLAIN:
        values = list(map(normalize, values))
        kinds = set(map(type, values))
    mask = None
    if NONE in kinds:
        kinds.discard(NONE)
        if not kinds:
            return T_NULL, None, []
        mask = bytes(map(operator.is_, values, itertools.repeat(None)))
        if kinds <= {int, float, bool}:
            values = [0 if v is None else v for v in values]
    if kinds == {int}:
        try:
            return T_I64, mask, [struct.pack("<%dq" % rows, *values)]
        except struct.error:
            pass  # out of int64's range: falls through to str
    elif kinds == {float} or kinds == {int, float}:
        return T_F64, mask, [struct.pack("<%dd" % rows, *values)]
    elif kinds == {bool}:
        return T_BOOL, mask, [bytes(values), pad8(rows)]
    return T_STR, mask, encode_strings(values, mask)


def normalize(v):
    """int, float, bool, str or None for any value: numpy scalars through .item(),
    subclasses of int/float/str to the base type, anything else through str()."""
    if type(v) in PLAIN:
        return v
    if hasattr(v, "dtype") and hasattr(v, "item"):  # numpy scalar
        try:
            v = v.item()
        except Exception:
            return str(v)
        if type(v) in PLAIN:
            return v
    for base in (bool, int, float, str):
        if isinstance(v, base):
            return base(v)
    return str(v)


def encode_strings(values, mask):
    """Offsets (rows + 1 little-endian i64, the first 0) then the UTF-8 bytes, padded to 8.
    Non-str values go through str(); nulls (mask) are empty strings."""
    if mask is not None:
        values = ["" if v is None else v for v in values]
    if set(map(type, values)) != {str}:
        values = [v if type(v) is str else str(v) for v in values]
    data = [v.encode("utf-8", "backslashreplace") for v in values]  # valid UTF-8, always
    offsets = struct.pack("<%dq" % (len(data) + 1), *itertools.accumulate(map(len, data), initial=0))
    blob = b"".join(data)
    return [offsets, blob, pad8(len(blob))]


def result_parts(rows, columns, flags=0):
    """RSLT body from [(name, (type, mask, data parts))]."""
    parts = [RESULT_HEAD.pack(rows, len(columns), flags)]
    for name, (typ, mask, data) in columns:
        raw = name.encode("utf-8", "backslashreplace")
        parts += [RES_COL.pack(typ, mask is not None, 0, len(raw)), raw, pad8(len(raw))]
        if mask is not None:
            parts += [mask, pad8(rows)]
        parts += data
    return parts


# ----------------------------------------------------------------------------------------
# Row mode


MULTI = (tuple, list, dict)  # result types that make several columns


class RowMode:
    def __init__(self, f, kwargs, names, fname):
        self.f, self.names, self.fname = f, names, fname
        bound = check_signature(f, kwargs, "row")
        self.call, self.repeats = bind_call(f, kwargs, bound)

    def run(self, body):
        rows, cols = parse_chunk(body)
        if rows and not cols:  # zip() would make no rows at all
            raise ChunkError(ERR_REQUEST, -1, "a chunk of %d rows without columns" % rows)
        columns = [column_values(t, v, m) for t, v, m in cols]
        results = []
        try:
            # extend() keeps what map() produced before an exception: the failing row
            # is len(results). The tuples come from zip(), which reuses them when f
            # keeps no reference.
            results.extend(map(self.call, zip(*columns), *self.repeats))
        except BaseException as e:
            raise ChunkError(ERR_RAISED, len(results), describe(e), type(e).__name__, user_trace(e))
        return result_parts(rows, self.encode(results, rows))

    def encode(self, results, rows):
        if not results:
            return [(n, (T_NULL, None, [])) for n in (self.names or [])]
        first = results[0]
        if isinstance(first, (tuple, list)):
            cols = self.split_tuples(results)
        elif isinstance(first, dict):
            cols = self.split_dicts(results)
        else:
            if any(issubclass(k, MULTI) for k in set(map(type, results))):
                self.check_uniform(results, MULTI, False)
            cols = [results]
        names = self.column_names(len(cols), results[0])
        return [(n, encode_values(c, rows)) for n, c in zip(names, cols)]

    def check_uniform(self, results, types, inside):
        """Every result a tuple/list (inside) or none (not inside): else the first bad row."""
        for i, r in enumerate(results):
            if isinstance(r, types) != inside:
                raise ChunkError(ERR_RESULT, i, "row %d returned %s, row 0 returned %s"
                                 % (i, type(r).__name__, type(results[0]).__name__))

    def split_tuples(self, results):
        if any(not issubclass(k, (tuple, list)) for k in set(map(type, results))):
            self.check_uniform(results, (tuple, list), True)
        widths = set(map(len, results))
        if len(widths) != 1:
            n = len(results[0])
            i = next(i for i, r in enumerate(results) if len(r) != n)
            raise ChunkError(ERR_RESULT, i, "row %d returned %d values, row 0 returned %d" % (i, len(results[i]), n))
        # one pass per column: zip(*results) would make an iterator per row
        return [list(map(operator.itemgetter(k), results)) for k in range(widths.pop())]

    def split_dicts(self, results):
        if any(not issubclass(k, dict) for k in set(map(type, results))):
            self.check_uniform(results, dict, True)
        keys = self.names or list(results[0])
        if not self.names:  # the first row's keys: a row with another key is an error
            known = set(keys)
            if not set().union(*map(dict.keys, results)) <= known:
                i = next(i for i, r in enumerate(results) if not r.keys() <= known)
                raise ChunkError(ERR_RESULT, i, "row %d returned keys %s that row 0 did not (use --as to pick keys)"
                                 % (i, ", ".join(sorted(map(str, results[i].keys() - known)))))
        return [list(map(operator.methodcaller("get", k), results)) for k in keys]

    def column_names(self, n, first):
        if isinstance(first, dict):
            return [str(k) for k in (self.names or first)]
        if self.names:
            if len(self.names) != n:
                raise ChunkError(ERR_RESULT, 0, "--as names %d columns, the function returned %d" % (len(self.names), n))
            return self.names
        if hasattr(first, "_fields") and len(first._fields) == n:  # a namedtuple: its field names
            return list(map(str, first._fields))
        if isinstance(first, (tuple, list)):
            return ["%s_%d" % (self.fname, i) for i in range(n)]
        return [self.fname]


# ----------------------------------------------------------------------------------------
# Frame mode


def import_pandas():
    try:
        import numpy
        import pandas
    except ImportError as e:
        raise Failure(FAIL_NO_PANDAS, "--by frame needs pandas and numpy (%s); install them "
                      "(pip install pandas) or use --by row, which needs only Python" % describe(e))
    return numpy, pandas


class FrameMode:
    def __init__(self, f, kwargs, names, fname, col_names, nulls, output="auto"):
        self.np, self.pd = import_pandas()
        check_signature(f, kwargs, "frame")
        self.call = functools.partial(f, **kwargs) if kwargs else f
        self.names, self.fname, self.col_names, self.nulls = names, fname, col_names, nulls
        self.output = output  # auto: append when the height is the chunk's; append; table

    def frame(self, body):
        np, pd = self.np, self.pd
        rows, cols = parse_chunk(body)
        names = self.col_names or ["c%d" % i for i in range(len(cols))]
        if len(names) != len(cols):
            raise ChunkError(ERR_REQUEST, -1, "%d column names for %d columns" % (len(names), len(cols)))
        data = {}
        for name, (typ, values, mask) in zip(names, cols):
            arr = np.frombuffer(values, dtype="<i8" if typ == T_I64 else "<f8")  # no copy
            if mask is not None:
                isnull = np.frombuffer(mask, dtype=np.bool_)
                if typ == T_I64 and self.nulls == "Int64":
                    arr = pd.arrays.IntegerArray(arr, isnull.copy())
                else:
                    arr = arr.astype(np.float64)  # as pd.read_csv: an int column with nulls is float
                    arr[isnull] = np.nan
            data[name] = arr
        return rows, pd.DataFrame(data, copy=False)

    def run(self, body):
        rows, df = self.frame(body)
        try:
            out = self.call(df)
        except BaseException as e:
            raise ChunkError(ERR_RAISED, -1, describe(e), type(e).__name__, user_trace(e))
        pd = self.pd
        if isinstance(out, pd.Series):
            name = out.name if out.name is not None else (self.names[0] if self.names else self.fname)
            out = out.to_frame(name=name)
        if not isinstance(out, pd.DataFrame):
            raise ChunkError(ERR_RESULT, -1, "a --by frame function must return a DataFrame or a Series, "
                             "not %s" % type(out).__name__)
        if self.names and len(self.names) == out.shape[1]:
            labels = self.names
        else:
            labels = [str(c) for c in out.columns]
        height = len(out)
        if self.output == "append" and height != rows:
            raise ChunkError(ERR_RESULT, -1, "--frame-output append: the function returned %d rows for a chunk "
                             "of %d" % (height, rows))
        table = self.output == "table" or (self.output == "auto" and height != rows)
        flags = F_REPLACE if table else 0
        cols = [(label, self.encode_series(out.iloc[:, i], height)) for i, label in enumerate(labels)]
        return result_parts(height, cols, flags)

    def encode_series(self, s, rows):
        """A pandas column: numeric dtypes straight from numpy; NaN, NA and NaT -> null."""
        np, pd = self.np, self.pd
        dt, arr = s.dtype, s.array
        if isinstance(dt, np.dtype) and dt.kind == "b":
            return T_BOOL, None, [s.to_numpy().astype(np.uint8).tobytes(), pad8(rows)]
        if isinstance(dt, np.dtype) and dt.kind in "iu" and not (dt.kind == "u" and dt.itemsize == 8):
            return T_I64, None, [s.to_numpy().astype("<i8", copy=False).tobytes()]
        if isinstance(dt, np.dtype) and dt.kind == "f":
            vals = s.to_numpy().astype("<f8", copy=False)
            isnull = np.isnan(vals)
            if isnull.any():
                return T_F64, isnull.astype(np.uint8).tobytes(), [np.where(isnull, 0.0, vals).tobytes()]
            return T_F64, None, [vals.tobytes()]
        masked = {pd.arrays.IntegerArray: (T_I64, "<i8", 0), pd.arrays.FloatingArray: (T_F64, "<f8", 0.0),
                  pd.arrays.BooleanArray: (T_BOOL, np.uint8, 0)}.get(type(arr))
        if masked and dt.name != "UInt64":  # pandas' nullable Int64, Float64, boolean
            typ, dtype, fill = masked
            isnull = np.asarray(arr.isna())
            vals = arr.to_numpy(dtype=dtype, na_value=fill).tobytes()
            mask = isnull.astype(np.uint8).tobytes() if isnull.any() else None
            return typ, mask, [vals] + ([pad8(rows)] if typ == T_BOOL else [])
        # object, str, category, datetime, uint64...: value by value
        values = s.astype(object).where(s.notna(), None).tolist()
        return encode_values(values, rows)


# ----------------------------------------------------------------------------------------
# Main loop


def serve(chan, mode):
    """Answers CHNK messages until QUIT or EOF."""
    while True:
        msg = chan.receive()
        if msg is None:
            return 0
        tag, seq, body = msg
        if tag == TAG_QUIT:
            return 0
        if tag != TAG_CHUNK:
            sys.stderr.write("dfpar python runner: unexpected message %r; exiting\n" % (bytes(tag),))
            return 3
        try:
            parts = mode.run(body)
            chan.send(TAG_RESULT, seq, parts)
        except ChunkError as err:
            chan.send(TAG_ERROR, seq, error_parts(err))
        except Exception as e:  # the result cannot be encoded (or a bug here): say so, live on
            err = ChunkError(ERR_RESULT, -1, "cannot encode the result: %s" % describe(e), type(e).__name__,
                             "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-TRACEBACK_FRAMES)))
            chan.send(TAG_ERROR, seq, error_parts(err))
        del body, msg


def hello_parts(opts, f):
    name = getattr(f, "__qualname__", getattr(f, "__name__", opts.py))
    try:
        sig = str(inspect.signature(f))
    except (ValueError, TypeError):
        sig = "(...)"
    call = "%s%s with %s" % (name, sig, ", ".join("%s=%r" % kv for kv in opts.kwargs.items()) or "no arguments")
    return [struct.pack("<II", PROTOCOL_VERSION, os.getpid()), pack_str(sys.version.split()[0]), pack_str(call)]


def start(opts):
    if opts.by == "frame":
        import_pandas()  # before the user's module, which may import pandas itself
    f = load_function(opts.py)
    fname = opts.py.rpartition(":")[2].rpartition(".")[2]
    if opts.by == "row":
        return f, RowMode(f, opts.kwargs, opts.names, fname)
    return f, FrameMode(f, opts.kwargs, opts.names, fname, opts.col, opts.frame_nulls, opts.frame_output)


def main(argv):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # dfpar handles Ctrl-C and closes our stdin
    chan = Channel(*take_protocol_fds())
    try:
        opts = parse_options(argv)
        f, mode = start(opts)
    except Failure as fail:
        chan.send(TAG_FAIL, 0, [U32.pack(fail.kind), pack_str(fail.message), pack_str(fail.trace)])
        return 2
    chan.send(TAG_HELLO, 0, hello_parts(opts, f))
    try:
        return serve(chan, mode)
    except EOFError as e:
        sys.stderr.write("dfpar python runner: %s; exiting\n" % e)
        return 3
    except BrokenPipeError:
        return 0  # dfpar went away while we answered: nothing left to tell


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.exit(code)
