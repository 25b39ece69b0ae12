"""C runtime of a standalone trainer, part 3: parameter files (JSON) and
atomic writes.

Contract: `JSON` is C99 source (static functions, names starting `sg_`)
that `codegen.c.trainer` copies into every trainer program, after
`trainer_text.TEXT` and `trainer_csv.CSV`:

- `sg_read_params(path, records, count, values)` is
  `trainer_helpers._read_params`: the same depth limit checked first (its
  quirks included), a JSON parser with the error texts of Python's `json`
  (`Expecting value: line 1 column 1 (char 0)`, NaN/Infinity accepted as
  Python's json does, duplicate keys keep the last value), then the same
  record checks with the same messages (`_shown` of any JSON value is
  Python's repr of what `json.loads` returns, cut to 40 characters).
- `sg_check_output(path, inputs, n)` is `files._check_output` (regular files
  only, never an input of the run, decided by stat alone) and
  `sg_write_file(path, text, n)` is `files._write_file`: a new temporary file
  in the same folder, fsynced, given the old file's mode, renamed over the
  path, the folder fsynced; a failure leaves the old file and no temporary.
"""

JSON = r"""/* ------------------------------------------------------------ JSON */

enum { SG_NULL, SG_FALSE, SG_TRUE, SG_INT, SG_FLOAT, SG_STR, SG_LIST, SG_DICT };

typedef struct sg_json sg_json;
struct sg_json {
    int kind;
    char *text;      /* a str's UTF-8, a number's token */
    size_t len;
    double number;   /* a number's value (an int's as float(int)) */
    int too_large;   /* an int float() refuses (OverflowError) */
    size_t count;    /* items of a list, pairs of a dict */
    sg_json *items;  /* a list's items, a dict's values */
    sg_json *keys;   /* a dict's keys */
};

typedef struct {
    const char *s;
    size_t n;
    size_t pos;
    int depth;
} sg_parser;

static int sg_json_error(const sg_parser *p, const char *msg, size_t at)
{
    size_t i, chars = 0, line = 1, col_start = 0, col_chars;
    for (i = 0; i < at && i < p->n; i++) {
        chars += ((unsigned char)p->s[i] & 0xC0) != 0x80;
        if (p->s[i] == '\n') {
            line++;
            col_start = i + 1;
        }
    }
    col_chars = 0;
    for (i = col_start; i < at && i < p->n; i++) {
        col_chars += ((unsigned char)p->s[i] & 0xC0) != 0x80;
    }
    return sg_fail("%s: line %lu column %lu (char %lu)", msg, (unsigned long)line,
                   (unsigned long)(col_chars + 1), (unsigned long)chars);
}

static void sg_skip_ws(sg_parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'
                             || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')) {
        p->pos++;
    }
}

static int sg_hex4(const char *s, unsigned long *out)
{
    int k;
    *out = 0;
    for (k = 0; k < 4; k++) {
        char c = s[k];
        int v = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) {
            return 0;
        }
        *out = *out * 16 + (unsigned long)v;
    }
    return 1;
}

/* A JSON string at p->pos (its opening quote), decoded into v. */
static int sg_parse_string(sg_parser *p, sg_json *v)
{
    sg_buf out = {0, 0, 0};
    size_t begin = p->pos;
    sg_puts(&out, "");
    p->pos++;
    for (;;) {
        unsigned char c;
        if (p->pos >= p->n) {
            free(out.data);
            return sg_json_error(p, "Unterminated string starting at", begin);
        }
        c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            free(out.data);
            return sg_json_error(p, "Invalid control character at", p->pos);
        }
        if (c != '\\') {
            sg_putc(&out, (char)c);
            p->pos++;
            continue;
        }
        if (p->pos + 1 >= p->n) {
            free(out.data);
            return sg_json_error(p, "Unterminated string starting at", begin);
        }
        c = (unsigned char)p->s[p->pos + 1];
        if (c == 'u') {
            unsigned long cp, low;
            if (p->pos + 6 > p->n || !sg_hex4(p->s + p->pos + 2, &cp)) {
                free(out.data);
                return sg_json_error(p, "Invalid \\uXXXX escape", p->pos + 1);
            }
            p->pos += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && p->pos + 6 <= p->n
                && p->s[p->pos] == '\\'
                && p->s[p->pos + 1] == 'u' && sg_hex4(p->s + p->pos + 2, &low)
                && low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                p->pos += 6;
            }
            sg_put_utf8(&out, cp);
            continue;
        }
        switch (c) {
        case '"':
        case '\\':
        case '/':
            sg_putc(&out, (char)c);
            break;
        case 'b':
            sg_putc(&out, '\b');
            break;
        case 'f':
            sg_putc(&out, '\f');
            break;
        case 'n':
            sg_putc(&out, '\n');
            break;
        case 'r':
            sg_putc(&out, '\r');
            break;
        case 't':
            sg_putc(&out, '\t');
            break;
        default:
            free(out.data);
            return sg_json_error(p, "Invalid \\escape", p->pos);
        }
        p->pos += 2;
    }
    v->kind = SG_STR;
    v->text = out.data;
    v->len = out.len;
    return 0;
}

static int sg_parse_value(sg_parser *p, sg_json *v);

static int sg_literal(sg_parser *p, const char *word)
{
    size_t k = strlen(word);
    if (p->pos + k <= p->n && memcmp(p->s + p->pos, word, k) == 0) {
        p->pos += k;
        return 1;
    }
    return 0;
}

/* A number as json's NUMBER_RE reads it, or 0 (no number here). */
static int sg_parse_number(sg_parser *p, sg_json *v)
{
    size_t i = p->pos, digits;
    int is_float = 0;
    if (i < p->n && p->s[i] == '-') {
        i++;
    }
    if (i < p->n && p->s[i] >= '1' && p->s[i] <= '9') {
        while (i < p->n && isdigit((unsigned char)p->s[i])) {
            i++;
        }
    } else if (i < p->n && p->s[i] == '0') {
        i++;
    } else {
        return 0;
    }
    digits = i - p->pos - (p->s[p->pos] == '-');
    if (i + 1 < p->n && p->s[i] == '.' && isdigit((unsigned char)p->s[i + 1])) {
        i += 2;
        while (i < p->n && isdigit((unsigned char)p->s[i])) {
            i++;
        }
        is_float = 1;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t e = i + 1;
        if (e < p->n && (p->s[e] == '+' || p->s[e] == '-')) {
            e++;
        }
        if (e < p->n && isdigit((unsigned char)p->s[e])) {
            while (e < p->n && isdigit((unsigned char)p->s[e])) {
                e++;
            }
            i = e;
            is_float = 1;
        }
    }
    if (!is_float && digits > 4300) {
        sg_fail("Exceeds the limit (4300 digits) for integer string conversion: value "
                "has %lu digits; use sys.set_int_max_str_digits() to increase the "
                "limit",
                (unsigned long)digits);
        return -1;
    }
    v->kind = is_float ? SG_FLOAT : SG_INT;
    v->len = i - p->pos;
    v->text = sg_alloc(v->len + 1, 1);
    memcpy(v->text, p->s + p->pos, v->len);
    v->text[v->len] = '\0';
    errno = 0;
    v->number = strtod(v->text, NULL);
    v->too_large = !is_float && isinf(v->number);
    p->pos = i;
    return 1;
}

static int sg_parse_container(sg_parser *p, sg_json *v, int dict)
{
    size_t cap = 0, kcap = 0;
    char close = dict ? '}' : ']';
    v->kind = dict ? SG_DICT : SG_LIST;
    if (++p->depth > 1000) {
        return sg_json_error(p, "nested too deeply", p->pos);
    }
    p->pos++;
    sg_skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        sg_json item;
        memset(&item, 0, sizeof item);
        if (dict) {
            sg_json key;
            memset(&key, 0, sizeof key);
            if (p->pos >= p->n || p->s[p->pos] != '"') {
                return sg_json_error(p,
                                     "Expecting property name enclosed in "
                                     "double quotes",
                                     p->pos);
            }
            if (sg_parse_string(p, &key) < 0) {
                return -1;
            }
            sg_skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                return sg_json_error(p, "Expecting ':' delimiter", p->pos);
            }
            p->pos++;
            sg_skip_ws(p);
            v->keys = sg_grow(v->keys, &kcap, v->count + 1, sizeof(sg_json));
            v->keys[v->count] = key;
        }
        if (sg_parse_value(p, &item) < 0) {
            return -1;
        }
        v->items = sg_grow(v->items, &cap, v->count + 1, sizeof(sg_json));
        v->items[v->count++] = item;
        sg_skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        if (p->pos >= p->n || p->s[p->pos] != ',') {
            return sg_json_error(p, "Expecting ',' delimiter", p->pos);
        }
        p->pos++;
        sg_skip_ws(p);
    }
    p->depth--;
    return 0;
}

static int sg_parse_value(sg_parser *p, sg_json *v)
{
    int got;
    memset(v, 0, sizeof *v);
    if (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c == '"') {
            return sg_parse_string(p, v);
        }
        if (c == '{' || c == '[') {
            return sg_parse_container(p, v, c == '{');
        }
        if (sg_literal(p, "null")) {
            v->kind = SG_NULL;
            return 0;
        }
        if (sg_literal(p, "true")) {
            v->kind = SG_TRUE;
            return 0;
        }
        if (sg_literal(p, "false")) {
            v->kind = SG_FALSE;
            return 0;
        }
        if (sg_literal(p, "NaN") || sg_literal(p, "Infinity")
            || sg_literal(p, "-Infinity")) {
            v->kind = SG_FLOAT;
            v->number = c == 'N' ? NAN : c == '-' ? -INFINITY : INFINITY;
            return 0;
        }
        got = sg_parse_number(p, v);
        if (got != 0) {
            return got < 0 ? -1 : 0;
        }
    }
    return sg_json_error(p, "Expecting value", p->pos);
}

/* json.loads of UTF-8 text. */
static int sg_json_loads(const char *s, size_t n, sg_json *v)
{
    sg_parser p = {s, n, 0, 0};
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        return sg_json_error(&p, "Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
    }
    sg_skip_ws(&p);
    if (sg_parse_value(&p, v) < 0) {
        return -1;
    }
    sg_skip_ws(&p);
    if (p.pos != n) {
        return sg_json_error(&p, "Extra data", p.pos);
    }
    return 0;
}

static int sg_str_is(const sg_json *v, const char *s)
{
    return v->kind == SG_STR && v->len == strlen(s) && memcmp(v->text, s, v->len) == 0;
}

/* d.get(key) of a dict (the last of equal keys, as json keeps), or NULL. */
static const sg_json *sg_get(const sg_json *d, const char *key)
{
    size_t k = d->count;
    while (k > 0) {
        k--;
        if (sg_str_is(&d->keys[k], key)) {
            return &d->items[k];
        }
    }
    return NULL;
}

/* Python's repr of what json.loads made of v, into b (stops growing past
   a few hundred bytes: it is cut to 40 characters anyway). */
static void sg_repr_json(sg_buf *b, const sg_json *v)
{
    size_t k, j;
    if (b->len > 400) {
        return;
    }
    switch (v->kind) {
    case SG_NULL:
        sg_puts(b, "None");
        break;
    case SG_FALSE:
        sg_puts(b, "False");
        break;
    case SG_TRUE:
        sg_puts(b, "True");
        break;
    case SG_INT: {
        const char *t = v->text;
        int negative = *t == '-';
        if (negative) {
            t++;
        }
        if (!(t[0] == '0' && t[1] == '\0') && negative) {
            sg_putc(b, '-');
        }
        sg_puts(b, t);
        break;
    }
    case SG_FLOAT:
        sg_repr_double(b, v->number);
        break;
    case SG_STR:
        sg_repr_str(b, v->text, v->len);
        break;
    case SG_LIST:
        sg_putc(b, '[');
        for (k = 0; k < v->count && b->len <= 400; k++) {
            if (k > 0) {
                sg_puts(b, ", ");
            }
            sg_repr_json(b, &v->items[k]);
        }
        sg_putc(b, ']');
        break;
    default: {
        /* A dict: each key once, where it first came, with its last value. */
        int first = 1;
        sg_putc(b, '{');
        for (k = 0; k < v->count && b->len <= 400; k++) {
            size_t last = k;
            int seen = 0;
            for (j = 0; j < k; j++) {
                seen |= v->keys[j].len == v->keys[k].len
                        && memcmp(v->keys[j].text, v->keys[k].text,
                                  v->keys[k].len) == 0;
            }
            if (seen) {
                continue;
            }
            for (j = k + 1; j < v->count; j++) {
                if (v->keys[j].len == v->keys[k].len
                    && memcmp(v->keys[j].text, v->keys[k].text, v->keys[k].len) == 0) {
                    last = j;
                }
            }
            if (!first) {
                sg_puts(b, ", ");
            }
            first = 0;
            sg_repr_str(b, v->keys[k].text, v->keys[k].len);
            sg_puts(b, ": ");
            sg_repr_json(b, &v->items[last]);
        }
        sg_putc(b, '}');
        break;
    }
    }
}

static const char *sg_shown_json(int slot, const sg_json *v)
{
    static sg_buf bufs[4];
    sg_buf *b = &bufs[slot];
    b->len = 0;
    sg_puts(b, "");
    if (v == NULL) {
        sg_puts(b, "None");
    } else {
        sg_repr_json(b, v);
    }
    sg_cut(b);
    return b->data;
}

/* ------------------------------------------------------------ parameter files */

typedef struct {
    const char *name;  /* as the model writes it, UTF-8 */
    const char *repr;  /* Python's repr of the name */
    const char *json;  /* the name as a JSON string */
    int ndim;
    const long *shape;
    long size;
} sg_record;

/* trainer_helpers._too_deep: where the text first nests deeper than
   `limit`; 1 and (*line, *record) if it does. Strings are skipped as the
   helper's regular expression skips them ('"(?:[^"\\]|\\.)*"'). */
static int sg_too_deep(const char *s, size_t n, int limit, size_t *line, long *record)
{
    size_t i = 0;
    int depth = 0;
    *record = -1;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            int closed = 0;
            while (j < n) {
                if (s[j] == '"') {
                    closed = 1;
                    break;
                }
                if (s[j] == '\\') {
                    if (j + 1 < n && s[j + 1] != '\n') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j++;
            }
            i = closed ? j + 1 : i + 1;
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
            if (depth == 3) {
                (*record)++;
            }
            if (depth > limit) {
                *line = sg_count_newlines(s, i) + 1;
                return 1;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
        i++;
    }
    return 0;
}

static void sg_shape_text(sg_buf *b, const sg_record *r)
{
    int k;
    b->len = 0;
    sg_puts(b, "[");
    for (k = 0; k < r->ndim; k++) {
        sg_printf(b, k ? ", %ld" : "%ld", r->shape[k]);
    }
    sg_puts(b, "]");
}

/* record["shape"] == list(shape) in Python: a list of numbers equal to the
   sizes (16.0 and True count as 16 and 1). */
static int sg_same_shape(const sg_json *v, const sg_record *r)
{
    size_t k;
    if (v->kind != SG_LIST || v->count != (size_t)r->ndim) {
        return 0;
    }
    for (k = 0; k < v->count; k++) {
        const sg_json *x = &v->items[k];
        double want = (double)r->shape[k];
        if (x->kind == SG_TRUE || x->kind == SG_FALSE) {
            if ((x->kind == SG_TRUE ? 1.0 : 0.0) != want) {
                return 0;
            }
        } else if (x->kind == SG_INT || x->kind == SG_FLOAT) {
            if (x->too_large || x->number != want) {
                return 0;
            }
            if (x->kind == SG_INT && strlen(x->text) > 18) {
                return 0; /* beyond any size; float() would round it */
            }
        } else {
            return 0;
        }
    }
    return 1;
}

/* trainer_helpers._record_values: the numbers of one record, flat. */
static int sg_record_values(const sg_json *values, const sg_record *r,
                            const char *where,
                            double *out)
{
    const sg_json **items = sg_alloc(1, sizeof(sg_json *));
    size_t count = 1, k, j;
    int axis;
    sg_buf shape = {0, 0, 0};
    items[0] = values;
    for (axis = 0; axis < r->ndim; axis++) {
        const sg_json **next;
        size_t m = 0;
        for (k = 0; k < count; k++) {
            if (items[k]->kind != SG_LIST
                || items[k]->count != (size_t)r->shape[axis]) {
                sg_shape_text(&shape, r);
                sg_fail("%s: the values do not have shape %s (at axis %d: %s)", where,
                        shape.data, axis, sg_shown_json(0, items[k]));
                free(shape.data);
                free((void *)items);
                return -1;
            }
        }
        next = sg_alloc(count * (size_t)(r->shape[axis] > 0 ? r->shape[axis] : 1),
                        sizeof(sg_json *));
        for (k = 0; k < count; k++) {
            for (j = 0; j < items[k]->count; j++) {
                next[m++] = &items[k]->items[j];
            }
        }
        free((void *)items);
        items = next;
        count = m;
    }
    for (k = 0; k < count; k++) {
        const sg_json *x = items[k];
        if (x->kind == SG_STR && (sg_str_is(x, "nan") || sg_str_is(x, "inf")
                                  || sg_str_is(x, "-inf"))) {
            out[k] = sg_str_is(x, "nan") ? NAN : sg_str_is(x, "inf") ? INFINITY
                : -INFINITY;
            continue;
        }
        if (x->kind != SG_INT && x->kind != SG_FLOAT) {
            sg_fail("%s: %s is not a number (numbers, or \"nan\", \"inf\", "
                    "\"-inf\")", where, sg_shown_json(0, x));
            free((void *)items);
            return -1;
        }
        if (x->too_large) {
            sg_fail("%s: %s is too large for a float", where, sg_shown_json(0, x));
            free((void *)items);
            return -1;
        }
        out[k] = x->number;
    }
    free((void *)items);
    return 0;
}

/* trainer_helpers._read_params: values[r] (record r's size) from `path`. */
static int sg_read_params(const char *path, const sg_record *records, size_t count,
                          double **values)
{
    sg_buf raw = {0, 0, 0}, where = {0, 0, 0};
    sg_json data;
    const sg_json *found, *leaves;
    size_t bad, line, i;
    long record;
    if (sg_read_file(path, &raw) < 0) {
        return -1;
    }
    bad = sg_utf8_error(raw.data, raw.len);
    if (bad < raw.len) {
        return sg_fail("%s: not a parameter file (line %lu is not UTF-8 text)", path,
                       (unsigned long)(sg_count_newlines(raw.data, bad) + 1));
    }
    if (sg_too_deep(raw.data, raw.len, SG_MAX_DEPTH, &line, &record)) {
        if (record >= 0) {
            return sg_fail("%s: not a parameter file: record %ld, line %lu "
                           "nests deeper than %d levels", path, record,
                           (unsigned long)line, SG_MAX_DEPTH);
        }
        return sg_fail("%s: not a parameter file: line %lu nests deeper than %d levels",
                       path, (unsigned long)line, SG_MAX_DEPTH);
    }
    if (sg_json_loads(raw.data, raw.len, &data) < 0) {
        sg_buf why = {0, 0, 0};
        sg_puts(&why, sg_error.data);
        return sg_fail("%s: not a parameter file (%s)", path, why.data);
    }
    found = data.kind == SG_DICT ? sg_get(&data, "format") : NULL;
    if (found == NULL || !sg_str_is(found, SG_FORMAT)) {
        return sg_fail("%s: not a parameter file: format is %s, expected '%s'", path,
                       sg_shown_json(0, found), SG_FORMAT);
    }
    leaves = sg_get(&data, "leaves");
    if (leaves == NULL || leaves->kind != SG_LIST) {
        return sg_fail("%s: 'leaves' must be a list of records", path);
    }
    for (i = 0; i < count; i++) {
        const sg_record *r = &records[i];
        const sg_json *rec, *got, *shape, *vals;
        size_t k;
        int is_model_name = 0;
        if (i >= leaves->count) {
            return sg_fail("%s: record %s is missing (the file has %lu "
                           "records, the model %lu)", path, r->repr,
                           (unsigned long)leaves->count, (unsigned long)count);
        }
        rec = &leaves->items[i];
        got = rec->kind == SG_DICT ? sg_get(rec, "name") : NULL;
        shape = rec->kind == SG_DICT ? sg_get(rec, "shape") : NULL;
        vals = rec->kind == SG_DICT ? sg_get(rec, "values") : NULL;
        if (got == NULL || shape == NULL || vals == NULL) {
            return sg_fail("%s: record %lu (%s) needs 'name', 'shape' and "
                           "'values'", path, (unsigned long)i, r->repr);
        }
        if (!sg_str_is(got, r->name)) {
            for (k = 0; k < count; k++) {
                is_model_name |= sg_str_is(got, records[k].name);
            }
            return sg_fail("%s: record %lu is named %s, but the model's "
                           "record %lu is %s (%s)", path, (unsigned long)i,
                           sg_shown_json(0, got), (unsigned long)i, r->repr,
                           is_model_name ? "the records are out of order"
                                         : "renamed, or a file of another model");
        }
        if (!sg_same_shape(shape, r)) {
            sg_buf want = {0, 0, 0};
            sg_shape_text(&want, r);
            return sg_fail("%s: record %s has shape %s, the model needs %s", path,
                           r->repr, sg_shown_json(1, shape), want.data);
        }
        where.len = 0;
        sg_printf(&where, "%s: record %s", path, r->repr);
        if (sg_record_values(vals, r, where.data, values[i]) < 0) {
            return -1;
        }
    }
    if (leaves->count > count) {
        return sg_fail("%s: %lu extra record(s) after the model's %lu (the first "
                       "is %s)", path, (unsigned long)(leaves->count - count),
                       (unsigned long)count, sg_shown_json(0, &leaves->items[count]));
    }
    free(raw.data);
    free(where.data);
    return 0;
}

/* The nested lists of an array with no elements from axis `axis` on
   (tolist() of shape (2, 0) is [[], []]). */
static void sg_empty_json(sg_buf *b, const sg_record *r, int axis)
{
    long k;
    sg_putc(b, '[');
    if (r->shape[axis] > 0 && axis + 1 < r->ndim) {
        for (k = 0; k < r->shape[axis]; k++) {
            if (k > 0) {
                sg_puts(b, ", ");
            }
            sg_empty_json(b, r, axis + 1);
        }
    }
    sg_putc(b, ']');
}

/* The parameters as save_params writes them (json.dumps, allow_nan=False,
   NaN and the infinities as strings). */
static void sg_params_json(sg_buf *b, const sg_record *records, size_t count,
                           double *const *values)
{
    size_t i;
    sg_printf(b, "{\"format\": \"%s\", \"leaves\": [", SG_FORMAT);
    for (i = 0; i < count; i++) {
        const sg_record *r = &records[i];
        long k;
        int axis;
        sg_buf shape = {0, 0, 0};
        sg_shape_text(&shape, r);
        sg_printf(b, "%s{\"name\": %s, \"shape\": %s, \"values\": ",
                  i ? ", " : "", r->json, shape.data);
        free(shape.data);
        if (r->size == 0) {
            sg_empty_json(b, r, 0);
        }
        for (k = 0; k < r->size; k++) {
            double x = values[i][k];
            /* Open the lists that start at element k, close those that end. */
            long block = 1;
            if (k > 0) {
                sg_puts(b, ", ");
            }
            for (axis = r->ndim - 1; axis >= 0; axis--) {
                block *= r->shape[axis];
                if (k % block != 0) {
                    break;
                }
                sg_putc(b, '[');
            }
            if (x != x) {
                sg_puts(b, "\"nan\"");
            } else if (isinf(x)) {
                sg_puts(b, x > 0 ? "\"inf\"" : "\"-inf\"");
            } else {
                sg_repr_double(b, x);
            }
            block = 1;
            for (axis = r->ndim - 1; axis >= 0; axis--) {
                block *= r->shape[axis];
                if ((k + 1) % block != 0) {
                    break;
                }
                sg_putc(b, ']');
            }
        }
        sg_puts(b, "}");
    }
    sg_puts(b, "]}\n");
}

/* ------------------------------------------------------------ writing files */

/* files._check_output: 0 if `path` is absent or a regular file that is
   none of the inputs, else -1 with the message; decided by stat alone. */
static int sg_check_output(const char *path, const char *const *inputs, size_t n)
{
    struct stat info, other;
    size_t k;
    if (stat(path, &info) != 0) {
        if (errno == ENOENT) {
            return 0;
        }
        return sg_fail("cannot write %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        const char *kind = S_ISDIR(info.st_mode)    ? "a folder"
                           : S_ISFIFO(info.st_mode) ? "a pipe (FIFO)"
                           : S_ISSOCK(info.st_mode) ? "a socket"
                           : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)
                               ? "a device"
                               : "not a regular file";
        return sg_fail("will not write %s: it is %s, and only regular "
                       "files are written "
                       "(give a file name)", path, kind);
    }
    for (k = 0; k < n; k++) {
        if (inputs[k] != NULL && stat(inputs[k], &other) == 0
            && other.st_dev == info.st_dev
            && other.st_ino == info.st_ino) {
            return sg_fail("will not write %s: it is %s, an input of this run; choose "
                           "another output file", path, inputs[k]);
        }
    }
    return 0;
}

static int sg_os_error(const char *path)
{
    int e = errno;
    return sg_fail("[Errno %d] %s: %s", e, strerror(e), sg_repr_whole(path));
}

/* files._write_file: replace `path` with the n bytes of `text`, atomically
   and durably. */
static int sg_write_file(const char *path, const char *text, size_t n)
{
    sg_buf real = {0, 0, 0}, tmp = {0, 0, 0};
    struct stat info;
    char *resolved, *slash;
    int fd = -1, have_mode, attempt;
    mode_t mode = 0;
    size_t done = 0;
    unsigned long long noise;
    if (sg_check_output(path, NULL, 0) < 0) {
        return -1;
    }
    /* Through a symlink, as open(): the real path, or for a new file its
       real folder and its name. */
    resolved = realpath(path, NULL);
    if (resolved != NULL) {
        sg_puts(&real, resolved);
        free(resolved);
    } else {
        const char *base = strrchr(path, '/');
        sg_buf folder = {0, 0, 0};
        if (base == NULL) {
            sg_puts(&folder, ".");
            base = path;
        } else {
            sg_put(&folder, path, base == path ? 1 : (size_t)(base - path));
            base++;
        }
        resolved = realpath(folder.data, NULL);
        if (resolved == NULL) {
            return sg_os_error(path);
        }
        sg_printf(&real, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved, base);
        free(resolved);
        free(folder.data);
    }
    have_mode = stat(real.data, &info) == 0;
    if (have_mode) {
        mode = info.st_mode & 07777;
    }
    slash = strrchr(real.data, '/');
    noise = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20)
            ^ (unsigned long long)(size_t)&info;
    {
        int urandom = open("/dev/urandom", O_RDONLY);
        if (urandom >= 0) {
            unsigned long long more = 0;
            if (read(urandom, &more, sizeof more) == (ssize_t)sizeof more) {
                noise ^= more;
            }
            close(urandom);
        }
    }
    for (attempt = 0; attempt < 100; attempt++) {
        noise = noise * 6364136223846793005ULL + 1442695040888963407ULL;
        tmp.len = 0;
        sg_put(&tmp, real.data, (size_t)(slash - real.data));
        sg_printf(&tmp, "/.symgrad-%012llx.tmp", (noise >> 16) & 0xFFFFFFFFFFFFULL);
        fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0 || errno != EEXIST) {
            break;
        }
    }
    if (fd < 0) {
        return sg_os_error(tmp.data);
    }
    while (done < n) {
        ssize_t wrote = write(fd, text + done, n - done);
        if (wrote < 0) {
            if (errno == EINTR) {
                continue;
            }
            sg_os_error(tmp.data);
            close(fd);
            unlink(tmp.data);
            return -1;
        }
        done += (size_t)wrote;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        sg_os_error(tmp.data);
        unlink(tmp.data);
        return -1;
    }
    if (have_mode) {
        (void)chmod(tmp.data,
                    mode); /* a file system without modes: the data matters more */
    }
    if (rename(tmp.data, real.data) != 0) {
        sg_os_error(tmp.data);
        unlink(tmp.data);
        return -1;
    }
    *slash = '\0';
    fd = open(slash == real.data ? "/" : real.data, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd); /* the rename itself, durable (best effort) */
        close(fd);
    }
    free(real.data);
    free(tmp.data);
    return 0;
}
"""
