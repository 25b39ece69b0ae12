"""C runtime of a standalone trainer, part 1: text buffers, errors, Python's
reprs, Python's `float()` of a string, UTF-8 checks, and Python's `random`.

Contract: `TEXT` and `RANDOM` are C99 sources (static functions, names
starting `sg_`) that `codegen.c.trainer` copies into every trainer program.
They reproduce what the Python trainers do, so that both accept and reject
the same input with the same messages and draw the same minibatches:

- `sg_repr_str` / `sg_repr_double` / `sg_shown`: Python's `repr` of a str
  (quotes and escapes; a few rare non-ASCII characters Python prints as
  escapes are printed as they are), of a float (the shortest string that
  reads back, in Python's layout: `0.1`, `1e-05`, `1e+16`, `100.0`), and
  `_shown` (a repr cut to 40 characters).
- `sg_parse_float`: `float(str)` (whitespace around, `_` between digits,
  `inf`/`infinity`/`nan` in any case; ASCII digits only).
- `sg_utf8_len`: the length of a valid UTF-8 sequence as Python's decoder
  judges it (no overlong forms, no surrogates), 0 for an invalid one.
- `sg_seed` / `sg_randbelow` / `sg_shuffle`: CPython's `random.Random(seed)`
  (MT19937, `init_by_array` of the seed's 32-bit words), its `_randbelow`
  (`getrandbits(n.bit_length())` until below n) and `shuffle`, bit for bit.

Errors are one line in `sg_error` (the function returns -1); running out of
memory ends the program with status 2 and a one-line message.
"""

TEXT = r"""/* ------------------------------------------------------------ text */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} sg_buf;

static const char *sg_prog = "train";
static sg_buf sg_error;

static void sg_out_of_memory(void)
{
    fprintf(stderr, "%s: error: out of memory\n", sg_prog);
    exit(2);
}

static void *sg_alloc(size_t count, size_t size)
{
    void *p;
    if (size != 0 && count > SIZE_MAX / size) {
        sg_out_of_memory();
    }
    p = malloc(count * size > 0 ? count * size : 1);
    if (p == NULL) {
        sg_out_of_memory();
    }
    return p;
}

static void *sg_grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    if (need <= *cap) {
        return p;
    }
    while (n < need) {
        if (n > SIZE_MAX / 2 / size) {
            sg_out_of_memory();
        }
        n *= 2;
    }
    p = realloc(p, n * size);
    if (p == NULL) {
        sg_out_of_memory();
    }
    *cap = n;
    return p;
}

static void sg_put(sg_buf *b, const char *s, size_t n)
{
    b->data = sg_grow(b->data, &b->cap, b->len + n + 1, 1);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sg_puts(sg_buf *b, const char *s)
{
    sg_put(b, s, strlen(s));
}

static void sg_putc(sg_buf *b, char c)
{
    sg_put(b, &c, 1);
}

static void sg_vprintf(sg_buf *b, const char *fmt, va_list args)
{
    va_list again;
    int n;
    va_copy(again, args);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) {
        sg_out_of_memory();
    }
    b->data = sg_grow(b->data, &b->cap, b->len + (size_t)n + 1, 1);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, args);
    b->len += (size_t)n;
}

static void sg_printf(sg_buf *b, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    sg_vprintf(b, fmt, args);
    va_end(args);
}

/* Set the error message (one line); returns -1 for `return sg_fail(...)`. */
static int sg_fail(const char *fmt, ...)
{
    va_list args;
    sg_error.len = 0;
    va_start(args, fmt);
    sg_vprintf(&sg_error, fmt, args);
    va_end(args);
    return -1;
}

/* ------------------------------------------------------------ UTF-8 */

/* The length of the valid UTF-8 sequence at s[0] (n bytes left), or 0:
   Python's decoder refuses overlong forms, surrogates and > U+10FFFF. */
static size_t sg_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need, k;
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (k = 2; k <= need; k++) {
        if (s[k] < 0x80 || s[k] > 0xBF) {
            return 0;
        }
    }
    return need + 1;
}

/* The code point at s (well-formed UTF-8, surrogates allowed) and its
   length in *len. */
static unsigned long sg_code_point(const unsigned char *s, size_t n, size_t *len)
{
    unsigned long cp = s[0];
    size_t need = 0, k;
    if (cp >= 0xF0) {
        need = 3;
        cp &= 0x07;
    } else if (cp >= 0xE0) {
        need = 2;
        cp &= 0x0F;
    } else if (cp >= 0xC0) {
        need = 1;
        cp &= 0x1F;
    }
    if (need >= n) {
        need = 0;
    }
    for (k = 1; k <= need; k++) {
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    *len = need + 1;
    return cp;
}

static void sg_put_utf8(sg_buf *b, unsigned long cp)
{
    char out[4];
    if (cp < 0x80) {
        sg_putc(b, (char)cp);
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        sg_put(b, out, 2);
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        sg_put(b, out, 3);
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        sg_put(b, out, 4);
    }
}

/* Python's str.isspace() (the whitespace str.strip() and float() skip). */
static int sg_is_space(unsigned long cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85
        || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
        || cp == 0x3000;
}

/* Python's str.isprintable() for one character, for repr (the common
   non-printable ranges: controls, format characters, separators, private
   use). */
static int sg_is_printable(unsigned long cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) {
        return 0;
    }
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F)
        || (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF) {
        return 0;
    }
    if ((cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD || cp == 0x70F
        || cp == 0x180E || (cp >= 0xFFF9 && cp <= 0xFFFB) || cp == 0xFFFE
        || cp == 0xFFFF) {
        return 0;
    }
    if ((cp >= 0xD800 && cp <= 0xF8FF) || cp >= 0xF0000 || cp == 0xE0001
        || (cp >= 0xE0020 && cp <= 0xE007F)) {
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ reprs */

/* Python's repr() of the str s (n bytes of UTF-8). */
static void sg_repr_str(sg_buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    int single = 0, dbl = 0;
    char quote;
    size_t i, len;
    for (i = 0; i < n; i++) {
        single |= u[i] == '\'';
        dbl |= u[i] == '"';
    }
    quote = single && !dbl ? '"' : '\'';
    sg_putc(out, quote);
    for (i = 0; i < n; i += len) {
        unsigned long cp = sg_code_point(u + i, n - i, &len);
        if (cp == (unsigned long)quote || cp == '\\') {
            sg_putc(out, '\\');
            sg_putc(out, (char)cp);
        } else if (cp == '\t') {
            sg_puts(out, "\\t");
        } else if (cp == '\n') {
            sg_puts(out, "\\n");
        } else if (cp == '\r') {
            sg_puts(out, "\\r");
        } else if (sg_is_printable(cp)) {
            sg_put_utf8(out, cp);
        } else if (cp < 0x100) {
            sg_printf(out, "\\x%02lx", cp);
        } else if (cp < 0x10000) {
            sg_printf(out, "\\u%04lx", cp);
        } else {
            sg_printf(out, "\\U%08lx", cp);
        }
    }
    sg_putc(out, quote);
}

/* Step the decimal digits d[0..nd) by one unit in the last place (dir +1
   or -1), keeping nd digits; the exponent moves on a carry or a borrow. */
static void sg_step_digits(char *d, int nd, int *exp10, int dir)
{
    int k = nd - 1;
    while (k >= 0) {
        if (dir > 0 && d[k] == '9') {
            d[k--] = '0';
        } else if (dir < 0 && d[k] == '0') {
            d[k--] = '9';
        } else {
            d[k] = (char)(d[k] + dir);
            break;
        }
    }
    if (k < 0 && dir > 0) { /* 99..9 + 1 = 100..0 */
        d[0] = '1';
        (*exp10)++;
    } else if (dir < 0 && d[0] == '0') { /* 100..0 - 1 = 099..9 */
        memmove(d, d + 1, (size_t)(nd - 1));
        d[nd - 1] = '9';
        (*exp10)--;
    }
}

/* Whether the digits d[0..nd) times 10^(exp10 - nd + 1) read back as x. */
static int sg_reads_back(const char *d, int nd, int exp10, double x)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%c%.*se%d", x < 0 ? '-' : '+', nd, d, exp10 - nd + 1);
    return strtod(tmp, NULL) == x;
}

/* Python's repr() of a float: the shortest digits that read back, and of
   those the nearest (the correctly rounded %.*e at the first precision where
   it or a neighbour in its last digit reads back: at a power of two the
   values that read back lie unevenly around x), laid out as Python does
   (fixed notation for exponents -4..15, else 1e-05 / 1e+16). */
static void sg_repr_double(sg_buf *out, double x)
{
    char tmp[48], digits[24], trial[24];
    const char *s;
    int p, nd = 0, exp10 = 0, decpt, k, found = 0;
    if (x != x) {
        sg_puts(out, "nan");
        return;
    }
    if (isinf(x)) {
        sg_puts(out, x > 0 ? "inf" : "-inf");
        return;
    }
    if (x == 0.0) {
        sg_puts(out, signbit(x) ? "-0.0" : "0.0");
        return;
    }
    for (p = 0; p < 17 && !found; p++) {
        int dir;
        snprintf(tmp, sizeof tmp, "%.*e", p, x);
        nd = 0;
        for (s = tmp; *s != 'e' && *s != '\0'; s++) {
            if (*s >= '0' && *s <= '9' && nd < 20) {
                digits[nd++] = *s;
            }
        }
        exp10 = *s == 'e' ? atoi(s + 1) : 0;
        found = sg_reads_back(digits, nd, exp10, x);
        for (dir = 1; dir >= -1 && !found; dir -= 2) {
            int e = exp10;
            memcpy(trial, digits, (size_t)nd);
            sg_step_digits(trial, nd, &e, dir);
            if (sg_reads_back(trial, nd, e, x)) {
                memcpy(digits, trial, (size_t)nd);
                exp10 = e;
                found = 1;
            }
        }
    }
    if (x < 0) {
        sg_putc(out, '-');
    }
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    decpt = exp10 + 1;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            sg_puts(out, "0.");
            for (k = 0; k < -decpt; k++) {
                sg_putc(out, '0');
            }
            sg_put(out, digits, (size_t)nd);
        } else if (decpt >= nd) {
            sg_put(out, digits, (size_t)nd);
            for (k = nd; k < decpt; k++) {
                sg_putc(out, '0');
            }
            sg_puts(out, ".0");
        } else {
            sg_put(out, digits, (size_t)decpt);
            sg_putc(out, '.');
            sg_put(out, digits + decpt, (size_t)(nd - decpt));
        }
    } else {
        sg_putc(out, digits[0]);
        if (nd > 1) {
            sg_putc(out, '.');
            sg_put(out, digits + 1, (size_t)(nd - 1));
        }
        sg_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

/* A repr cut as the Python trainers' _shown does: at most 40 characters,
   else its first 37 and "...". Works on text `b` in place. */
static void sg_cut(sg_buf *b)
{
    size_t i = 0, chars = 0, cut = 0, len;
    while (i < b->len) {
        if (chars == 37) {
            cut = i;
        }
        sg_code_point((const unsigned char *)b->data + i, b->len - i, &len);
        i += len;
        chars++;
    }
    if (chars > 40) {
        b->len = cut;
        sg_puts(b, "...");
    }
}

/* _shown of a str: its repr, cut. The result lives until the next call
   with the same slot (0..3). */
static const char *sg_shown_str(int slot, const char *s, size_t n)
{
    static sg_buf bufs[4];
    sg_buf *b = &bufs[slot];
    b->len = 0;
    sg_puts(b, "");
    sg_repr_str(b, s, n);
    sg_cut(b);
    return b->data;
}

/* Python's repr of a str, whole (for OSError messages). */
static const char *sg_repr_whole(const char *s)
{
    static sg_buf b;
    b.len = 0;
    sg_puts(&b, "");
    sg_repr_str(&b, s, strlen(s));
    return b.data;
}

static const char *sg_repr_of(int slot, double x)
{
    static sg_buf bufs[4];
    sg_buf *b = &bufs[slot];
    b->len = 0;
    sg_puts(b, "");
    sg_repr_double(b, x);
    return b->data;
}

/* ------------------------------------------------------------ float() */

/* Python's float(s) for the n bytes at s (UTF-8): 1 and the value in *out,
   or 0 when Python would raise ValueError. */
static int sg_parse_float(const char *s, size_t n, double *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, b = n, len, i, k;
    char *clean, *end;
    int digits = 0, ok;
    /* Strip Python's whitespace at both ends. */
    while (a < b) {
        unsigned long cp = sg_code_point(u + a, b - a, &len);
        if (!sg_is_space(cp)) {
            break;
        }
        a += len;
    }
    while (b > a) {
        size_t start = b - 1;
        while (start > a && (u[start] & 0xC0) == 0x80) {
            start--;
        }
        if (!sg_is_space(sg_code_point(u + start, b - start, &len))) {
            break;
        }
        b = start;
    }
    clean = sg_alloc(b - a + 1, 1);
    k = 0;
    for (i = a; i < b; i++) {
        if (u[i] >= 0x80) {
            free(clean);
            return 0; /* not ASCII: not a number here */
        }
        if (u[i] == '_') {
            /* only between two digits */
            if (i == a || i + 1 >= b || !isdigit(u[i - 1]) || !isdigit(u[i + 1])) {
                free(clean);
                return 0;
            }
            continue;
        }
        clean[k++] = (char)u[i];
    }
    clean[k] = '\0';
    /* The grammar: sign, then inf / infinity / nan, or digits with an
       optional point and exponent (at least one digit before it). */
    i = 0;
    if (clean[i] == '+' || clean[i] == '-') {
        i++;
    }
    {
        const char *rest = clean + i;
        const char *names[3] = {"inf", "infinity", "nan"};
        int m;
        for (m = 0; m < 3; m++) {
            size_t q = 0;
            while (names[m][q] != '\0'
                   && tolower((unsigned char)rest[q]) == names[m][q]) {
                q++;
            }
            if (names[m][q] == '\0' && rest[q] == '\0') {
                *out = m == 2 ? NAN : INFINITY;
                if (clean[0] == '-') {
                    *out = -*out;
                }
                free(clean);
                return 1;
            }
        }
    }
    while (isdigit((unsigned char)clean[i])) {
        i++;
        digits++;
    }
    if (clean[i] == '.') {
        i++;
        while (isdigit((unsigned char)clean[i])) {
            i++;
            digits++;
        }
    }
    ok = digits > 0;
    if (ok && (clean[i] == 'e' || clean[i] == 'E')) {
        size_t e = i + 1;
        if (clean[e] == '+' || clean[e] == '-') {
            e++;
        }
        if (!isdigit((unsigned char)clean[e])) {
            ok = 0;
        }
        while (isdigit((unsigned char)clean[e])) {
            e++;
        }
        i = e;
    }
    ok = ok && clean[i] == '\0';
    if (ok) {
        *out = strtod(clean, &end);
    }
    free(clean);
    return ok;
}
"""

RANDOM = r"""/* ------------------------------------------------------------ random */

/* CPython's random.Random: MT19937 seeded by init_by_array with the 32-bit
   words of abs(seed), least significant first (one word 0 for seed 0). */
static uint32_t sg_mt[624];
static int sg_mti = 625;

static void sg_init_genrand(uint32_t s)
{
    sg_mt[0] = s;
    for (sg_mti = 1; sg_mti < 624; sg_mti++) {
        sg_mt[sg_mti] = (uint32_t)(1812433253UL * (sg_mt[sg_mti - 1]
                                                   ^ (sg_mt[sg_mti - 1] >> 30))
                                   + (uint32_t)sg_mti);
    }
}

static void sg_init_by_array(const uint32_t *key, size_t len)
{
    size_t i = 1, j = 0, k;
    sg_init_genrand(19650218UL);
    for (k = 624 > len ? 624 : len; k > 0; k--) {
        sg_mt[i] = (sg_mt[i] ^ ((sg_mt[i - 1] ^ (sg_mt[i - 1] >> 30)) * 1664525UL))
                   + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= 624) {
            sg_mt[0] = sg_mt[623];
            i = 1;
        }
        if (j >= len) {
            j = 0;
        }
    }
    for (k = 623; k > 0; k--) {
        sg_mt[i] = (sg_mt[i] ^ ((sg_mt[i - 1] ^ (sg_mt[i - 1] >> 30)) * 1566083941UL))
                   - (uint32_t)i;
        i++;
        if (i >= 624) {
            sg_mt[0] = sg_mt[623];
            i = 1;
        }
    }
    sg_mt[0] = 0x80000000UL;
}

static uint32_t sg_genrand(void)
{
    uint32_t y;
    int kk;
    if (sg_mti >= 624) {
        for (kk = 0; kk < 624 - 397; kk++) {
            y = (sg_mt[kk] & 0x80000000UL) | (sg_mt[kk + 1] & 0x7fffffffUL);
            sg_mt[kk] = sg_mt[kk + 397] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfUL : 0U);
        }
        for (; kk < 623; kk++) {
            y = (sg_mt[kk] & 0x80000000UL) | (sg_mt[kk + 1] & 0x7fffffffUL);
            sg_mt[kk] = sg_mt[kk + (397 - 624)] ^ (y >> 1)
                        ^ ((y & 1U) ? 0x9908b0dfUL : 0U);
        }
        y = (sg_mt[623] & 0x80000000UL) | (sg_mt[0] & 0x7fffffffUL);
        sg_mt[623] = sg_mt[396] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfUL : 0U);
        sg_mti = 0;
    }
    y = sg_mt[sg_mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680UL;
    y ^= (y << 15) & 0xefc60000UL;
    y ^= (y >> 18);
    return y;
}

/* random.Random(seed) for the decimal integer `text` (checked already:
   an optional sign, then digits). */
static void sg_seed(const char *text)
{
    uint32_t *words = sg_alloc(strlen(text) / 9 + 2, sizeof(uint32_t));
    size_t used = 1, k;
    words[0] = 0;
    for (; *text != '\0'; text++) {
        uint64_t carry;
        if (!isdigit((unsigned char)*text)) {
            continue;
        }
        carry = (uint64_t)(*text - '0');
        for (k = 0; k < used; k++) {
            uint64_t v = (uint64_t)words[k] * 10U + carry;
            words[k] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry != 0) {
            words[used++] = (uint32_t)carry;
        }
    }
    while (used > 1 && words[used - 1] == 0) {
        used--;
    }
    sg_init_by_array(words, used);
    free(words);
}

/* random.Random._randbelow(n) for n >= 1: getrandbits(n.bit_length())
   until the draw is below n. */
static uint64_t sg_randbelow(uint64_t n)
{
    int bits = 0;
    uint64_t r;
    while (bits < 64 && (n >> bits) != 0) {
        bits++;
    }
    do {
        if (bits <= 32) {
            r = sg_genrand() >> (32 - bits);
        } else {
            /* getrandbits(k > 32): 32-bit words, least significant first,
               the last one cut to the bits that are left. */
            uint64_t low = sg_genrand();
            uint64_t high = sg_genrand() >> (64 - bits);
            r = low | (high << 32);
        }
    } while (r >= n);
    return r;
}

/* random.Random.shuffle of x[0..n-1]. */
static void sg_shuffle(long *x, long n)
{
    long i;
    for (i = n - 1; i >= 1; i--) {
        long j = (long)sg_randbelow((uint64_t)i + 1);
        long t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}
"""
