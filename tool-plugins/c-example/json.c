/*
 * json.c - see json.h. Every read checks the cursor against the end of the input first: the
 * host's text is not NUL-terminated, so no function of <string.h> that looks for a NUL may
 * run on it.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void skip_ws(json_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) {
        c->p++;
    }
}

static int at(const json_cursor *c, uint8_t byte) {
    return c->p < c->end && *c->p == byte;
}

static int hex_value(uint8_t b) {
    if (b >= '0' && b <= '9') return b - '0';
    if (b >= 'a' && b <= 'f') return b - 'a' + 10;
    if (b >= 'A' && b <= 'F') return b - 'A' + 10;
    return -1;
}

/* Skips the digits at the cursor; returns how many there were. */
static size_t skip_digits(json_cursor *c) {
    size_t n = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        c->p++;
        n++;
    }
    return n;
}

/* Skips a string whose opening quote is at the cursor, through its closing quote. */
static json_error skip_string(json_cursor *c) {
    c->p++;
    while (c->p < c->end) {
        uint8_t b = *c->p++;
        if (b == '"') return JSON_OK;
        if (b < 0x20) return JSON_SYNTAX; /* control characters must be escaped */
        if (b != '\\') continue;
        if (c->p >= c->end) return JSON_SYNTAX;
        switch (*c->p++) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            break;
        case 'u':
            for (int i = 0; i < 4; i++) {
                if (c->p >= c->end || hex_value(*c->p) < 0) return JSON_SYNTAX;
                c->p++;
            }
            break;
        default:
            return JSON_SYNTAX;
        }
    }
    return JSON_SYNTAX;
}

/* Skips a number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static json_error skip_number(json_cursor *c) {
    if (at(c, '-')) c->p++;
    if (at(c, '0')) {
        c->p++;
    } else if (c->p < c->end && *c->p >= '1' && *c->p <= '9') {
        skip_digits(c);
    } else {
        return JSON_SYNTAX;
    }
    if (at(c, '.')) {
        c->p++;
        if (skip_digits(c) == 0) return JSON_SYNTAX;
    }
    if (at(c, 'e') || at(c, 'E')) {
        c->p++;
        if (at(c, '+') || at(c, '-')) c->p++;
        if (skip_digits(c) == 0) return JSON_SYNTAX;
    }
    return JSON_OK;
}

static json_error skip_literal(json_cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return JSON_SYNTAX;
    c->p += n;
    return JSON_OK;
}

static json_error skip_value(json_cursor *c, int depth);

/* Skips an array or object whose opening bracket is at the cursor. */
static json_error skip_container(json_cursor *c, int depth, uint8_t close, int keyed) {
    if (depth >= JSON_MAX_DEPTH) return JSON_TOO_DEEP;
    c->p++;
    skip_ws(c);
    if (at(c, close)) {
        c->p++;
        return JSON_OK;
    }
    for (;;) {
        json_error err;
        if (keyed) {
            if (!at(c, '"')) return JSON_SYNTAX;
            if ((err = skip_string(c))) return err;
            skip_ws(c);
            if (!at(c, ':')) return JSON_SYNTAX;
            c->p++;
        }
        if ((err = skip_value(c, depth + 1))) return err;
        skip_ws(c);
        if (at(c, close)) {
            c->p++;
            return JSON_OK;
        }
        if (!at(c, ',')) return JSON_SYNTAX;
        c->p++;
        skip_ws(c);
    }
}

/* Skips one value (and the whitespace before it); `depth` counts the containers around it. */
static json_error skip_value(json_cursor *c, int depth) {
    skip_ws(c);
    if (c->p >= c->end) return JSON_SYNTAX;
    switch (*c->p) {
    case '"': return skip_string(c);
    case '{': return skip_container(c, depth, '}', 1);
    case '[': return skip_container(c, depth, ']', 0);
    case 't': return skip_literal(c, "true");
    case 'f': return skip_literal(c, "false");
    case 'n': return skip_literal(c, "null");
    default: return skip_number(c);
    }
}

json_error json_open_object(json_cursor input, json_object *object) {
    skip_ws(&input);
    object->members = 0;
    object->rest = input;
    if (at(&input, '{')) {
        object->rest.p++;
        return JSON_OK;
    }
    /* Not an object: tell other JSON from no JSON, for a precise message. */
    json_error err = skip_value(&input, 0);
    skip_ws(&input);
    if (err) return err;
    return input.p == input.end ? JSON_NOT_OBJECT : JSON_SYNTAX;
}

json_error json_next_member(json_object *object, json_member *member) {
    json_cursor *c = &object->rest;
    json_error err;
    skip_ws(c);
    if (at(c, '}')) {
        c->p++;
        skip_ws(c);
        return c->p == c->end ? JSON_END : JSON_SYNTAX;
    }
    if (object->members > 0) {
        if (!at(c, ',')) return JSON_SYNTAX;
        c->p++;
        skip_ws(c);
    }
    if (!at(c, '"')) return JSON_SYNTAX;
    member->key = c->p + 1;
    if ((err = skip_string(c))) return err;
    member->key_len = (size_t)(c->p - 1 - member->key);
    skip_ws(c);
    if (!at(c, ':')) return JSON_SYNTAX;
    c->p++;
    skip_ws(c);
    member->value = c->p;
    if ((err = skip_value(c, 1))) return err;
    member->value_len = (size_t)(c->p - member->value);
    object->members++;
    return JSON_OK;
}

/* Decodes the escape after a backslash at key[*i] (a complete one: the key was read by
 * skip_string); returns the character's code, or -1 for one no ASCII name can equal. */
static long decode_escape(const uint8_t *key, size_t key_len, size_t *i) {
    uint8_t e = key[(*i)++];
    switch (e) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': {
        long code = 0;
        if (key_len - *i < 4) return -1;
        for (int k = 0; k < 4; k++) {
            int v = hex_value(key[(*i)++]);
            if (v < 0) return -1;
            code = code * 16 + v;
        }
        return code;
    }
    default: return e; /* '"', '\\', '/' */
    }
}

int json_key_is(const uint8_t *key, size_t key_len, const char *name) {
    const unsigned char *want = (const unsigned char *)name;
    size_t i = 0;
    while (i < key_len) {
        long code = key[i++];
        if (code == '\\') {
            if (i >= key_len) return 0;
            code = decode_escape(key, key_len, &i);
        }
        /* `name` is ASCII: a byte of a multi-byte character (>= 0x80) never matches. */
        if (*want == '\0' || code != *want) return 0;
        want++;
    }
    return *want == '\0';
}

json_error json_number(const uint8_t *raw, size_t len, double *out) {
    json_cursor c = {raw, raw + len};
    if (skip_number(&c) || c.p != c.end) return JSON_SYNTAX;
    /* strtod needs a NUL-terminated string. It reads '.' as the decimal point in the "C"
     * locale, which a process keeps unless it calls setlocale (fastmcp never does). */
    char *copy = malloc(len + 1);
    if (copy == NULL) return JSON_NO_MEMORY;
    memcpy(copy, raw, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    free(copy);
    return JSON_OK;
}

/* Makes room for `more` bytes; 0 (and `failed` set) when that cannot be done. */
static int reserve(json_writer *w, size_t more) {
    if (w->failed) return 0;
    if (more <= w->cap - w->len) return 1;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < more) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *grown = realloc(w->ptr, cap);
    if (grown == NULL) {
        w->failed = 1;
        return 0;
    }
    w->ptr = grown;
    w->cap = cap;
    return 1;
}

void json_raw_n(json_writer *w, const uint8_t *bytes, size_t len) {
    if (len == 0 || !reserve(w, len)) return;
    memcpy(w->ptr + w->len, bytes, len);
    w->len += len;
}

void json_raw(json_writer *w, const char *text) {
    json_raw_n(w, (const uint8_t *)text, strlen(text));
}

void json_escaped(json_writer *w, const uint8_t *text, size_t len) {
    size_t run = 0; /* start of the bytes not written yet, which need no escape */
    for (size_t i = 0; i < len; i++) {
        uint8_t b = text[i];
        if (b != '"' && b != '\\' && b >= 0x20) continue;
        json_raw_n(w, text + run, i - run);
        run = i + 1;
        char escape[8];
        switch (b) {
        case '"': json_raw(w, "\\\""); break;
        case '\\': json_raw(w, "\\\\"); break;
        case '\n': json_raw(w, "\\n"); break;
        case '\r': json_raw(w, "\\r"); break;
        case '\t': json_raw(w, "\\t"); break;
        default:
            snprintf(escape, sizeof escape, "\\u%04x", (unsigned)b);
            json_raw(w, escape);
        }
    }
    json_raw_n(w, text + run, len - run);
}

void json_double(json_writer *w, double value) {
    /* The shortest "%.*g" form that reads back as the same double: 0.1 + 0.2 is written as
     * 0.30000000000000004 and 5 as 5, as JavaScript would write them. */
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value) break;
    }
    json_raw(w, text);
}
