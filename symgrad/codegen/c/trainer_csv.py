"""C runtime of a standalone trainer, part 2: reading files and the CSV data.

Contract: `CSV` is C99 source (static functions, names starting `sg_`) that
`codegen.c.trainer` copies into every trainer program. `sg_read_file`
reads a whole file as `open(path, "rb").read()` does, with Python's
`OSError` text on failure (`[Errno 2] No such file or directory: 'x.csv'`).
`sg_read_csv(path, &data)` is `trainer_helpers._read_csv`: the same CSV
dialect as Python's `csv.reader(..., strict=True)` (quotes, doubled quotes,
`\\r`, `\\n` and `\\r\\n` line ends, quoted fields over several lines, the
131072-character field limit), the same header, blank-line, BOM, field
count, number and label rules, and the same one-line messages naming the
file and the line a row starts on. It needs `trainer_text.TEXT`.
"""

CSV = r"""/* ------------------------------------------------------------ files */

/* The whole file at `path` (as open(path, "rb").read()), or -1 with
   Python's OSError message. */
static int sg_read_file(const char *path, sg_buf *out)
{
    char chunk[65536];
    struct stat info;
    int fd = open(path, O_RDONLY);
    out->len = 0;
    sg_puts(out, "");
    if (fd < 0) {
        int e = errno;
        return sg_fail("[Errno %d] %s: %s", e, strerror(e), sg_repr_whole(path));
    }
    if (fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
        close(fd);
        return sg_fail("[Errno %d] %s: %s", EISDIR, strerror(EISDIR),
                       sg_repr_whole(path));
    }
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0) {
            int e = errno;
            if (e == EINTR) {
                continue;
            }
            close(fd);
            return sg_fail("[Errno %d] %s", e, strerror(e));
        }
        if (got == 0) {
            break;
        }
        sg_put(out, chunk, (size_t)got);
    }
    close(fd);
    return 0;
}

/* The byte offset of the first invalid UTF-8 sequence in s[0..n), or n. */
static size_t sg_utf8_error(const char *s, size_t n)
{
    size_t i = 0, len;
    while (i < n) {
        len = sg_utf8_len((const unsigned char *)s + i, n - i);
        if (len == 0) {
            return i;
        }
        i += len;
    }
    return n;
}

static size_t sg_count_newlines(const char *s, size_t n)
{
    size_t i, count = 0;
    for (i = 0; i < n; i++) {
        count += s[i] == '\n';
    }
    return count;
}

/* Why a file may not read as UTF-8 (trainer_helpers._encoding_hint). */
static const char *sg_encoding_hint(const char *raw, size_t n)
{
    const unsigned char *u = (const unsigned char *)raw;
    int utf16 = n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE
        && u[1] == 0xFF));
    if (!utf16 && memchr(raw, 0, n < 200 ? n : 200) != NULL) {
        utf16 = 1;
    }
    return utf16 ? " (it looks like UTF-16: save it as UTF-8)"
                 : " (save it as UTF-8; cp1252 and Latin-1 files are not read)";
}

/* ------------------------------------------------------------ CSV */

typedef struct {
    long rows;        /* data rows */
    long width;       /* fields per row: the features, then the label */
    double *features; /* rows * (width - 1), row-major */
    double *labels;   /* rows, -1/+1 */
} sg_data;

typedef struct {
    sg_buf text;     /* every field, each followed by a NUL */
    size_t *start;   /* field k starts at text.data + start[k] */
    size_t *length;  /* and has length[k] bytes */
    size_t fields;
    size_t field_cap;
    size_t length_cap;
    size_t *first;   /* row r: its first field */
    size_t *count;   /* its number of fields */
    long *line;      /* the line it starts on */
    size_t rows;
    size_t row_cap[3];
} sg_rows;

static void sg_add_field(sg_rows *t, const char *s, size_t n)
{
    t->start = sg_grow(t->start, &t->field_cap, t->fields + 1, sizeof(size_t));
    t->length = sg_grow(t->length, &t->length_cap, t->fields + 1, sizeof(size_t));
    t->start[t->fields] = t->text.len;
    t->length[t->fields] = n;
    sg_put(&t->text, s, n);
    sg_putc(&t->text, '\0');
    t->fields++;
}

static const char *sg_field(const sg_rows *t, size_t k)
{
    return t->text.data + t->start[k];
}

/* Whether a field holds anything but Python's whitespace (field.strip()). */
static int sg_blank(const char *s, size_t n)
{
    size_t i = 0, len;
    while (i < n) {
        if (!sg_is_space(sg_code_point((const unsigned char *)s + i, n - i, &len))) {
            return 0;
        }
        i += len;
    }
    return 1;
}

enum { SG_START_RECORD, SG_START_FIELD, SG_IN_FIELD, SG_IN_QUOTED, SG_QUOTE_IN_QUOTED,
    SG_EAT_CRNL };

#define SG_FIELD_LIMIT 131072

/* Append byte `c` to `field`, counting characters (UTF-8 lead bytes) as
   csv's field_size_limit does; 0, appending nothing, past the limit. */
static int sg_field_char(sg_buf *field, size_t *chars, char c)
{
    if (((unsigned char)c & 0xC0) != 0x80 && (*chars)++ >= SG_FIELD_LIMIT) {
        return 0;
    }
    sg_putc(field, c);
    return 1;
}

/* The rows of CSV `text` (UTF-8, without its BOM) as Python's csv.reader
   reads them (excel dialect, strict), keeping those with a non-blank field;
   or -1 with trainer_helpers' message. */
static int sg_csv_rows(const char *path, const char *text, size_t n, sg_rows *t)
{
    sg_buf field = {0, 0, 0};
    size_t pos = 0, row_first, chars = 0, i;
    long line_num = 0, start = 1;
    int state;
    for (;;) {
        /* One row: lines until the state machine is back at a record's
           start (a quoted field may hold line ends). */
        if (pos >= n) {
            break;
        }
        state = SG_START_RECORD;
        row_first = t->fields;
        field.len = 0;
        chars = 0;
        do {
            size_t end = pos;
            const char *why = NULL;
            if (pos >= n) {
                if (field.len != 0 || state == SG_IN_QUOTED) {
                    why = "unexpected end of data";
                } else {
                    /* csv.reader ends: the fields so far are dropped */
                    t->fields = row_first;
                    state = SG_START_RECORD;
                    break;
                }
            }
            if (why == NULL) {
                /* The line: up to and with \n, \r\n or a lone \r. */
                while (end < n && text[end] != '\n' && text[end] != '\r') {
                    end++;
                }
                if (end + 1 < n && text[end] == '\r' && text[end + 1] == '\n') {
                    end += 2;
                } else if (end < n) {
                    end += 1;
                }
                line_num++;
            }
            for (i = pos; why == NULL && i <= end; i++) {
                int eol = i == end;
                char c = eol ? '\0' : text[i];
                int newline = !eol && (c == '\n' || c == '\r');
                switch (state) {
                case SG_START_RECORD:
                    if (eol) {
                        break;
                    }
                    if (newline) {
                        state = SG_EAT_CRNL;
                        break;
                    }
                    state = SG_START_FIELD;
                    /* fall through */
                case SG_START_FIELD:
                    if (newline || eol) {
                        sg_add_field(t, field.data ? field.data : "", field.len);
                        field.len = 0;
                        chars = 0;
                        state = eol ? SG_START_RECORD : SG_EAT_CRNL;
                    } else if (c == '"') {
                        state = SG_IN_QUOTED;
                    } else if (c == ',') {
                        sg_add_field(t, "", 0);
                    } else {
                        sg_putc(&field, c);
                        chars += ((unsigned char)c & 0xC0) != 0x80;
                        state = SG_IN_FIELD;
                    }
                    break;
                case SG_IN_FIELD:
                    if (newline || eol || c == ',') {
                        sg_add_field(t, field.data, field.len);
                        field.len = 0;
                        chars = 0;
                        state = c == ',' ? SG_START_FIELD : eol ? SG_START_RECORD
                            : SG_EAT_CRNL;
                    } else if (!sg_field_char(&field, &chars, c)) {
                        why = "field larger than field limit (131072)";
                    }
                    break;
                case SG_IN_QUOTED:
                    if (eol) {
                        break;
                    }
                    if (c == '"') {
                        state = SG_QUOTE_IN_QUOTED;
                    } else if (!sg_field_char(&field, &chars, c)) {
                        why = "field larger than field limit (131072)";
                    }
                    break;
                case SG_QUOTE_IN_QUOTED:
                    if (c == '"' && !eol) {
                        if (!sg_field_char(&field, &chars, c)) {
                            why = "field larger than field limit (131072)";
                            break;
                        }
                        state = SG_IN_QUOTED;
                    } else if (c == ',' && !eol) {
                        sg_add_field(t, field.data ? field.data : "", field.len);
                        field.len = 0;
                        chars = 0;
                        state = SG_START_FIELD;
                    } else if (newline || eol) {
                        sg_add_field(t, field.data ? field.data : "", field.len);
                        field.len = 0;
                        chars = 0;
                        state = eol ? SG_START_RECORD : SG_EAT_CRNL;
                    } else {
                        why = "',' expected after '\"'";
                    }
                    break;
                default: /* SG_EAT_CRNL */
                    if (eol) {
                        state = SG_START_RECORD;
                    } else if (!newline) {
                        why = "new-line character seen in unquoted field - do you "
                              "need to open the file with newline=''?";
                    }
                    break;
                }
            }
            pos = end;
            if (why != NULL) {
                int open_quote = strstr(why, "field larger") != NULL
                                 || strstr(why, "end of data") != NULL;
                free(field.data);
                return sg_fail("%s: line %ld: not CSV: %s%s", path, start, why,
                               open_quote ? " (is a quote left open?)" : "");
            }
        } while (state != SG_START_RECORD);
        {
            size_t k;
            int keep = 0;
            for (k = row_first; k < t->fields; k++) {
                keep |= !sg_blank(sg_field(t, k), t->length[k]);
            }
            if (keep) {
                t->first = sg_grow(t->first, &t->row_cap[0], t->rows + 1,
                                   sizeof(size_t));
                t->count = sg_grow(t->count, &t->row_cap[1], t->rows + 1,
                                   sizeof(size_t));
                t->line = sg_grow(t->line, &t->row_cap[2], t->rows + 1, sizeof(long));
                t->first[t->rows] = row_first;
                t->count[t->rows] = t->fields - row_first;
                t->line[t->rows] = start;
                t->rows++;
            } else {
                t->fields = row_first;
            }
        }
        start = line_num + 1;
    }
    free(field.data);
    return 0;
}

/* (features, labels) from the CSV file `path`: trainer_helpers._read_csv. */
static int sg_read_csv(const char *path, sg_data *data)
{
    sg_buf raw = {0, 0, 0};
    sg_rows t;
    const char *text;
    size_t n, bad, r, k, first_row = 0;
    long width, cols;
    int zero_one = 0;
    memset(&t, 0, sizeof t);
    if (sg_read_file(path, &raw) < 0) {
        return -1;
    }
    text = raw.data;
    n = raw.len;
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        n -= 3;
    }
    bad = sg_utf8_error(text, n);
    if (bad < n) {
        /* As Python: the offset counts from after the BOM, the newlines
           from the start of the file. */
        return sg_fail("%s: line %lu: not UTF-8 text%s", path,
                       (unsigned long)(sg_count_newlines(raw.data, bad) + 1),
                       sg_encoding_hint(raw.data, raw.len));
    }
    {
        const char *nul = memchr(text, 0, n);
        if (nul != NULL) {
            size_t line = sg_count_newlines(text, (size_t)(nul - text)) + 1;
            return sg_fail("%s: line %lu: holds a NUL character%s", path,
                           (unsigned long)line, sg_encoding_hint(raw.data, raw.len));
        }
    }
    if (sg_csv_rows(path, text, n, &t) < 0) {
        return -1;
    }
    if (t.rows > 0) {
        double ignored;
        int numbers = 1;
        for (k = 0; k < t.count[0]; k++) {
            size_t f = t.first[0] + k;
            numbers &= sg_parse_float(sg_field(&t, f), t.length[f], &ignored);
        }
        if (!numbers) {
            first_row = 1; /* a header */
        }
    }
    if (t.rows <= first_row) {
        return sg_fail("%s: no data rows", path);
    }
    width = (long)t.count[first_row];
    if (width < 2) {
        return sg_fail("%s: line %ld has one field; a row needs features and a label",
                       path, t.line[first_row]);
    }
    cols = width - 1;
    data->rows = (long)(t.rows - first_row);
    data->width = width;
    data->features = sg_alloc((size_t)data->rows, (size_t)cols * sizeof(double));
    data->labels = sg_alloc((size_t)data->rows, sizeof(double));
    for (r = first_row; r < t.rows; r++) {
        size_t i = r - first_row;
        if ((long)t.count[r] != width) {
            return sg_fail("%s: line %ld has %lu fields, line %ld has %ld", path,
                           t.line[r], (unsigned long)t.count[r], t.line[first_row],
                           width);
        }
        for (k = 0; k < (size_t)width; k++) {
            size_t f = t.first[r] + k;
            double v;
            if (!sg_parse_float(sg_field(&t, f), t.length[f], &v)) {
                return sg_fail("%s: line %ld: %s is not a number", path, t.line[r],
                               sg_shown_str(0, sg_field(&t, f), t.length[f]));
            }
            if (k < (size_t)cols) {
                data->features[i * (size_t)cols + k] = v;
            } else {
                data->labels[i] = v;
            }
        }
    }
    /* Labels are -1/+1, or all 0/1 (read as -1/+1). */
    for (r = 0; r < (size_t)data->rows; r++) {
        zero_one |= data->labels[r] == 0.0;
    }
    for (r = 0; r < (size_t)data->rows; r++) {
        double v = data->labels[r];
        int ok = zero_one ? (v == 0.0 || v == 1.0) : (v == -1.0 || v == 1.0);
        if (!ok) {
            return sg_fail("%s: line %ld: the label %s is not %s", path,
                           t.line[first_row + r], sg_repr_of(0, v),
                           zero_one ? "0/1 like the others" : "-1/+1 (or 0/1)");
        }
        if (zero_one) {
            data->labels[r] = 2.0 * v - 1.0;
        }
    }
    free(raw.data);
    free(t.text.data);
    free(t.start);
    free(t.length);
    free(t.first);
    free(t.count);
    free(t.line);
    return 0;
}
"""
