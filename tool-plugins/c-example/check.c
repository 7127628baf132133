/*
 * check.c - `make check`: drives the plugin's table directly, the way the host does, with the
 * inputs the host never sends (malformed or truncated JSON, a short tool call), under
 * AddressSanitizer and UndefinedBehaviorSanitizer. Every input sits in a buffer of exactly its
 * length, with no NUL after it, so a read past the end is caught; every reply is freed with
 * the table's free_buf, so a reply the plugin leaks, or frees twice, is caught too.
 */
#include <fastmcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static int failures;

static void fail(const char *what, const char *input, const fastmcp_buf *reply) {
    failures++;
    fprintf(stderr, "FAIL %s\n  input: %s\n  reply: %.*s\n", what, input,
            reply ? (int)reply->len : 0, reply && reply->ptr ? (const char *)reply->ptr : "");
}

/* A copy of `text` in a heap block of exactly its length: no NUL after it. */
static uint8_t *exact_copy(const char *text, size_t len) {
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) abort();
    memcpy(copy, text, len);
    return copy;
}

/* Whether the reply is one well-formed JSON object (what the host requires). */
static int is_object(const fastmcp_buf *reply) {
    json_object object;
    json_member member;
    json_cursor all = {reply->ptr, reply->ptr + reply->len};
    json_error err = json_open_object(all, &object);
    while (!err) err = json_next_member(&object, &member);
    return err == JSON_END;
}

static int contains(const fastmcp_buf *reply, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; n <= reply->len && i <= reply->len - n; i++) {
        if (memcmp(reply->ptr + i, needle, n) == 0) return 1;
    }
    return 0;
}

/* Calls tool `name` with `arguments` (its first `len` bytes) and checks the status and that
 * the reply is an object containing `needle`. */
static void expect_n(const char *name, const char *arguments, size_t len, int32_t status,
                     const char *needle) {
    const fastmcp_plugin_table *table = fastmcp_plugin_entry();
    uint8_t *args = exact_copy(arguments, len);
    uint8_t *tool = exact_copy(name, strlen(name));
    fastmcp_tool_call call = {sizeof call, {tool, strlen(name)}, {args, len}, {NULL, 0},
                              {NULL, 0}};
    fastmcp_buf out = {NULL, 0, 0};
    int32_t got = table->call_tool(NULL, &call, &out);
    if (got != status) fail("status", arguments, &out);
    if (!is_object(&out)) fail("reply is not a JSON object", arguments, &out);
    if (!contains(&out, needle)) fail(needle, arguments, &out);
    table->free_buf(out);
    free(args);
    free(tool);
}

static void expect(const char *arguments, int32_t status, const char *needle) {
    expect_n("add", arguments, strlen(arguments), status, needle);
}

static void check_arguments(void) {
    expect("{\"a\": 2, \"b\": 3}", FASTMCP_STATUS_OK, "\"structuredContent\":{\"sum\":5}");
    expect(" {\"\\u0062\":1.5e1 , \"a\":-0.5E-0}\n", FASTMCP_STATUS_OK, "\"text\":\"14.5\"");
    expect("", FASTMCP_STATUS_OK, "missing `a`");
    expect("{\"a\":1e400,\"b\":1}", FASTMCP_STATUS_OK, "`a` is out of range");
    expect("{\"a\":1,\"b\":2,\"\\\"x\\n\":3}", FASTMCP_STATUS_OK, "unknown argument `\\\"x\\n`");
    expect("[1, 2]", FASTMCP_STATUS_OK, "expected a JSON object");
    expect("\"{}\"", FASTMCP_STATUS_OK, "expected a JSON object");
    expect_n("add", "{\"a\":1,\"b\":2}", 12, FASTMCP_STATUS_OK, "not valid JSON");
    static const char *malformed[] = {
        "{",         "{\"a\":1",       "{\"a\":1,}",        "{\"a\":1}}",   "{\"a\":1} x",
        "{,}",       "{\"a\" 1}",      "{\"a\":tru}",       "{\"a\":-}",    "{\"a\":1.}",
        "{\"a\":1e}", "{\"a\":01}",    "{\"a\":\"\\x\"}",   "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\", "{\"a\":\"\x01\"}", "{\"a\":[1,]}",  "{\"a\":{\"k\"}}", "{1:2}", "nul",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        expect(malformed[i], FASTMCP_STATUS_OK, "not valid JSON");
    }
    char deep[256] = "{\"c\":";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    expect(deep, FASTMCP_STATUS_OK, "nested too deeply");
}

static void check_table(void) {
    const fastmcp_plugin_table *table = fastmcp_plugin_entry();
    if (table->abi_version != FASTMCP_ABI_VERSION || table->size != sizeof *table) {
        fail("table header", "", NULL);
    }
    fastmcp_buf out = {NULL, 0, 0};
    if (table->manifest(&out) != FASTMCP_STATUS_OK || !is_object(&out)) {
        fail("manifest", "", &out);
    }
    table->free_buf(out);

    expect_n("sub", "{}", 2, FASTMCP_STATUS_ERROR, "\"code\":-32602");
    expect_n("a\"\n", "{}", 2, FASTMCP_STATUS_ERROR, "unknown tool: a\\\"\\n");

    fastmcp_tool_call short_call = {4, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    if (table->call_tool(NULL, &short_call, &out) != FASTMCP_STATUS_ERROR || !is_object(&out)) {
        fail("a tool call smaller than fastmcp_tool_call", "", &out);
    }
    table->free_buf(out);
    if (table->call_tool(NULL, NULL, &out) != FASTMCP_STATUS_ERROR) fail("NULL call", "", &out);
    table->free_buf(out);

    uint8_t *request = exact_copy("{\"method\":\"prompts/list\"}", 25);
    if (table->call(NULL, request, 25, &out) != FASTMCP_STATUS_ERROR ||
        !contains(&out, "-32601")) {
        fail("call", "", &out);
    }
    table->free_buf(out);
    free(request);

    /* `add` is synchronous: start_tool answers at once and never touches `done`. */
    uint8_t *name = exact_copy("add", 3);
    uint8_t *args = exact_copy("{\"a\":1,\"b\":1}", 13);
    fastmcp_tool_call call = {sizeof call, {name, 3}, {args, 13}, {NULL, 0}, {NULL, 0}};
    if (table->start_tool(NULL, &call, NULL, &out) != FASTMCP_STATUS_OK ||
        !contains(&out, "\"sum\":2")) {
        fail("start_tool", "", &out);
    }
    table->free_buf(out);
    free(name);
    free(args);
    table->cancel_call(7);
    table->free_buf((fastmcp_buf){NULL, 0, 0});
    table->unload();
}

int main(void) {
    check_arguments();
    check_table();
    if (failures > 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
