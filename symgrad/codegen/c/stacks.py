"""Loop stacks in C: the tape a loop's forward sweep pushes and its reverse
sweep pops.

Contract: `HELPERS["sg_stack"]` is the C source of the `sg_stack` type and
its functions; `NAMES` the identifiers it defines (reserved: no user name
is one of them). A stack is a growable array of records of one size: `n`
doubles each (a value of the loop: a scalar is 1, an array its size), or
(`stacks` set) stacks one level down, the tape of an inner loop kept once
per outer iteration. A stack variable is declared empty (`SG_STACK_EMPTY`)
at the top of its C function and freed at its end, whatever path the
function takes; every function that can fail returns nonzero: -1 when out
of memory, -6 when a pop finds the stack empty (the reverse sweep pops
exactly what the forward sweep pushed, so this would be a bug in symgrad,
reported rather than read out of bounds).

`stack_lines(node, ...)` and friends print the statements of the stack ops
(`stack_new`, `push`, `pop`, `nonempty`, `stack_zeros`, `stack_add`) and
`copy_line` the deep copy a loop makes of a stack it does not own.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims

NAMES = (
    "sg_stack",
    "SG_STACK_EMPTY",
    "SG_TRY",
    "_status",
    "_end",
    "sg_stack_free",
    "sg_stack_new",
    "sg_stack_room",
    "sg_stack_like",
    "sg_stack_copy",
    "sg_stack_zeros",
    "sg_stack_add",
    "sg_push",
    "sg_push_double",
    "sg_push_stack",
    "sg_pop",
    "sg_drop",
    "sg_record",
    "sg_pop_stack",
)

# A pop of an empty stack: see the contract.
EMPTY_POP = -6

_SOURCE = """\
/* A stack of records: n doubles each, or (stacks != 0) stacks one level
   down. The tape of a loop: pushed by its forward sweep, popped by its
   reverse sweep. */
typedef struct {
    char *data;
    long len;
    long cap;
    long n;
    int stacks;
} sg_stack;

#define SG_STACK_EMPTY {NULL, 0, 0, 0, 0}

/* Run a stack call; on failure keep its status in the function's _status
   and jump to its end, which frees the function's stacks. */
#define SG_TRY(call)                                                         \
    do {                                                                     \
        if ((_status = (call)) != 0) {                                       \
            goto _end;                                                       \
        }                                                                    \
    } while (0)

static inline long sg_record(const sg_stack *s)
{
    return s->stacks ? (long)sizeof(sg_stack) : s->n * (long)sizeof(double);
}

static inline void sg_stack_free(sg_stack *s)
{
    if (s->stacks) {
        for (long k = 0; k < s->len; k++) {
            sg_stack_free((sg_stack *)(s->data + k * sg_record(s)));
        }
    }
    free(s->data);
    s->data = NULL;
    s->len = 0;
    s->cap = 0;
}

/* Empty `s` and make it a stack of records of n doubles (or of stacks). */
static inline void sg_stack_new(sg_stack *s, long n, int stacks)
{
    sg_stack_free(s);
    s->n = n;
    s->stacks = stacks;
}

/* Room for `more` records after the last: 0, or -1 out of memory. */
static inline int sg_stack_room(sg_stack *s, long more)
{
    long cap = s->cap;
    char *data;
    if (s->len + more <= cap) {
        return 0;
    }
    while (cap < s->len + more) {
        cap = cap ? 2 * cap : 16;
    }
    data = realloc(s->data, (size_t)cap * (size_t)sg_record(s) + 1);
    if (data == NULL) {
        return -1;
    }
    s->data = data;
    s->cap = cap;
    return 0;
}

static inline int sg_push(sg_stack *s, const double *x)
{
    if (sg_stack_room(s, 1) != 0) {
        return -1;
    }
    memcpy(s->data + s->len * sg_record(s), x, (size_t)sg_record(s));
    s->len++;
    return 0;
}

static inline int sg_push_double(sg_stack *s, double x)
{
    return sg_push(s, &x);
}

/* `to` becomes a stack shaped like `from`, holding its records (zeros:
   0) or zeros (zeros: 1: a stack's cotangent); stacks inside too. */
static inline int sg_stack_like(sg_stack *to, const sg_stack *from, int zeros)
{
    sg_stack_new(to, from->n, from->stacks);
    if (from->len == 0) {
        return 0; /* (memcpy of nothing from NULL is undefined) */
    }
    if (sg_stack_room(to, from->len) != 0) {
        return -1;
    }
    if (!from->stacks) {
        size_t bytes = (size_t)(from->len * sg_record(from));
        if (zeros) {
            memset(to->data, 0, bytes);
        } else {
            memcpy(to->data, from->data, bytes);
        }
        to->len = from->len;
        return 0;
    }
    for (long k = 0; k < from->len; k++) {
        sg_stack *slot = (sg_stack *)to->data + k;
        sg_stack empty = SG_STACK_EMPTY;
        *slot = empty;
        to->len++;
        if (sg_stack_like(slot, (const sg_stack *)from->data + k, zeros) != 0) {
            return -1;
        }
    }
    return 0;
}

/* `to` becomes a copy of `from` (stacks inside it copied too). */
static inline int sg_stack_copy(sg_stack *to, const sg_stack *from)
{
    return sg_stack_like(to, from, 0);
}

/* Push a copy of the stack `x` (the tape of one run of an inner loop). */
static inline int sg_push_stack(sg_stack *s, const sg_stack *x)
{
    sg_stack *slot;
    sg_stack empty = SG_STACK_EMPTY;
    if (sg_stack_room(s, 1) != 0) {
        return -1;
    }
    slot = (sg_stack *)s->data + s->len;
    *slot = empty;
    s->len++;
    return sg_stack_copy(slot, x);
}

/* The record on top into `to` (n doubles), removed: 0, or -6 if empty. */
static inline int sg_pop(sg_stack *s, double *to)
{
    if (s->len == 0) {
        return -6;
    }
    s->len--;
    memcpy(to, s->data + s->len * sg_record(s), (size_t)sg_record(s));
    return 0;
}

/* The record on top removed unread: 0, or -6 if empty. */
static inline int sg_drop(sg_stack *s)
{
    if (s->len == 0) {
        return -6;
    }
    s->len--;
    if (s->stacks) {
        sg_stack_free((sg_stack *)s->data + s->len);
    }
    return 0;
}

/* The stack on top moved into `to` (what `to` held is freed). */
static inline int sg_pop_stack(sg_stack *s, sg_stack *to)
{
    if (s->len == 0) {
        return -6;
    }
    sg_stack_free(to);
    s->len--;
    *to = ((sg_stack *)s->data)[s->len];
    return 0;
}

/* `to` becomes a stack like `like` holding zeros (a stack's cotangent). */
static inline int sg_stack_zeros(sg_stack *to, const sg_stack *like)
{
    return sg_stack_like(to, like, 1);
}

/* `to` becomes the record-by-record sum of `a` and `b` (as long as the
   shorter one). */
static inline int sg_stack_add(sg_stack *to, const sg_stack *a, const sg_stack *b)
{
    long len = a->len < b->len ? a->len : b->len;
    sg_stack_new(to, a->n, a->stacks);
    if (len == 0) {
        return 0;
    }
    if (sg_stack_room(to, len) != 0) {
        return -1;
    }
    if (!a->stacks) {
        const double *x = (const double *)a->data;
        const double *y = (const double *)b->data;
        double *z = (double *)to->data;
        for (long k = 0; k < len * a->n; k++) {
            z[k] = x[k] + y[k];
        }
        to->len = len;
        return 0;
    }
    for (long k = 0; k < len; k++) {
        sg_stack *slot = (sg_stack *)to->data + k;
        sg_stack empty = SG_STACK_EMPTY;
        *slot = empty;
        to->len++;
        if (sg_stack_add(slot, (const sg_stack *)a->data + k,
                         (const sg_stack *)b->data + k) != 0) {
            return -1;
        }
    }
    return 0;
}"""

HELPERS = {"sg_stack": _SOURCE}


def _elements(elem) -> str:
    """The C `long` count of doubles in one record of a stack of `elem`."""
    if isinstance(elem, ir.StackType):
        return "0"
    return c_size(dims.prod(elem.shape))


def new_line(node, name: str) -> str:
    """`stack_new`: `name` emptied, holding records of the node's element."""
    elem = node.attr("elem")
    stacks = 1 if isinstance(elem, ir.StackType) else 0
    return f"sg_stack_new(&{name}, {_elements(elem)}, {stacks});"


def push_line(stack: str, x: str, elem) -> str:
    """The call pushing `x` (a scalar, an array or a stack) onto `stack`;
    nonzero when out of memory."""
    if isinstance(elem, ir.StackType):
        return f"sg_push_stack(&{stack}, &{x})"
    if not elem.shape:
        return f"sg_push_double(&{stack}, {x})"
    return f"sg_push(&{stack}, {x})"


def pop_call(stack: str, to: str | None, elem) -> str:
    """The call popping `stack`'s top into `to` (None: into nothing);
    nonzero if it was empty."""
    if to is None:
        return f"sg_drop(&{stack})"
    if isinstance(elem, ir.StackType):
        return f"sg_pop_stack(&{stack}, &{to})"
    if not elem.shape:
        return f"sg_pop(&{stack}, &{to})"
    return f"sg_pop(&{stack}, {to})"


def copy_call(to: str, src: str) -> str:
    return f"sg_stack_copy(&{to}, &{src})"
