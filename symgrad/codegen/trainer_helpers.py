"""Functions copied into generated trainer modules, the same text on both targets.

Contract: each function here is plain Python that needs only the standard
library (imported inside the function), runs on any CPython 3.8+, and never
imports symgrad; `trainer.py` copies their source into every trainer, so the
NumPy and the pure-Python trainer read CSV files and parameter files, and
reject bad ones, identically. Errors are `ValueError`s that name the file and
the row or record.

Parameter files are JSON: `{"format": "symgrad-params/1", "leaves": [...]}`,
one `{"name", "shape", "values"}` record per parameter array in the order of
the model's parameters; values are nested lists of numbers, with NaN and the
infinities as the strings "nan", "inf" and "-inf" (plain JSON has no such
numbers). A file nesting deeper than `MAX_DEPTH` (a model's records need a
few levels more than their arrays' axes) is refused before it is parsed, so
no file can make the reader recurse without bound.

CSV files are read as UTF-8 text; a file in another encoding, a row the csv
module cannot parse (an unterminated quote, a field over its size limit, a
NUL byte) is one `ValueError` naming the file and the line the row starts on.
"""

FORMAT = "symgrad-params/1"
MAX_DEPTH = 64


def _batches(n, batch_size, shuffle, seed):
    """The rows each training step uses, step after step: None (all of them,
    in order) when batch_size is None or at least n; otherwise, epoch after
    epoch, a permutation of range(n) (random.Random(seed).shuffle of a fresh
    list, one generator for the whole run; range(n) itself if shuffle is
    false) cut into batches of batch_size rows in order, the last one smaller
    when batch_size does not divide n."""
    import random

    if batch_size is not None and (type(batch_size) is not int or batch_size < 1):
        raise ValueError(f"batch_size must be an int >= 1 or None, not {batch_size!r}")
    if n < 1:
        raise ValueError("there is no data to train on (no rows)")
    if batch_size is None or batch_size >= n:
        while True:
            yield None
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        if shuffle:
            rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def _portable(value):
    """A number or nested lists of numbers as JSON can hold them: floats, with
    nan, inf and -inf as the strings "nan", "inf" and "-inf"."""
    if isinstance(value, list):
        return [_portable(v) for v in value]
    value = float(value)
    if value - value == 0:  # finite (inf - inf and nan - nan are nan)
        return value
    if value != value:
        return "nan"
    return "inf" if value > 0 else "-inf"


def _shown(value):
    """A JSON value for an error message, cut short."""
    try:
        text = repr(value)
    except RecursionError:
        text = "a deeply nested " + type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _too_deep(text, limit):
    """None, or where JSON `text` first nests deeper than `limit` levels:
    (line, record), record being the index of the record (a container at the
    depth of the records, `{"leaves": [{...}]}`) it happens in, or -1."""
    import re

    depth, record = 0, -1
    # Strings are skipped whole: brackets inside them are text.
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = match.group()
        if c == "[" or c == "{":
            depth += 1
            if depth == 3:
                record += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1, record
        elif c == "]" or c == "}":
            depth -= 1
    return None


def _record_values(values, shape, where):
    """The numbers of one record as a flat row-major list of floats, after
    checking they are nested lists of exactly `shape` holding only numbers or
    the strings "nan", "inf", "-inf"."""
    items = [values]
    for axis, n in enumerate(shape):
        for item in items:
            if not isinstance(item, list) or len(item) != n:
                raise ValueError(
                    f"{where}: the values do not have shape {list(shape)} "
                    f"(at axis {axis}: {_shown(item)})"
                )
        items = [x for item in items for x in item]
    out = []
    for x in items:
        if type(x) is str and x in ("nan", "inf", "-inf"):
            out.append(float(x))
            continue
        if type(x) not in (int, float):  # bool and numeric strings are not numbers
            raise ValueError(
                f'{where}: {_shown(x)} is not a number (numbers, or "nan", "inf", '
                '"-inf")'
            )
        try:
            out.append(float(x))
        except OverflowError:
            raise ValueError(f"{where}: {_shown(x)} is too large for a float") from None
    return out


def _read_params(path, records):
    """Flat lists of floats, one per `(name, shape)` of `records`, read from a
    parameter file; a ValueError names the first record that does not fit
    (missing, extra, renamed, out of order, of another shape, not numbers)."""
    import json

    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}: not a parameter file (line {line} is not UTF-8 text)"
        ) from None
    deep = _too_deep(text, MAX_DEPTH)
    if deep is not None:
        line, index = deep
        where = f"record {index}, line {line}" if index >= 0 else f"line {line}"
        raise ValueError(
            f"{path}: not a parameter file: {where} nests deeper than "
            f"{MAX_DEPTH} levels"
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not a parameter file ({exc})") from None
    except RecursionError:  # not reached: the depth is bounded above
        raise ValueError(f"{path}: not a parameter file (nested too deeply)") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != FORMAT:
        raise ValueError(
            f"{path}: not a parameter file: format is {_shown(found)}, "
            f"expected {FORMAT!r}"
        )
    leaves = data.get("leaves")
    if not isinstance(leaves, list):
        raise ValueError(f"{path}: 'leaves' must be a list of records")
    names = [name for name, _ in records]
    out = []
    for i, (name, shape) in enumerate(records):
        if i >= len(leaves):
            raise ValueError(
                f"{path}: record {name!r} is missing (the file has {len(leaves)} "
                f"records, the model {len(records)})"
            )
        record = leaves[i]
        if not isinstance(record, dict) or not {"name", "shape", "values"} <= set(
            record
        ):
            raise ValueError(
                f"{path}: record {i} ({name!r}) needs 'name', 'shape' and 'values'"
            )
        got = record["name"]
        if got != name:
            why = (
                "the records are out of order"
                if got in names
                else "renamed, or a file of another model"
            )
            raise ValueError(
                f"{path}: record {i} is named {_shown(got)}, but the model's record "
                f"{i} is {name!r} ({why})"
            )
        if record["shape"] != list(shape):
            raise ValueError(
                f"{path}: record {name!r} has shape {_shown(record['shape'])}, the "
                f"model needs {list(shape)}"
            )
        where = f"{path}: record {name!r}"
        out.append(_record_values(record["values"], shape, where))
    if len(leaves) > len(records):
        raise ValueError(
            f"{path}: {len(leaves) - len(records)} extra record(s) after the "
            f"model's {len(records)} (the first is {_shown(leaves[len(records)])})"
        )
    return out


def _read_csv(path):
    """`(features, labels)` from a CSV file: one sample per row, features in
    every column but the last, the label last; as lists of floats.

    A first row that is not all numbers is a header and skipped; a UTF-8 byte
    order mark and blank lines are ignored. Every row must have as many fields
    as the first. Labels must be -1/+1, or 0/1 (read as -1/+1). Errors name
    the file and the line a row starts on."""
    import csv
    import io

    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}: line {line}: not UTF-8 text" + _encoding_hint(raw)
        ) from None
    if "\x00" in text:  # no CSV holds NUL; a UTF-16 file without a BOM does
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValueError(
            f"{path}: line {line}: holds a NUL character" + _encoding_hint(raw)
        )
    rows = []
    # strict: a quote left open at the end is an error, not a field.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the next row starts on
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            hint = ""
            if "field larger" in str(exc) or "end of data" in str(exc):
                hint = " (is a quote left open?)"
            raise ValueError(f"{path}: line {start}: not CSV: {exc}{hint}") from None
        if any(field.strip() for field in row):
            rows.append((start, row))
        start = reader.line_num + 1
    if rows and not all(_is_number(field) for field in rows[0][1]):
        rows = rows[1:]  # a header
    if not rows:
        raise ValueError(f"{path}: no data rows")
    first, width = rows[0][0], len(rows[0][1])
    if width < 2:
        raise ValueError(
            f"{path}: line {first} has one field; a row needs features and a label"
        )
    features, labels = [], []
    for line, row in rows:
        if len(row) != width:
            raise ValueError(
                f"{path}: line {line} has {len(row)} fields, line {first} has {width}"
            )
        for field in row:
            if not _is_number(field):
                raise ValueError(
                    f"{path}: line {line}: {_shown(field)} is not a number"
                )
        values = [float(field) for field in row]
        features.append(values[:-1])
        labels.append(values[-1])
    # Labels are -1/+1 (sign agreement is the accuracy), or all 0/1.
    zero_one = 0.0 in labels
    allowed = (0.0, 1.0) if zero_one else (-1.0, 1.0)
    for (line, _), label in zip(rows, labels):  # noqa: B905 - Python 3.8
        if label not in allowed:
            raise ValueError(
                f"{path}: line {line}: the label {label!r} is not "
                + ("0/1 like the others" if zero_one else "-1/+1 (or 0/1)")
            )
    if zero_one:
        labels = [2.0 * label - 1.0 for label in labels]
    return features, labels


def _encoding_hint(raw):
    """Why a file may not read as UTF-8 text, for an error message."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:200]:
        return " (it looks like UTF-16: save it as UTF-8)"
    return " (save it as UTF-8; cp1252 and Latin-1 files are not read)"


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True
