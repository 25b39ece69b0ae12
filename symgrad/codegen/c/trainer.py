"""The standalone C trainer: one C99 file with `main`, no Python needed.

Contract: `trainer_program(loss, predict, optimizer, initial)` returns the
source of a program that trains `loss(params, X, y)` on a CSV file as the
Python trainers' command line does (`codegen.trainer`): the same options
(`--steps`, `--lr`, `--batch-size`, `--seed`, `--params`, `--save`), the same
CSV and parameter-file rules and messages (`trainer_csv`, `trainer_json`),
the same minibatches (CPython's `random.Random(seed).shuffle`, `trainer_text`),
the same sgd / momentum / adam updates with micrograd's schedule, and the
same progress lines (`step K loss V, accuracy A%`, V as Python's repr).

The program holds the model's `value_and_grad` and its `predict` (the C
target's functions, `codegen.c.module`), the parameter records and the
initial parameters. It builds with `cc -O2 train.c -lm -o train` on POSIX
systems (it uses open/fsync/rename for atomic writes). Newton's method is
refused by name. User text reaches C only as sanitized identifiers (the
C target's `Emitter`, with the program's own names reserved), `c_comment`s
and `c_string` literals.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from symgrad._version import __version__
from symgrad.codegen import keys
from symgrad.codegen.c import module as c_module
from symgrad.codegen.c.scalar import literal
from symgrad.codegen.c.trainer_csv import CSV
from symgrad.codegen.c.trainer_json import JSON
from symgrad.codegen.c.trainer_text import RANDOM, TEXT
from symgrad.codegen.module import leaf_label
from symgrad.codegen.naming import comment_safe
from symgrad.codegen.trainer import OPTIMIZERS, SCHEDULE, columns_text
from symgrad.codegen.trainer_helpers import FORMAT, MAX_DEPTH
from symgrad.errors import ArgumentError
from symgrad.ir import dims

# Names the program defines or its headers may define as macros: never a
# user's name (`stdout`, `errno`, `st_mtime` and `linux` are macros).
RESERVED = frozenset(
    (
        "value_and_grad predict FILE stdin stdout stderr printf fprintf snprintf "
        "vsnprintf fputs puts putchar errno open close read write fsync rename "
        "unlink chmod stat fstat lstat realpath getpid time strtod strtol atoi "
        "strlen strchr strrchr strstr memchr memcmp realloc tolower isdigit "
        "va_list va_start va_end va_copy uint32_t uint64_t int64_t SIZE_MAX "
        "ssize_t mode_t st_atime st_mtime st_ctime linux unix i386 EISDIR ENOENT "
        "EEXIST EINTR O_RDONLY O_WRONLY O_CREAT O_EXCL S_ISREG S_ISDIR S_ISFIFO "
        "S_ISSOCK S_ISCHR S_ISBLK isinf isnan"
    ).split()
)


class _Names:
    """The C target with the trainer program's names reserved too."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        return getattr(self._target, name)

    def reserved(self):
        return self._target.reserved() | RESERVED


def _refuse(why: str):
    raise ArgumentError(f"the C trainer {why}")


def _data_leaves(loss):
    """The leaves of X and y, checked: X of shape (rows, features), y of
    shape (rows,), rows the same (a size or a symbol), features fixed or a
    symbol of their own."""
    by_path = {leaf.path: leaf for leaf in loss.leaves}
    X, y = by_path.get((1,)), by_path.get((2,))
    if X is None or y is None or X.node is None or y.node is None:
        _refuse("needs X and y to be arrays (the features and the labels)")
    xs, ys = X.node.shape, y.node.shape
    if len(xs) != 2 or len(ys) != 1 or xs[0] != ys[0]:
        _refuse(
            f"needs X of shape (rows, features) and y of shape (rows,), but they "
            f"are {dims.shape_str(xs)} and {dims.shape_str(ys)}; use the NumPy "
            "trainer (--target numpy) for other data"
        )
    for d in xs:
        if dims.is_symbolic(d) and not dims.is_symbol(d):
            _refuse(f"needs whole sizes for X, not {d!r}")
    if xs[1] == xs[0] and dims.is_symbolic(xs[0]):
        _refuse("needs different sizes for the rows and the features of X")
    return X


def _check(loss, optimizer):
    if optimizer == "newton":
        _refuse(
            "does not do newton (its linear solve would not round as the "
            "NumPy trainer's LAPACK does, so the trajectories would part); use "
            "sgd, momentum or adam, or --target numpy for newton"
        )
    for leaf in loss.leaves:
        if leaf.node is None:
            _refuse(
                f"needs every leaf of the arguments to be an array or a float, "
                f"but {comment_safe(leaf_label(loss, leaf))} is fixed "
                f"({comment_safe(repr(leaf.value), 40)})"
            )
        if leaf.path[0] == 0 and not dims.is_static(leaf.node.shape):
            _refuse(
                f"needs parameters of fixed shapes, but "
                f"{comment_safe(leaf_label(loss, leaf))} has shape "
                f"{dims.shape_str(leaf.node.shape)}"
            )


def _functions(loss, predict):
    """The C functions: value_and_grad of the loss, predict of the model."""
    vg = loss.function("value_and_grad")
    if vg is None or vg.delegate is not None:
        _refuse("needs the loss's value_and_grad function")
    model = predict.function("forward")
    return [vg, dataclasses.replace(model, name="predict")]


def trainer_program(loss, predict, optimizer, initial, target) -> str:
    _check(loss, optimizer)
    X = _data_leaves(loss)
    functions = _functions(loss, predict)
    program = dataclasses.replace(loss, functions=functions)
    c_module._check_supported(program)
    mod = c_module.CModule(program, _Names(target))
    blocks, kinds = [], []
    for fn in functions:
        text, kind = mod.function(fn)
        blocks.append("\n".join(text))
        kinds.append(kind)
    helpers = c_module.helper_sources(mod.helpers)
    params = [leaf for leaf in loss.leaves if leaf.path[0] == 0]
    records = [(leaf_label(loss, leaf), leaf.node.shape) for leaf in params]
    where = f"{comment_safe(program.filename.rsplit('/', 1)[-1])}:{program.fun_name}"
    lr = OPTIMIZERS[optimizer][0]
    parts = [
        _header(where, optimizer, lr),
        TEXT,
        RANDOM,
        CSV,
        JSON,
        "/* ------------------------------------------------------------ the model */",
        *helpers,
        *blocks,
        _records(records, initial),
        _calls(functions, kinds, X),
        _blas_names(mod.helpers),
        _main(loss, optimizer, lr, X, "sg_gemm" in mod.helpers),
    ]
    return "\n\n".join(part.strip("\n") for part in parts if part) + "\n"


def _header(where, optimizer, lr) -> str:
    head = c_module.c_comment(
        f"Generated by symgrad {__version__} from {where}: its trainer ({optimizer}). "
        "Do not edit."
    )
    return "\n".join(
        [
            head,
            "/* A standalone program: train the model on a CSV file, as the Python",
            "   trainers' command line does (the same options, files, messages,",
            "   minibatches and progress lines). Build and run:",
            "",
            "       cc -O2 train.c -lm -o train",
            "       ./train data.csv --steps 500 --save params.json",
            "",
            "   On machines with fused multiply-add, add -ffp-contract=off for",
            "   results that match the other targets to the last bit. */",
            "#define _XOPEN_SOURCE 700",
            "#include <ctype.h>",
            "#include <errno.h>",
            "#include <fcntl.h>",
            "#include <math.h>",
            "#include <stdarg.h>",
            "#include <stdint.h>",
            "#include <stdio.h>",
            "#include <stdlib.h>",
            "#include <string.h>",
            "#include <sys/stat.h>",
            "#include <sys/types.h>",
            "#include <time.h>",
            "#include <unistd.h>",
            "",
            f"#define SG_FORMAT {c_module.c_string(FORMAT)}",
            f"#define SG_MAX_DEPTH {int(MAX_DEPTH)}",
            f"#define SG_OPTIMIZER {c_module.c_string(optimizer)}",
            f"#define SG_DEFAULT_LR {literal(float(lr))}",
        ]
    )


def _records(records, initial) -> str:
    lines = ["/* The parameter records (name, shape) and the initial parameters. */"]
    entries = []
    for k, ((name, shape), value) in enumerate(zip(records, initial, strict=True)):
        shape = tuple(int(n) for n in shape)
        flat = np.asarray(value, dtype=np.float64).ravel().tolist()
        dims_text = ", ".join(str(n) for n in shape) or "0"
        lines.append(f"static const long sg_shape_{k}[] = {{{dims_text}}};")
        items = ", ".join(literal(float(v)) for v in flat) or "0.0"
        lines.append(f"static const double sg_initial_{k}[] = {{{items}}};")
        size = int(np.prod(shape)) if shape else 1
        entries.append(
            f"    {{{c_module.c_string(name)}, {c_module.c_string(repr(name))}, "
            f"{c_module.c_string(json.dumps(name))}, {len(shape)}, sg_shape_{k}, "
            f"{size}}},"
        )
    lines += [
        f"#define SG_LEAVES {len(records)}",
        "static const sg_record sg_records[SG_LEAVES] = {",
        *entries,
        "};",
        "static const double *const sg_initial[SG_LEAVES] = {",
        *(f"    sg_initial_{k}," for k in range(len(records))),
        "};",
    ]
    return "\n".join(lines)


def _size_of(symbol, X) -> str:
    """The C expression of a size symbol: X's rows or its features."""
    rows, cols = X.node.shape
    if dims.is_symbol(rows) and dims.name_of(rows) == symbol:
        return "rows"
    if dims.is_symbol(cols) and dims.name_of(cols) == symbol:
        return "cols"
    _refuse(
        f"cannot read the size {comment_safe(symbol)}: it is no axis of X "
        "(the data's sizes are its rows and its features)"
    )


def _calls(functions, kinds, X) -> str:
    """`sg_value_and_grad` and `sg_predict`: the model's functions called with
    the parameters (flat buffers), a batch and its sizes."""
    out = []
    for fn, (symbols, _, outputs, *_) in zip(functions, kinds, strict=True):
        args = [_size_of(s, X) for s in symbols]
        k = 0
        for leaf in fn.signature.leaves:
            if leaf.path[0] == 0:
                args.append(f"p[{k}]" if leaf.node.shape else f"p[{k}][0]")
                k += 1
            elif leaf.path == (1,):
                args.append("x")
            else:
                args.append("t")
        if fn.name == "predict":
            args.append("out")
            head = (
                "static int sg_predict(double *const *p, const double *x, long rows,\n"
                "                      long cols, double *out)"
            )
        else:
            args += ["value"] + [f"g[{j}]" for j in range(len(outputs) - 1)]
            head = (
                "static int sg_value_and_grad(double *const *p, const double *x,\n"
                "                             const double *t, long rows, long cols,\n"
                "                             double *value, double *const *g)"
            )
        present = ["rows", "cols"] + (["t"] if fn.name != "predict" else [])
        unused = [f"    (void){name};" for name in present if name not in args]
        out += [head, "{", *unused, *_wrapped(f"    return {fn.name}(", args), "}"]
        out.append("")
    return "\n".join(out)


def _wrapped(head: str, args: list) -> list:
    """`head` + the arguments + `);`, on lines of at most 80 characters."""
    lines, line = [], head
    for k, arg in enumerate(args):
        item = arg + (", " if k < len(args) - 1 else ");")
        if len(line) + len(item.rstrip()) > 80 and line.strip() != head.strip():
            lines.append(line.rstrip())
            line = " " * len(head) + item
        else:
            line += item
    return lines + [line]


def _main(loss, optimizer, lr, X, products: bool) -> str:
    rows, cols = X.node.shape
    label = keys.label(loss.params[1], ())
    checks = []
    if not dims.is_symbolic(cols):
        checks += [
            f"    if (data.width - 1 != {int(cols)}) {{",
            '        sg_fail("%s: a row holds %ld feature(s) and a label; the model '
            f'needs {int(cols)} feature(s) per row", args.csv, data.width - 1);',
            "        return sg_die();",
            "    }",
        ]
    rows_check = []
    if not dims.is_symbolic(rows):
        # The module's own argument check, as the Python trainer meets it.
        rows_check += [
            f"    if (args.steps > 0 && batch != {int(rows)}) {{",
            '        sg_fail("%s must have shape %s, got (%ld, %ld)", '
            f"{c_module.c_string(label)}, "
            f"{c_module.c_string(dims.shape_str(X.node.shape))}, batch, cols);",
            "        return sg_die();",
            "    }",
        ]
    description = (
        f"train {comment_safe(loss.fun_name)} with {optimizer} on a CSV file. "
        f"Each row holds {columns_text(loss)}."
    )
    update = {
        "sgd": ["p[i][j] = p[i][j] - rate * g[i][j];"],
        "momentum": [
            "s1[i][j] = 0.9 * s1[i][j] + g[i][j];",
            "p[i][j] = p[i][j] - rate * s1[i][j];",
        ],
        "adam": [
            "s1[i][j] = 0.9 * s1[i][j] + 0.1 * g[i][j];",
            "s2[i][j] = 0.999 * s2[i][j] + 0.001 * g[i][j] * g[i][j];",
            "p[i][j] = p[i][j] - rate * (s1[i][j] / c1)",
            "          / (sqrt(s2[i][j] / c2) + 1e-8);",
        ],
    }[optimizer]
    return MAIN.format(
        description=c_module.c_string(description),
        schedule=c_module.c_comment(SCHEDULE),
        width_check="\n".join(checks),
        rows_check="\n".join(rows_check),
        update="\n".join("                " + line for line in update),
        blas_start=_BLAS_START if products else "",
    )


# With -DSG_BLAS, products go to the system's Fortran BLAS (32-bit ints:
# reference BLAS, OpenBLAS), set before anything runs; else the own loops.
_BLAS_START = """#ifdef SG_BLAS
    sg_blas_dgemm = SG_DGEMM;
    sg_blas_dgemv = SG_DGEMV;
#endif
"""


def _blas_names(helpers) -> str:
    """The BLAS functions `-DSG_BLAS` links to (`dgemm_`, `dgemv_` unless
    -DSG_DGEMM=... -DSG_DGEMV=... name others), for a model with products."""
    if "sg_gemm" not in helpers:
        return ""
    return "\n".join(
        [
            "/* cc -O2 -DSG_BLAS train.c -lblas -lm: matrix products through the",
            "   system's BLAS (Fortran dgemm_/dgemv_ with 32-bit ints; other names",
            "   with -DSG_DGEMM=name -DSG_DGEMV=name). Without it, own loops. */",
            "#ifdef SG_BLAS",
            "#ifndef SG_DGEMM",
            "#define SG_DGEMM dgemm_",
            "#endif",
            "#ifndef SG_DGEMV",
            "#define SG_DGEMV dgemv_",
            "#endif",
            "extern sg_dgemm_t SG_DGEMM;",
            "extern sg_dgemv_t SG_DGEMV;",
            "#endif",
        ]
    )


# The command line and the training loop; {fields} are filled per model.
MAIN = r"""/* ------------------------------------------------------------ main */

typedef struct {{
    const char *csv;
    long long steps;
    double lr;
    long long batch_size; /* 0: all the rows */
    const char *seed;
    const char *params;
    const char *save;
}} sg_args;

static const char *sg_usage_text =
    "usage: %s [-h] [--steps STEPS] [--lr LR] [--batch-size BATCH_SIZE] "
    "[--seed SEED] [--params PARAMS] [--save SAVE] csv\n";

static int sg_die(void)
{{
    fprintf(stderr, "%s: error: %s\n", sg_prog, sg_error.data);
    return 2;
}}

static void sg_usage_error(const char *message)
{{
    fprintf(stderr, sg_usage_text, sg_prog);
    fprintf(stderr, "%s: error: %s\n", sg_prog, message);
    exit(2);
}}

static void sg_help(void)
{{
    printf(sg_usage_text, sg_prog);
    printf("\n%s: %s\n\n", sg_prog, {description});
    printf("positional arguments:\n");
    printf("  csv                   training data, one sample per row\n\n");
    printf("options:\n");
    printf("  -h, --help            show this help message and exit\n");
    printf("  --steps STEPS         (default 100)\n");
    printf("  --lr LR               (default %s)\n", sg_repr_of(0, SG_DEFAULT_LR));
    printf("  --batch-size BATCH_SIZE\n");
    printf("                        rows per step (default: all of them); each\n");
    printf("                        epoch shuffles the rows with --seed and takes\n");
    printf("                        batches in order, the last one smaller\n");
    printf("  --seed SEED           seed of the shuffle (default 0)\n");
    printf("  --params PARAMS       initial parameters (JSON)\n");
    printf("  --save SAVE           write trained parameters (JSON)\n");
    exit(0);
}}

/* Python's int(text): whitespace around, a sign, digits with single _
   between them. The digits (sign first) go to `clean`. */
static int sg_int_text(const char *text, sg_buf *clean)
{{
    size_t a = 0, b = strlen(text), i;
    int digits = 0;
    clean->len = 0;
    sg_puts(clean, "");
    while (a < b && isspace((unsigned char)text[a])) {{
        a++;
    }}
    while (b > a && isspace((unsigned char)text[b - 1])) {{
        b--;
    }}
    i = a;
    if (i < b && (text[i] == '+' || text[i] == '-')) {{
        sg_putc(clean, text[i]);
        i++;
    }}
    for (; i < b; i++) {{
        if (isdigit((unsigned char)text[i])) {{
            sg_putc(clean, text[i]);
            digits++;
        }} else if (text[i] == '_' && i > a && isdigit((unsigned char)text[i - 1])
                   && i + 1 < b && isdigit((unsigned char)text[i + 1])) {{
            continue;
        }} else {{
            return 0;
        }}
    }}
    return digits > 0;
}}

static void sg_bad_value(const char *option, const char *kind, const char *text)
{{
    sg_buf m = {{0, 0, 0}};
    sg_printf(&m, "argument %s: invalid %s value: %s", option, kind,
              sg_shown_str(0, text, strlen(text)));
    sg_usage_error(m.data);
}}

static long long sg_int_arg(const char *option, const char *text)
{{
    sg_buf clean = {{0, 0, 0}};
    long long v;
    char *end;
    if (!sg_int_text(text, &clean)) {{
        sg_bad_value(option, "int", text);
    }}
    errno = 0;
    v = strtoll(clean.data, &end, 10);
    if (errno == ERANGE) {{
        sg_bad_value(option, "int", text);
    }}
    free(clean.data);
    return v;
}}

/* argparse's test for an argument that looks like a negative number. */
static int sg_negative_number(const char *s)
{{
    size_t i = 1;
    int digits = 0, point = 0;
    if (s[0] != '-') {{
        return 0;
    }}
    for (; s[i] != '\0'; i++) {{
        if (isdigit((unsigned char)s[i])) {{
            digits++;
        }} else if (s[i] == '.' && !point) {{
            point = 1;
        }} else {{
            return 0;
        }}
    }}
    return digits > 0 && (!point || s[i - 1] != '.');
}}

static void sg_parse_args(int argc, char **argv, sg_args *args)
{{
    static const char *const options[] = {{
        "--steps", "--lr", "--batch-size", "--seed", "--params", "--save", "--help"}};
    int k, only_positional = 0;
    sg_buf extra = {{0, 0, 0}};
    sg_buf clean = {{0, 0, 0}};
    args->csv = NULL;
    args->steps = 100;
    args->lr = SG_DEFAULT_LR;
    args->batch_size = 0;
    args->seed = "0";
    args->params = NULL;
    args->save = NULL;
    sg_puts(&extra, "");
    for (k = 1; k < argc; k++) {{
        const char *a = argv[k], *value = NULL, *eq;
        size_t len, m, hits = 0, which = 0;
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0
            || sg_negative_number(a)) {{
            if (args->csv == NULL) {{
                args->csv = a;
            }} else {{
                sg_printf(&extra, "%s%s", extra.len ? " " : "", a);
            }}
            continue;
        }}
        if (strcmp(a, "--") == 0) {{
            only_positional = 1;
            continue;
        }}
        if (strcmp(a, "-h") == 0) {{
            sg_help();
        }}
        eq = strchr(a, '=');
        len = eq != NULL ? (size_t)(eq - a) : strlen(a);
        for (m = 0; m < 7; m++) {{
            if (strncmp(options[m], a, len) == 0 && len >= 3) {{
                if (strlen(options[m]) == len) {{
                    hits = 1;
                    which = m;
                    break;
                }}
                hits++;
                which = m;
            }}
        }}
        if (hits == 0 || a[1] != '-') {{
            sg_printf(&extra, "%s%s", extra.len ? " " : "", a);
            continue;
        }}
        if (hits > 1) {{
            sg_buf msg = {{0, 0, 0}};
            int first = 1;
            sg_printf(&msg, "ambiguous option: %.*s could match", (int)len, a);
            for (m = 0; m < 7; m++) {{
                if (strncmp(options[m], a, len) == 0) {{
                    sg_printf(&msg, "%s %s", first ? "" : ",", options[m]);
                    first = 0;
                }}
            }}
            sg_usage_error(msg.data);
        }}
        if (which == 6) {{
            sg_help();
        }}
        if (eq != NULL) {{
            value = eq + 1;
        }} else if (k + 1 < argc
                   && (argv[k + 1][0] != '-' || strcmp(argv[k + 1], "-") == 0
                       || sg_negative_number(argv[k + 1]))) {{
            value = argv[++k];
        }} else {{
            sg_buf msg = {{0, 0, 0}};
            sg_printf(&msg, "argument %s: expected one argument", options[which]);
            sg_usage_error(msg.data);
        }}
        switch (which) {{
        case 0:
            args->steps = sg_int_arg("--steps", value);
            break;
        case 1:
            if (!sg_parse_float(value, strlen(value), &args->lr)) {{
                sg_bad_value("--lr", "float", value);
            }}
            break;
        case 2:
            args->batch_size = sg_int_arg("--batch-size", value);
            if (args->batch_size < 1) {{
                sg_usage_error("--batch-size must be 1 or more");
            }}
            break;
        case 3:
            if (!sg_int_text(value, &clean)) {{
                sg_bad_value("--seed", "int", value);
            }}
            args->seed = value;
            break;
        case 4:
            args->params = value;
            break;
        default:
            args->save = value;
            break;
        }}
    }}
    if (args->csv == NULL) {{
        sg_usage_error("the following arguments are required: csv");
    }}
    if (extra.len > 0) {{
        sg_buf msg = {{0, 0, 0}};
        sg_printf(&msg, "unrecognized arguments: %s", extra.data);
        sg_usage_error(msg.data);
    }}
    if (args->steps < 0) {{
        sg_usage_error("--steps must be 0 or more");
    }}
    free(clean.data);
}}

int main(int argc, char **argv)
{{
    sg_args args;
    sg_data data;
    sg_buf text = {{0, 0, 0}}, seed = {{0, 0, 0}};
    double *p[SG_LEAVES], *g[SG_LEAVES], *s1[SG_LEAVES], *s2[SG_LEAVES];
    double *xb, *tb, *scores, value;
    long *order, pos, n, cols, batch, k;
    size_t i;
    const char *inputs[2];
    memset(&data, 0, sizeof data);
{blas_start}    if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {{
        const char *slash = strrchr(argv[0], '/');
        sg_prog = slash != NULL ? slash + 1 : argv[0];
    }}
    sg_parse_args(argc, argv, &args);
    inputs[0] = args.csv;
    inputs[1] = args.params != NULL ? args.params : args.csv;
    /* Before training: never over the data, nor over a FIFO. */
    if (args.save != NULL && sg_check_output(args.save, inputs, 2) < 0) {{
        return sg_die();
    }}
    if (sg_read_csv(args.csv, &data) < 0) {{
        return sg_die();
    }}
{width_check}
    for (i = 0; i < SG_LEAVES; i++) {{
        size_t size = (size_t)sg_records[i].size;
        p[i] = sg_alloc(size, sizeof(double));
        g[i] = sg_alloc(size, sizeof(double));
        s1[i] = sg_alloc(size, sizeof(double));
        s2[i] = sg_alloc(size, sizeof(double));
        memcpy(p[i], sg_initial[i], size * sizeof(double));
    }}
    if (args.params != NULL
        && sg_read_params(args.params, sg_records, SG_LEAVES, p) < 0) {{
        return sg_die();
    }}
    n = data.rows;
    cols = data.width - 1;
    batch = args.batch_size == 0 || args.batch_size >= n ? n : (long)args.batch_size;
{rows_check}
    xb = sg_alloc((size_t)batch, (size_t)(cols > 0 ? cols : 1) * sizeof(double));
    tb = sg_alloc((size_t)batch, sizeof(double));
    scores = sg_alloc((size_t)batch, sizeof(double));
    order = sg_alloc((size_t)n, sizeof(long));
    for (i = 0; i < SG_LEAVES; i++) {{
        long j;
        for (j = 0; j < sg_records[i].size; j++) {{
            s1[i][j] = p[i][j] * 0.0; /* optimizer state: zeros like p */
            s2[i][j] = p[i][j] * 0.0;
        }}
    }}
    sg_int_text(args.seed, &seed);
    sg_seed(seed.data);
    pos = n; /* the next epoch starts at the first step */
    for (k = 0; k < (long)args.steps; k++) {{
        const double *x = data.features, *t = data.labels;
        long rows = n, hits = 0, j;
        double rate, acc, c1 = 1.0, c2 = 1.0;
        int status;
        if (batch < n) {{
            /* Minibatches: each epoch a random.Random(seed).shuffle of
               range(n), in batches of --batch-size rows. */
            if (pos >= n) {{
                for (j = 0; j < n; j++) {{
                    order[j] = j;
                }}
                sg_shuffle(order, n);
                pos = 0;
            }}
            rows = n - pos < batch ? n - pos : batch;
            for (j = 0; j < rows; j++) {{
                memcpy(xb + j * cols, data.features + order[pos + j] * cols,
                       (size_t)cols * sizeof(double));
                tb[j] = data.labels[order[pos + j]];
            }}
            pos += batch;
            x = xb;
            t = tb;
        }}
        status = sg_value_and_grad(p, x, t, rows, cols, &value, g);
        if (status == 0) {{
            status = sg_predict(p, x, rows, cols, scores);
        }}
        if (status != 0) {{
            sg_fail(status == -3   ? "an index is outside an axis of these sizes"
                    : status == -4 ? "zero-size array to reduction operation maximum "
                                     "which has no identity"
                    : status == -5 ? "zero-size array to reduction operation minimum "
                                     "which has no identity"
                    : status == -6 ? "a loop's tape was popped empty (a bug in "
                                     "symgrad: please report it)"
                    : status == -7 ? "Singular matrix"
                    : status == -8 ? "Matrix is not positive definite"
                    : status == -9 ? "attempt to get argmax of an empty sequence"
                    : status == -10 ? "attempt to get argmin of an empty sequence"
                                   : "out of memory");
            return sg_die();
        }}
        for (j = 0; j < rows; j++) {{
            hits += (scores[j] > 0) == (t[j] > 0);
        }}
        acc = (double)hits / (double)rows;
        text.len = 0;
        sg_repr_double(&text, value);
        printf("step %ld loss %s, accuracy %.1f%%\n", k, text.data, acc * 100.0);
        {schedule}
        rate = args.lr * (1.0 - 0.9 * (double)k / (double)args.steps);
        c1 = 1.0 - pow(0.9, (double)(k + 1));
        c2 = 1.0 - pow(0.999, (double)(k + 1));
        (void)c1;
        (void)c2;
        for (i = 0; i < SG_LEAVES; i++) {{
            for (j = 0; j < sg_records[i].size; j++) {{
{update}
            }}
        }}
    }}
    if (args.save != NULL) {{
        text.len = 0;
        sg_params_json(&text, sg_records, SG_LEAVES, p);
        if (sg_write_file(args.save, text.data, text.len) < 0) {{
            return sg_die();
        }}
        printf("saved the trained parameters to %s\n", args.save);
    }}
    return 0;
}}
"""
