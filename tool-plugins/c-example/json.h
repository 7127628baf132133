/*
 * json.h - the little JSON this plugin needs, and no more: reading the members of one object
 * (strict RFC 8259 syntax, nesting bounded, never reading past the end of the input) and
 * writing replies into a growable buffer. A plugin with more to parse would use a JSON library
 * (cJSON, jansson, yyjson); this one keeps the example free of dependencies.
 */
#ifndef C_EXAMPLE_JSON_H
#define C_EXAMPLE_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Input not yet read: [p, end). Text from the host is not NUL-terminated. */
typedef struct json_cursor {
    const uint8_t *p;
    const uint8_t *end;
} json_cursor;

/* The outcome of a read; JSON_OK is 0 so that `if (err)` reads naturally. */
typedef enum json_error {
    JSON_OK = 0,
    JSON_END,       /* json_next_member: the object has no more members */
    JSON_SYNTAX,    /* not JSON, or not the JSON asked for (trailing bytes, not a number) */
    JSON_TOO_DEEP,  /* nested deeper than JSON_MAX_DEPTH */
    JSON_NOT_OBJECT,
    JSON_NO_MEMORY
} json_error;

/* Arrays and objects nested deeper than this are refused: the reader recurses. */
#define JSON_MAX_DEPTH 64

/* One member of an object: the key's raw contents (between the quotes, escapes not decoded)
 * and the value's raw JSON text. Both point into the input. */
typedef struct json_member {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
} json_member;

/* Reads an object that must be the whole input, one member at a time. */
typedef struct json_object {
    json_cursor rest; /* after the last member read */
    int members;      /* members read so far */
} json_object;

/* Starts reading `input`: JSON_NOT_OBJECT when it is some other JSON value, JSON_SYNTAX when
 * it is not JSON (empty input included). */
json_error json_open_object(json_cursor input, json_object *object);
/* The next member into `member`, or JSON_END after the closing brace when nothing but
 * whitespace follows it, or why the input is not a well-formed object. Not to be called again
 * after it returned anything but JSON_OK. */
json_error json_next_member(json_object *object, json_member *member);

/* Whether the raw key contents `key` (escapes decoded as they are compared) spell exactly the
 * ASCII `name`. */
int json_key_is(const uint8_t *key, size_t key_len, const char *name);

/* Reads `raw`, the whole raw text of a value, as a JSON number: JSON_SYNTAX when it is
 * something else, JSON_NO_MEMORY when a copy could not be made. */
json_error json_number(const uint8_t *raw, size_t len, double *out);

/* A growable UTF-8 buffer that remembers an allocation failure instead of reporting each one. */
typedef struct json_writer {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; the contents are then incomplete */
} json_writer;

/* Appends bytes as they are (JSON syntax the caller wrote). */
void json_raw(json_writer *w, const char *text);
void json_raw_n(json_writer *w, const uint8_t *bytes, size_t len);
/* Appends `len` bytes of UTF-8 text escaped as the contents of a JSON string (no quotes). */
void json_escaped(json_writer *w, const uint8_t *text, size_t len);
/* Appends a finite number in a form that reads back to the same double. */
void json_double(json_writer *w, double value);

#endif /* C_EXAMPLE_JSON_H */
