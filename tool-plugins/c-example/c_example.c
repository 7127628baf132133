/*
 * c_example.c - a fastmcp plugin in C11 against fastmcp.h: one tool, `add`, which adds two
 * numbers and declares its input and output with JSON schemas.
 *
 * What a plugin in any language with a C ABI has to do, all of it here:
 * - export fastmcp_plugin_entry, returning a static table with every entry filled in;
 * - answer `manifest` with JSON naming the tools and their schemas;
 * - answer tool calls (call_tool), turning bad arguments into a tool error result
 *   ("isError": true) and an unknown tool into a protocol error, never crashing;
 * - allocate every reply with malloc and free it in free_buf, the one function the host uses
 *   to release what the plugin returned (the host never calls free() on it).
 * The host's context is not used: `add` sends no notifications and asks the client nothing.
 */
#include <fastmcp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The tool's manifest entry. additionalProperties false: the tool refuses keys it does not
 * know, so a misspelt argument is reported instead of ignored. */
static const char MANIFEST[] =
    "{\"name\":\"c_example\",\"version\":\"0.1.0\",\"sdk\":\"fastmcp.h (C)\",\"tools\":[{"
    "\"name\":\"add\","
    "\"title\":\"Add\","
    "\"description\":\"Adds two numbers\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"a\":{\"type\":\"number\",\"description\":\"The first addend\"},"
    "\"b\":{\"type\":\"number\",\"description\":\"The second addend\"}},"
    "\"required\":[\"a\",\"b\"],\"additionalProperties\":false},"
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"sum\":{\"type\":\"number\"}},"
    "\"required\":[\"sum\"]},"
    "\"annotations\":{\"readOnlyHint\":true}"
    "}]}";

/* Hands the writer's bytes to the host as `out`. A writer whose allocation failed is freed and
 * an empty buffer is returned with FASTMCP_STATUS_ERROR: there is no memory for a message, and
 * the host, unable to read an error object, answers the client with an internal error. */
static int32_t finish(json_writer *w, int32_t status, fastmcp_buf *out) {
    if (w->failed) {
        free(w->ptr);
        *out = (fastmcp_buf){NULL, 0, 0};
        return FASTMCP_STATUS_ERROR;
    }
    *out = (fastmcp_buf){w->ptr, w->len, w->cap};
    return status;
}

/* A tool error: STATUS_OK with an `isError` result whose text is `message` (already escaped
 * JSON string contents). What a client shows its model, which can then fix its arguments. */
static int32_t tool_error(json_writer *message, fastmcp_buf *out) {
    json_writer w = {0};
    json_raw(&w, "{\"content\":[{\"type\":\"text\",\"text\":\"");
    json_raw_n(&w, message->ptr, message->len);
    json_raw(&w, "\"}],\"isError\":true}");
    w.failed |= message->failed;
    free(message->ptr);
    return finish(&w, FASTMCP_STATUS_OK, out);
}

/* A tool error with a plain ASCII message. */
static int32_t tool_error_text(const char *text, fastmcp_buf *out) {
    json_writer message = {0};
    json_escaped(&message, (const uint8_t *)text, strlen(text));
    return tool_error(&message, out);
}

/* A protocol error (STATUS_ERROR): `{"code", "message"}`, the message being `text` followed by
 * `detail` (host text, escaped here). */
static int32_t protocol_error(int code, const char *text, fastmcp_str detail, fastmcp_buf *out) {
    json_writer w = {0};
    char head[48];
    snprintf(head, sizeof head, "{\"code\":%d,\"message\":\"", code);
    json_raw(&w, head);
    json_escaped(&w, (const uint8_t *)text, strlen(text));
    if (detail.len > 0) json_escaped(&w, detail.ptr, detail.len);
    json_raw(&w, "\"}");
    return finish(&w, FASTMCP_STATUS_ERROR, out);
}

/* The arguments of `add`, as they are read. */
typedef struct add_args {
    double a;
    double b;
    int has_a;
    int has_b;
} add_args;

/* Takes one member of the arguments: 1 when it is `a` or `b` with a finite number, else 0 with
 * why in `why` (escaped JSON string contents, the text of a tool error). */
static int take_member(const json_member *m, add_args *args, json_writer *why) {
    double *slot;
    int *seen;
    const char *name;
    if (json_key_is(m->key, m->key_len, "a")) {
        slot = &args->a, seen = &args->has_a, name = "a";
    } else if (json_key_is(m->key, m->key_len, "b")) {
        slot = &args->b, seen = &args->has_b, name = "b";
    } else {
        /* The key's raw contents are valid JSON string contents: copied as they are. */
        json_raw(why, "invalid arguments: unknown argument `");
        json_raw_n(why, m->key, m->key_len);
        json_raw(why, "` (add takes a and b)");
        return 0;
    }
    json_error err = json_number(m->value, m->value_len, slot);
    if (err == JSON_NO_MEMORY) {
        why->failed = 1;
        return 0;
    }
    if (err || !isfinite(*slot)) {
        json_raw(why, "invalid arguments: `");
        json_raw(why, name);
        json_raw(why, err ? "` must be a number" : "` is out of range");
        return 0;
    }
    *seen = 1;
    return 1;
}

/* Reads the arguments of `add` from their raw JSON; on failure writes why into `why` and
 * returns 0. No arguments at all reads as `{}` (and so fails for the missing `a`). */
static int read_add_args(fastmcp_str raw, add_args *args, json_writer *why) {
    static const uint8_t empty[] = "{}";
    json_cursor input = raw.len > 0 ? (json_cursor){raw.ptr, raw.ptr + raw.len}
                                    : (json_cursor){empty, empty + 2};
    json_object object;
    json_member member;
    json_error err = json_open_object(input, &object);
    while (!err && (err = json_next_member(&object, &member)) == JSON_OK) {
        if (!take_member(&member, args, why)) return 0;
    }
    if (err != JSON_END) {
        json_raw(why, err == JSON_NOT_OBJECT ? "invalid arguments: expected a JSON object"
                      : err == JSON_TOO_DEEP ? "invalid arguments: nested too deeply"
                      : err == JSON_NO_MEMORY ? ""
                                              : "invalid arguments: not valid JSON");
        why->failed |= err == JSON_NO_MEMORY;
        return 0;
    }
    if (!args->has_a || !args->has_b) {
        json_raw(why, !args->has_a ? "invalid arguments: missing `a`"
                                   : "invalid arguments: missing `b`");
        return 0;
    }
    return 1;
}

/* Runs `add`: its result (STATUS_OK, with isError when the arguments are wrong). */
static int32_t run_add(fastmcp_str arguments, fastmcp_buf *out) {
    add_args args = {0};
    json_writer why = {0};
    if (!read_add_args(arguments, &args, &why)) return tool_error(&why, out);
    free(why.ptr);
    double sum = args.a + args.b;
    if (!isfinite(sum)) return tool_error_text("the sum is out of range", out);

    /* The text for the model, and the structured result the outputSchema describes. */
    json_writer w = {0};
    json_raw(&w, "{\"content\":[{\"type\":\"text\",\"text\":\"");
    json_double(&w, sum);
    json_raw(&w, "\"}],\"structuredContent\":{\"sum\":");
    json_double(&w, sum);
    json_raw(&w, "}}");
    return finish(&w, FASTMCP_STATUS_OK, out);
}

static int text_is(fastmcp_str text, const char *want) {
    size_t n = strlen(want);
    return text.len == n && (n == 0 || memcmp(text.ptr, want, n) == 0);
}

/* ---- the table's functions ---- */

static int32_t plugin_manifest(fastmcp_buf *out) {
    json_writer w = {0};
    json_raw(&w, MANIFEST);
    return finish(&w, FASTMCP_STATUS_OK, out);
}

static int32_t plugin_call_tool(const fastmcp_host_context *ctx, const fastmcp_tool_call *call,
                                fastmcp_buf *out) {
    (void)ctx;
    /* A host never sends less, but the size field exists so that nobody has to trust that. */
    if (call == NULL || call->size < sizeof(fastmcp_tool_call)) {
        json_writer w = {0};
        json_raw(&w, "{\"code\":-32600,\"message\":\"malformed tool call from the host\"}");
        return finish(&w, FASTMCP_STATUS_ERROR, out);
    }
    if (text_is(call->name, "add")) return run_add(call->arguments, out);
    return protocol_error(-32602, "unknown tool: ", call->name, out);
}

/* The generic entry: every tools/call arrives through call_tool, and this plugin has no
 * resources, prompts or completions, so any request here is one it does not serve. */
static int32_t plugin_call(const fastmcp_host_context *ctx, const uint8_t *req_ptr,
                           size_t req_len, fastmcp_buf *out) {
    (void)ctx;
    (void)req_ptr;
    (void)req_len;
    fastmcp_str none = {NULL, 0};
    return protocol_error(-32601, "c_example serves tools/call only", none, out);
}

/* `add` is not async, so the host never starts it here; a table must still fill every entry
 * its size covers. Answering now, as call_tool, is what the ABI asks of a synchronous tool:
 * `done` is then never called. */
static int32_t plugin_start_tool(const fastmcp_host_context *ctx, const fastmcp_tool_call *call,
                                 const fastmcp_completion *done, fastmcp_buf *out) {
    (void)done;
    return plugin_call_tool(ctx, call, out);
}

/* No call is ever pending, so there is nothing to cancel. */
static void plugin_cancel_call(uint64_t call_id) {
    (void)call_id;
}

/* Every buffer this plugin returns came from malloc/realloc (cap is the allocation's size). */
static void plugin_free_buf(fastmcp_buf buf) {
    free(buf.ptr);
}

/* Nothing is cached between calls: nothing to release before dlclose. */
static void plugin_unload(void) {}

static const fastmcp_plugin_table TABLE = {
    .abi_version = FASTMCP_ABI_VERSION,
    .size = sizeof(fastmcp_plugin_table),
    .manifest = plugin_manifest,
    .call = plugin_call,
    .free_buf = plugin_free_buf,
    .unload = plugin_unload,
    .call_tool = plugin_call_tool,
    .start_tool = plugin_start_tool,
    .cancel_call = plugin_cancel_call,
};

const fastmcp_plugin_table *fastmcp_plugin_entry(void) {
    return &TABLE;
}
