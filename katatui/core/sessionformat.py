"""The compact encodings of a session file (schema 2): blocks of samples, and raw tool output.

**Samples** are stored in blocks of consecutive samples (what arrived between two commits),
column by column: sequence numbers, runs, clients, times, metric values, and each interval
latency histogram as its bucket values' differences and its counts, all as fixed-width arrays
whose bytes are grouped by significance (so that zstd finds the many zero high bytes) and
compressed together. Decoding is array work in C, not a loop per bucket.

**Raw output** is kept byte for byte as one zstd stream per (run, client, stream) whose window
spans several of fio's similar status objects. Before compression the stream is cut into objects
and each is written against the previous one: its text without the numbers only where it differs,
and each number as its difference from the number at the same place (see :class:`RawEncoder`), so
that fio's cumulative counters and histogram bins cost a byte or two each instead of their digits.
The work is done on whole strings in C, not number by number. The transform is exact on any bytes.
Streams of the first encoding (:class:`RawEncoderV1`, a loop per number) are still decoded.
"""

from __future__ import annotations

import json
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, compress, repeat
from operator import add, sub
from typing import Any

import zstandard

SAMPLE_LEVEL = 3
RAW_LEVEL = 9
RAW_WINDOW_LOG = 19  # 512 KiB: several of fio's status objects (15-75 KB each)

_Q = array("Q")
_Q_SIZE = _Q.itemsize


class FormatError(ValueError):
    """Bytes that are not what the encoder writes."""


def crc(*parts: bytes) -> int:
    """The checksum stored beside each block (CRC-32, as zlib computes it)."""
    value = 0
    for p in parts:
        value = zlib.crc32(p, value)
    return value


def _shuffle(data: bytes, width: int) -> bytes:
    """The bytes of fixed-width numbers grouped by position: all first bytes, then all second..."""
    if width == 1 or not data:
        return data
    return b"".join(data[i::width] for i in range(width))


def _unshuffle(data: bytes, width: int) -> bytes:
    if width == 1 or not data:
        return data
    n = len(data) // width
    out = bytearray(len(data))
    for i in range(width):
        out[i::width] = data[i * n : (i + 1) * n]
    return bytes(out)


def _array(code: str, data: bytes) -> array[Any]:
    a = array(code)
    if len(data) % a.itemsize:
        raise FormatError("a column's length is not a whole number of values")
    a.frombytes(data)
    return a


# --- samples ---------------------------------------------------------------------------------------

SampleRow = tuple[int, str, float, Mapping[str, float], int, Mapping[str, Mapping[int, int]], float]
"""(seq, run_id, t, metrics, client, hist, at): one Sample and its place in the session's order."""


def encode_samples(rows: Sequence[SampleRow]) -> bytes:
    """A block of samples, compressed (see the module's docstring)."""
    runs: dict[str, int] = {}
    keysets: dict[tuple[str, ...], int] = {}
    names: dict[str, int] = {}
    seq, run, client, keyset, nhist = array("q"), array("I"), array("I"), array("I"), array("I")
    times, values = array("d"), array("d")
    hname = array("I")
    counts = array("Q")
    hists: list[tuple[int, list[int]]] = []
    union: list[set[int]] = []
    for s, run_id, t, metrics, cl, hist, at in rows:
        seq.append(s)
        run.append(runs.setdefault(run_id, len(runs)))
        client.append(cl)
        ks = tuple(metrics)
        keyset.append(keysets.setdefault(ks, len(keysets)))
        times.append(t)
        times.append(at)
        values.extend(float(v) for v in metrics.values())
        nhist.append(len(hist))
        for name, bins in hist.items():
            h = names.setdefault(name, len(names))
            if h == len(union):
                union.append(set())
            hname.append(h)
            buckets = sorted(int(b) for b in bins)
            union[h].update(buckets)
            hists.append((h, buckets))
            counts.extend(int(bins[b]) for b in buckets)
    # each histogram's buckets: one byte (0 or 1) per bucket of every histogram of its name in the block
    keys = array("Q")
    masks = bytearray()
    sorted_union = [sorted(u) for u in union]
    for u in sorted_union:
        keys.extend(b - a for a, b in zip([0, *u], u, strict=False))
    where = [{b: i for i, b in enumerate(u)} for u in sorted_union]
    for h, buckets in hists:
        mask = bytearray(len(sorted_union[h]))
        w = where[h]
        for b in buckets:
            mask[w[b]] = 1
        masks += mask
    header = json.dumps(
        {"runs": list(runs), "keysets": [list(k) for k in keysets], "hists": list(names),
         "buckets": [len(u) for u in sorted_union]},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    columns: list[tuple[array[Any], int]] = [
        (seq, 8), (run, 4), (client, 4), (keyset, 4), (nhist, 4), (times, 8), (values, 8),
        (hname, 4), (keys, 8), (counts, 8),
    ]  # fmt: skip
    body = [*(_shuffle(a.tobytes(), w) for a, w in columns), bytes(masks)]
    lengths = array("Q", [len(header), *(len(b) for b in body)])
    plain = lengths.tobytes() + header + b"".join(body)
    return zstandard.ZstdCompressor(level=SAMPLE_LEVEL).compress(plain)


_CODES = ("q", "I", "I", "I", "I", "d", "d", "I", "Q", "Q", "B")
_COLUMNS = len(_CODES)
_ZSTD = zstandard.ZstdDecompressor()


def decode_samples(blob: bytes) -> Iterator[SampleRow]:
    """The samples of a block, in order. Damage is ``FormatError``."""
    try:
        plain = _ZSTD.decompress(blob)
    except zstandard.ZstdError as exc:
        raise FormatError(f"a block of samples does not decompress ({exc})") from None
    head = (_COLUMNS + 1) * _Q_SIZE
    lengths = _array("Q", plain[:head])
    if len(lengths) != _COLUMNS + 1 or sum(lengths) + head != len(plain):
        raise FormatError("a block of samples has columns of the wrong length")
    pos = head + lengths[0]
    try:
        header = json.loads(plain[head:pos])
        run_ids: list[str] = header["runs"]
        keysets: list[list[str]] = header["keysets"]
        hnames: list[str] = header["hists"]
        nbuckets: list[int] = header["buckets"]
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"a block of samples has a damaged header ({exc})") from None
    cols: list[bytes] = []
    for n in lengths[1:]:
        cols.append(plain[pos : pos + n])
        pos += n
    masks = cols.pop()
    seq, run, client, keyset, nhist, times, values, hname = (
        _array(code, _unshuffle(c, array(code).itemsize)) for code, c in zip(_CODES, cols[:8], strict=False)
    )
    n = len(seq)
    if not (len(run) == len(client) == len(keyset) == len(nhist) == n and len(times) == 2 * n):
        raise FormatError("a block of samples has columns of different lengths")
    if sum(nhist) != len(hname) or len(hnames) != len(nbuckets) or (hname and max(hname) >= len(hnames)):
        raise FormatError("a block of samples has histograms of the wrong length")
    if sum(nbuckets[h] for h in hname) != len(masks) or lengths[-3] != 8 * sum(nbuckets):
        raise FormatError("a block of samples has histograms of the wrong length")
    if (keyset and max(keyset) >= len(keysets)) or (run and max(run) >= len(run_ids)):
        raise FormatError("a block of samples names a run or metrics it does not have")
    if sum(len(keysets[k]) for k in keyset) != len(values):
        raise FormatError("a block of samples has metric values left over")
    block = _Block(hnames, nbuckets, hname, masks, cols[8], cols[9])
    vals = values.tolist()
    vpos = hpos = 0
    for i in range(n):
        ks = keysets[keyset[i]]
        nv = len(ks)
        metrics = dict(zip(ks, vals[vpos : vpos + nv], strict=True))
        vpos += nv
        nh = nhist[i]
        hist: Mapping[str, Mapping[int, int]] = Histograms(block, hpos, nh) if nh else {}
        hpos += nh
        yield seq[i], run_ids[run[i]], times[2 * i], metrics, client[i], hist, times[2 * i + 1]


class _Block:
    """The histograms of a block of samples, decoded the first time one of them is read."""

    __slots__ = ("_counts", "_keys", "_masks", "hists", "hname", "hnames", "nbuckets")

    def __init__(
        self, hnames: list[str], nbuckets: list[int], hname: array[int], masks: bytes, keys: bytes,
        counts: bytes,
    ) -> None:  # fmt: skip
        self.hnames, self.nbuckets, self.hname, self._masks = hnames, nbuckets, hname, masks
        self._keys, self._counts = keys, counts
        self.hists: list[tuple[str, dict[int, int]]] | None = None

    def decode(self) -> list[tuple[str, dict[int, int]]]:
        if self.hists is None:
            keys = _array("Q", _unshuffle(self._keys, 8))
            counts = _array("Q", _unshuffle(self._counts, 8)).tolist()
            unions: list[list[int]] = []
            k = 0
            for nb in self.nbuckets:
                unions.append(list(accumulate(keys[k : k + nb])))
                k += nb
            masks, hnames = self._masks, self.hnames
            hists = []
            mpos = cpos = 0
            for h in self.hname:
                u = unions[h]
                buckets = list(compress(u, masks[mpos : mpos + len(u)]))
                nb = len(buckets)
                hists.append((hnames[h], dict(zip(buckets, counts[cpos : cpos + nb], strict=False))))
                mpos += len(u)
                cpos += nb
            if cpos != len(counts):  # checked here, not when the block is read (its CRC was)
                raise FormatError("a block of samples has histograms of the wrong length")
            self.hists = hists
        return self.hists


class Histograms(Mapping[str, Mapping[int, int]]):
    """A sample's interval histograms (name -> bucket -> count), decoded from its block when first
    read: a replay that loads a long session does not build every histogram's dict up front."""

    __slots__ = ("_block", "_dict", "_n", "_start")

    def __init__(self, block: _Block, start: int, n: int) -> None:
        self._block: _Block | None = block
        self._start, self._n = start, n
        self._dict: dict[str, dict[int, int]] = {}

    def _decoded(self) -> dict[str, dict[int, int]]:
        if self._block is not None:
            self._dict = dict(self._block.decode()[self._start : self._start + self._n])
            self._block = None
        return self._dict

    def __getitem__(self, key: str) -> Mapping[int, int]:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return self._n if self._block is not None else len(self._dict)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return repr(self._decoded())

    def __reduce__(self) -> tuple[Any, ...]:  # a copy or a pickle is a plain dict
        return (dict, (self._decoded(),))


# --- raw output ------------------------------------------------------------------------------------

_TOKENS = re.compile(rb"(\d+)")
_DECODE_TOKENS = re.compile(rb"(\d+|\x00)")
_ESCAPED_TOKENS = re.compile(rb"(\d+|\x00|\x01[\x00\x01])")
_LETTER = re.compile(rb"[A-Za-z_]")
_ESCAPE = re.compile(rb"([\x00\x01])")
_MAX_DIGITS = 18  # a whole number that fits in 64 bits, signed difference included
_NUMBER = b"\x00"  # in the text: "the next number is a difference"
_CONTEXT = 256  # bytes of the text before a number that say where it stands

# What the text before a number says about it: whether the number is a JSON value (the text ends
# in ":"), whether its key has a letter (else the number before it, a histogram's bucket, is part
# of its place), and whether a new object starts in it (places are counted from there).
_VALUE, _KEYED, _NEW_OBJECT = 1, 2, 4


def _flags(ctx: bytes) -> int:
    return (
        (_VALUE if ctx.rstrip(b" \t").endswith(b":") else 0)
        | (_KEYED if _LETTER.search(ctx) else 0)
        | (_NEW_OBJECT if b"\n{" in ctx else 0)
    )


class RawEncoderV1:
    """The first encoding of raw output (files written with it are still read; :class:`RawEncoder`
    writes the second). One raw output stream: ``write`` bytes as they come, ``flush`` at each
    commit (what it returns decodes, with everything flushed before, to every byte written so far
    except a number whose last digit may still be to come: ``pending``), ``close`` at the end.

    A number's place is the last ``_CONTEXT`` bytes of the text since the number before it (and,
    when that text has no letter, the number before it), and how many times that place came since
    the last object began. A whole number written as a JSON value whose place was seen before is
    replaced in the text by a 0 byte, and its difference from the value there before goes to the
    numbers (64-bit integers, their bytes grouped by significance); 0 and 1 bytes of the output
    are escaped with a 1 byte."""

    def __init__(self) -> None:
        params = zstandard.ZstdCompressionParameters.from_level(RAW_LEVEL, window_log=RAW_WINDOW_LOG)
        self._text = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._nums = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._memo: dict[bytes, int] = {}
        self._last: dict[Any, int] = {}
        self._counts: dict[Any, int] = {}
        self._prev = b""  # the last number
        self._carry = b""  # the text since the last number (its last _CONTEXT bytes)
        self.pending = b""  # digits at the end of the last write: the number may go on
        self._text_out: list[bytes] = []
        self._nums_out = array("q")
        self.size = 0  # bytes written

    def write(self, data: bytes) -> None:
        self.size += len(data)
        parts = _TOKENS.split(self.pending + data)
        # parts: text, number, text, ..., text; a number at the very end may go on in the next write
        if len(parts) > 1 and parts[-1] == b"":
            self.pending = parts[-2]
            parts = parts[:-2]
        else:
            self.pending = b""
        self._encode(parts)

    def _encode(self, parts: list[bytes]) -> None:
        memo, last, counts, out, nums = self._memo, self._last, self._counts, self._text_out, self._nums_out
        prev, carry = self._prev, self._carry
        append, put = out.append, nums.append
        for i in range(0, len(parts) - 1, 2):
            t, num = parts[i], parts[i + 1]
            if carry:
                ctx = (carry + t)[-_CONTEXT:]
                carry = b""
            else:
                ctx = t[-_CONTEXT:] if len(t) > _CONTEXT else t
            if t:
                append(_ESCAPE.sub(b"\x01\\1", t) if b"\x00" in t or b"\x01" in t else t)
            info = memo.get(ctx)
            if info is None:
                info = memo[ctx] = _flags(ctx)
            if info & _NEW_OBJECT:
                counts.clear()
            if info & _VALUE and len(num) <= _MAX_DIGITS and (num[0] != 48 or len(num) == 1):
                base = ctx if info & _KEYED else (ctx, prev)
                k = counts.get(base, 0)
                counts[base] = k + 1
                place = (base, k)
                value = int(num)
                before = last.get(place)
                last[place] = value
                if before is not None:
                    append(_NUMBER)
                    put(value - before)
                    prev = num
                    continue
            append(num)
            prev = num
        t = parts[-1]
        if t:
            append(_ESCAPE.sub(b"\x01\\1", t) if b"\x00" in t or b"\x01" in t else t)
            carry = (carry + t)[-_CONTEXT:]
        self._prev, self._carry = prev, carry

    def flush(self) -> tuple[bytes, bytes]:
        """The compressed text and numbers written since the last flush."""
        return self._drain(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    def close(self) -> tuple[bytes, bytes]:
        if self.pending:
            self._encode([b"", self.pending, b""])
            self.pending = b""
        return self._drain(zstandard.COMPRESSOBJ_FLUSH_FINISH)

    def _drain(self, mode: int) -> tuple[bytes, bytes]:
        text = self._text.compress(b"".join(self._text_out)) + self._text.flush(mode)
        nums = self._nums.compress(_shuffle(self._nums_out.tobytes(), 8)) + self._nums.flush(mode)
        self._text_out = []
        self._nums_out = array("q")
        return text, nums


def _parts(text: bytes) -> list[bytes]:
    """The encoded text as text, number, text, ..., text with its escapes undone (a number is
    digits, or the 0 byte that stands for one)."""
    if b"\x01" not in text:
        return _DECODE_TOKENS.split(text)
    parts: list[bytes] = []
    run: list[bytes] = []
    for piece in _ESCAPED_TOKENS.split(text):
        if piece[:1] == b"\x01" and len(piece) == 2:
            run.append(piece[1:])
        elif piece and (piece == _NUMBER or piece[0] in b"0123456789"):
            parts.append(b"".join(run))
            parts.append(piece)
            run = []
        elif b"\x01" in piece:
            raise FormatError("raw output holds an escape that is not one")
        else:
            run.append(piece)
    parts.append(b"".join(run))
    return parts


def _decompress(chunks: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, array[int]]:
    """A raw stream's text and its numbers column, each one zstd stream across the chunks."""
    dtext = zstandard.ZstdDecompressor().decompressobj()
    dnums = zstandard.ZstdDecompressor().decompressobj()
    texts: list[bytes] = []
    numbers = array("q")
    try:
        for t, n in chunks:
            texts.append(dtext.decompress(t) if t else b"")
            block = dnums.decompress(n) if n else b""
            if len(block) % 8:
                raise FormatError("raw output's numbers are not whole")
            numbers.frombytes(_unshuffle(block, 8))
    except zstandard.ZstdError as exc:
        raise FormatError(f"raw output does not decompress ({exc})") from None
    return b"".join(texts), numbers


def _decode_raw_v1(chunks: Iterable[tuple[bytes, bytes]]) -> bytes:
    text, diffs = _decompress(chunks)
    parts = _parts(text)
    memo: dict[bytes, int] = {}
    last: dict[Any, int] = {}
    counts: dict[Any, int] = {}
    out: list[bytes] = []
    prev = b""
    j = 0
    for i in range(0, len(parts) - 1, 2):
        t, num = parts[i], parts[i + 1]
        out.append(t)
        ctx = t[-_CONTEXT:] if len(t) > _CONTEXT else t
        info = memo.get(ctx)
        if info is None:
            info = memo[ctx] = _flags(ctx)
        if info & _NEW_OBJECT:
            counts.clear()
        if num == _NUMBER:
            if not info & _VALUE:
                raise FormatError("raw output holds a number where none can be")
            base = ctx if info & _KEYED else (ctx, prev)
            k = counts.get(base, 0)
            counts[base] = k + 1
            place = (base, k)
            before = last.get(place)
            if before is None or j >= len(diffs):
                raise FormatError("raw output holds a number it cannot place")
            value = before + diffs[j]
            j += 1
            if value < 0:
                raise FormatError("raw output holds a negative number")
            last[place] = value
            num = b"%d" % value
        elif info & _VALUE and len(num) <= _MAX_DIGITS and (num[0] != 48 or len(num) == 1):
            base = ctx if info & _KEYED else (ctx, prev)
            k = counts.get(base, 0)
            counts[base] = k + 1
            last[(base, k)] = int(num)
        out.append(num)
        prev = num
    out.append(parts[-1])
    if j != len(diffs):
        raise FormatError("raw output has numbers left over")
    return b"".join(out)


# Raw output, second encoding. A stream is cut into segments where a line starts with "{" (each
# of fio's status objects is one) and at each flush. A segment's *skeleton* is its text with every
# run of digits outside double quotes replaced by one "0" (digits inside quotes, such as a
# histogram's bucket names, are kept, moved to bytes 0xF6-0xFF that text never holds), and its
# numbers are those runs, each read as the integer of "1" followed by its digits (leading zeros
# kept). A segment is written against the last whole object: when the skeletons are equal, only
# each number's difference from the one at the same place; otherwise the skeleton's bytes that
# differ (between the longest common head and tail), and each number's difference from the number
# at the same place in the head or tail, or in between from the number after the same text. All of
# this is whole-string and bulk work in C (translate, split, join, map), not a loop per number.

RAW_MAGIC = b"KTR2"  # the start of a stream of the second encoding (the first starts with zstd's)
_DIGITS = b"0123456789"
_SPACES = b" \t\n\r\x0b\x0c"  # what bytes.split() splits on
_HIGH = bytes(range(0xF6, 0x100))  # quoted digits in the skeleton (never in UTF-8 text)
_HELD = bytes(range(0x10, 0x16))  # white space in the skeleton, while digits are split on
_OWN = _HIGH + _HELD  # a segment holding one of these is kept as it is
_OTHERS = bytes(c for c in range(256) if c not in _OWN)
_TO_SPACE = bytes(c if c in _DIGITS else 32 for c in range(256))
_SPLIT_DIGITS = bytes(
    32 if c in _DIGITS else 0x10 + _SPACES.index(c) if c in _SPACES else c for c in range(256)
)
_PROTECT = bytes(0xF6 + c - 48 if c in _DIGITS else c for c in range(256))
_RESTORE = bytes(48 + c - 0xF6 if c >= 0xF6 else _SPACES[c - 0x10] if c in _HELD else c for c in range(256))
_MAX_RUN = 17  # digits of a number: "1" and 17 digits fit in 64 bits, their difference too
_SAME, _DIFFERENT, _LITERAL = 0, 1, 2  # the kinds of segment (the first of its numbers)


def _skeleton(data: bytes) -> tuple[bytes, list[bytes], list[bytes]] | None:
    """(skeleton, its texts, numbers as digits) of a segment, or None when it holds bytes the
    skeleton uses for itself or a run of digits too long for 64 bits."""
    if data.translate(None, _OTHERS):
        return None
    q = data.split(b'"')
    if len(q) > 1:
        q[1::2] = b'"'.join(q[1::2]).translate(_PROTECT).split(b'"')
        data = b'"'.join(q)
    numbers = data.translate(_TO_SPACE).split()
    if numbers and max(map(len, numbers)) > _MAX_RUN:
        return None
    # the texts between runs of digits: digits made white space (the white space held aside)
    texts = (b"|" + data.translate(_SPLIT_DIGITS) + b"|").split()
    texts[0] = texts[0][1:]
    texts[-1] = texts[-1][:-1]
    return b"0".join(texts), texts, numbers


def _common_head(a: bytes, b: bytes, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_tail(a: bytes, b: bytes, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _references(
    sk: bytes, texts: list[bytes], ref_texts: list[bytes], ref_values: list[int], start: int, end: int
) -> list[int]:
    """The value each number of a segment is written against: the numbers of the reference whose
    texts before and after are in the common head (tail) are matched by place; those in between
    by the text before them (0 when the reference has no such text)."""
    n, m = len(texts) - 1, len(ref_texts) - 1
    a = max(sk.count(b"0", 0, start) - 1, 0)
    b = max(sk.count(b"0", end) - 1, 0)
    by_text = dict(zip(ref_texts[a : m - b], ref_values[a : m - b], strict=True))
    middle = list(map(by_text.get, texts[a : n - b], repeat(0, n - b - a)))
    return ref_values[:a] + middle + ref_values[m - b :]


def _whole(seg: bytes) -> bool:
    """Whether a segment looks like one whole status object (the next one's reference)."""
    return seg[:1] == b"{" and seg.rstrip(b"\n")[-1:] == b"}"


class RawEncoder:
    """One raw output stream: ``write`` bytes as they come, ``flush`` at each commit (what it
    returns decodes, with everything flushed before, to every byte written so far), ``close`` at
    the end. See the comment above for the encoding."""

    pending = b""  # bytes written but not in what flush returns (none: kept for the writer)

    def __init__(self) -> None:
        params = zstandard.ZstdCompressionParameters.from_level(RAW_LEVEL, window_log=RAW_WINDOW_LOG)
        self._text = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._nums = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._buf = b""  # the segment still being written
        self._sk = b""  # the reference's skeleton, texts and numbers
        self._texts: list[bytes] = [b""]
        self._values: list[int] = []
        self._text_out: list[bytes] = [RAW_MAGIC]
        self._nums_out = array("q")
        self.size = 0  # bytes written

    def write(self, data: bytes) -> None:
        self.size += len(data)
        buf = self._buf + data if self._buf else data
        pos = 0
        while (cut := buf.find(b"\n{", pos)) >= 0:
            self._segment(buf[pos : cut + 1])
            pos = cut + 1
        self._buf = buf[pos:]

    def _segment(self, seg: bytes) -> None:
        split = _skeleton(seg)
        nums, text = self._nums_out, self._text_out
        if split is None:
            nums.append(_LITERAL)
            nums.append(len(seg))
            text.append(seg)
            return
        sk, texts, digits = split
        values = list(map(int, (b"1" + b" 1".join(digits)).split())) if digits else []
        ref = self._sk
        if sk == ref:
            nums.append(_SAME)
            nums.fromlist(list(map(sub, values, self._values)))
        else:
            limit = min(len(sk), len(ref))
            head = _common_head(sk, ref, limit)
            tail = _common_tail(sk, ref, limit - head)
            start = sk.rfind(b"0", 0, head) + 1
            end = sk.find(b"0", len(sk) - tail)
            if end < 0:
                end = len(sk)
            refs = _references(sk, texts, self._texts, self._values, start, end)
            nums.append(_DIFFERENT)
            nums.append(start)
            nums.append(len(sk) - end)
            nums.append(end - start)
            text.append(sk[start:end])
            nums.fromlist(list(map(sub, values, refs)))
        if _whole(seg):
            self._sk, self._texts, self._values = sk, texts, values

    def flush(self) -> tuple[bytes, bytes]:
        """The compressed text and numbers written since the last flush."""
        if self._buf:
            self._segment(self._buf)
            self._buf = b""
        return self._drain(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    def close(self) -> tuple[bytes, bytes]:
        if self._buf:
            self._segment(self._buf)
            self._buf = b""
        return self._drain(zstandard.COMPRESSOBJ_FLUSH_FINISH)

    def _drain(self, mode: int) -> tuple[bytes, bytes]:
        magic = b""
        if self._text_out and self._text_out[0] is RAW_MAGIC:
            magic = self._text_out.pop(0)
        text = magic + self._text.compress(b"".join(self._text_out)) + self._text.flush(mode)
        nums = self._nums.compress(_shuffle(self._nums_out.tobytes(), 8)) + self._nums.flush(mode)
        self._text_out = []
        self._nums_out = array("q")
        return text, nums


def decode_raw(chunks: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Every byte written to a :class:`RawEncoder` (or the first encoding's), from the pieces its
    flushes returned (a stream cut after a flush, its writer killed, gives what was flushed)."""
    chunks = list(chunks)
    if not chunks or not chunks[0][0].startswith(RAW_MAGIC):
        return _decode_raw_v1(chunks)
    chunks[0] = (chunks[0][0][len(RAW_MAGIC) :], chunks[0][1])
    text, numbers = _decompress(chunks)
    return _decode_segments(text, numbers.tolist())


def _decode_segments(text: bytes, nums: list[int]) -> bytes:
    out: list[bytes] = []
    ref_sk = b""
    ref_texts: list[bytes] = [b""]
    ref_values: list[int] = []
    i = tpos = 0

    def take(k: int) -> list[int]:
        nonlocal i
        if k < 0 or i + k > len(nums):
            raise FormatError("raw output's numbers end too soon")
        got = nums[i : i + k]
        i += k
        return got

    def bytes_of(k: int) -> bytes:
        nonlocal tpos
        if k < 0 or tpos + k > len(text):
            raise FormatError("raw output's text ends too soon")
        got = text[tpos : tpos + k]
        tpos += k
        return got

    while i < len(nums):
        (kind,) = take(1)
        if kind == _LITERAL:
            out.append(bytes_of(take(1)[0]))
            continue
        if kind == _SAME:
            sk, texts = ref_sk, ref_texts
            values = list(map(add, ref_values, take(len(ref_values))))
        elif kind == _DIFFERENT:
            start, tail, k = take(3)
            if not (0 <= start <= len(ref_sk) and 0 <= tail <= len(ref_sk) - start):
                raise FormatError("raw output holds a segment that does not fit its reference")
            sk = ref_sk[:start] + bytes_of(k) + ref_sk[len(ref_sk) - tail :]
            texts = sk.split(b"0")
            refs = _references(sk, texts, ref_texts, ref_values, start, len(sk) - tail)
            values = list(map(add, refs, take(len(texts) - 1)))
        else:
            raise FormatError("raw output holds a segment of no known kind")
        if values and (min(values) < 1 or max(values) >= 10**18):
            raise FormatError("raw output holds a number out of range")
        digits = [b"%d" % v for v in values]
        parts: list[bytes] = [texts[0]]
        for d, t in zip(digits, texts[1:], strict=True):
            parts.append(d[1:])
            parts.append(t)
        seg = b"".join(parts).translate(_RESTORE)
        out.append(seg)
        if _whole(seg):
            ref_sk, ref_texts, ref_values = sk, texts, values
    if tpos != len(text):
        raise FormatError("raw output has text left over")
    return b"".join(out)
