/*
 * fastmcp.h - the binary interface between the fastmcp host and its plugins (ABI version 1),
 * for plugins written in C or any language that can export a C function.
 *
 * This header describes exactly what the Rust crate fastmcp-abi (src/lib.rs) defines, every
 * appended entry included (1.1: call_tool; 1.2: start_tool, cancel_call, fastmcp_completion,
 * FASTMCP_STATUS_PENDING). It is written by hand; the integration test tests/c_header.rs
 * compiles it and compares every size, offset, alignment, field type and constant with the
 * Rust definitions, so the two cannot drift apart. docs/abi.md is the full contract (the JSON
 * shapes); what follows is the binary part and the rules a C plugin must keep.
 *
 * THE HANDSHAKE
 *   A plugin is a shared library exporting one function, fastmcp_plugin_entry (declared below,
 *   already marked FASTMCP_EXPORT). It returns a pointer to a static fastmcp_plugin_table
 *   that starts with the ABI version and the table's size. The host refuses a library whose
 *   version differs or whose table is smaller than FASTMCP_PLUGIN_TABLE_V1_SIZE. Fields are
 *   only ever appended; the size says which ones a plugin has (fastmcp_table_has), and the host
 *   reads an appended field only when the size covers it.
 *
 *   Every function pointer that `size` covers must be set: the host calls them without a NULL
 *   check. Set size to sizeof(fastmcp_plugin_table) and fill every field; to leave out entries
 *   appended later, set size to offsetof(fastmcp_plugin_table, <first field left out>), which
 *   must not be below FASTMCP_PLUGIN_TABLE_V1_SIZE.
 *
 * OWNERSHIP
 *   A fastmcp_buf is freed by the side that allocated it, with that side's free_buf:
 *   - buffers the plugin writes into `out` (and passes to fastmcp_completion.complete) are
 *     freed by the host with the plugin's table.free_buf; cap is the plugin's own business
 *     (for example the malloc'ed size), the host never looks at it;
 *   - buffers the host writes into `out` of host_context.request are freed by the plugin with
 *     host_context.free_buf, never with free().
 *   Borrowed inputs (pointer and length, fastmcp_str, the tool call, the completion) are valid
 *   only during the call that receives them: copy what is kept. No text is NUL-terminated.
 *
 * THREADS
 *   The host calls `call` and `call_tool` from several threads at once. start_tool and
 *   cancel_call are called on the host's I/O threads and must return at once (queue work,
 *   nothing more). The host_context callbacks may be used only until the call returns, or, for
 *   a call start_tool left pending, until its completion is called (from any thread).
 *
 * STATUSES AND REPLIES
 *   Every function returning int32_t returns one of the FASTMCP_STATUS_* values and writes
 *   UTF-8 JSON into `out`: the MCP result on FASTMCP_STATUS_OK, an error object
 *   {"code", "message", "data"?} on FASTMCP_STATUS_ERROR; FASTMCP_STATUS_PENDING leaves it
 *   unwritten.
 */
#ifndef FASTMCP_H
#define FASTMCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define FASTMCP_ABI_VERSION 1u

/* The name of the exported entry point (for dlsym). */
#define FASTMCP_ENTRY_SYMBOL "fastmcp_plugin_entry"

/* Success: the output buffer holds the result JSON. */
#define FASTMCP_STATUS_OK 0
/* A protocol error: the output buffer holds {"code": int, "message": string, "data"?: any}. */
#define FASTMCP_STATUS_ERROR 1
/* The plugin failed unexpectedly (a Rust panic, a C++ exception caught before it could unwind
 * into the host): the output buffer holds {"message": string}. */
#define FASTMCP_STATUS_PANIC 2
/* Returned by host_context.request: the call cannot finish until the client answers a request
 * it could not be sent now (protocol 2026-07-28). The plugin stops and returns it too. */
#define FASTMCP_STATUS_INPUT_REQUIRED 3
/* The host cannot do what was asked on this transport or mode; `out` holds an error object. */
#define FASTMCP_STATUS_UNSUPPORTED 4
/* The call was cancelled while waiting for the host. */
#define FASTMCP_STATUS_CANCELLED 5
/* Returned by start_tool (ABI 1.2): the call runs on and will be reported through its
 * completion; `out` was not written. Never passed to fastmcp_completion.complete. */
#define FASTMCP_STATUS_PENDING 6

/* Exports a symbol from the shared library, also when it is built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define FASTMCP_EXPORT __attribute__((visibility("default")))
#else
#define FASTMCP_EXPORT
#endif

/* An owned byte buffer (UTF-8 JSON unless stated otherwise); see OWNERSHIP above. ptr may be
 * NULL when len is 0; freeing {NULL, 0, 0} is a no-op on both sides. */
typedef struct fastmcp_buf {
    uint8_t *ptr;
    size_t len; /* number of initialised bytes */
    size_t cap; /* meaningful only to the side that allocated the buffer */
} fastmcp_buf;

/* Borrowed UTF-8 text: len bytes at ptr (ptr may be NULL when len is 0), not NUL-terminated. */
typedef struct fastmcp_str {
    const uint8_t *ptr;
    size_t len;
} fastmcp_str;

/* Callbacks of the host (host to plugin). `data` is the context's opaque state, passed back. */

/* Sends a notification {"method", "params"} (progress, log message, resource updated).
 * Returns FASTMCP_STATUS_OK, or FASTMCP_STATUS_UNSUPPORTED when it was dropped. */
typedef int32_t (*fastmcp_notify_fn)(const void *data, const uint8_t *ptr, size_t len);
/* Returns 1 once the call has been cancelled (client cancel, disconnect, timeout), else 0. */
typedef uint8_t (*fastmcp_is_cancelled_fn)(const void *data);
/* Sends a request {"method", "params"} to the client and blocks until it answers; `out` then
 * holds the result (or an error object, or nothing): free it with host_context.free_buf. */
typedef int32_t (*fastmcp_request_fn)(const void *data, const uint8_t *ptr, size_t len,
                                      fastmcp_buf *out);
/* Frees a buffer the other side allocated (host_context.free_buf, plugin_table.free_buf). */
typedef void (*fastmcp_free_buf_fn)(fastmcp_buf buf);

/* Shows (listed 1) or hides (0) one of the plugin's own tools or prompts (kind
 * FASTMCP_LISTED_TOOL or FASTMCP_LISTED_PROMPT) named by len UTF-8 bytes at ptr; the host
 * tells clients the list changed. Returns FASTMCP_STATUS_OK, FASTMCP_STATUS_ERROR for a name
 * the manifest lacks, or FASTMCP_STATUS_UNSUPPORTED where lists cannot change (ABI 1.3). */
typedef int32_t (*fastmcp_set_listed_fn)(const void *data, uint32_t kind, const uint8_t *ptr,
                                         size_t len, uint8_t listed);

/* What the host hands to every call: the way back from a tool to the server. */
typedef struct fastmcp_host_context {
    uint32_t abi_version; /* the host's FASTMCP_ABI_VERSION */
    uint32_t size;        /* sizeof as the host was compiled; fields are only ever appended */
    const void *data;     /* opaque host state, passed back to every callback */
    fastmcp_notify_fn notify;
    fastmcp_is_cancelled_fn is_cancelled;
    fastmcp_request_fn request;
    fastmcp_free_buf_fn free_buf;
    /* Appended in 1.3: present when size >= offsetof(.., set_listed) + sizeof(void *). */
    fastmcp_set_listed_fn set_listed;
} fastmcp_host_context;

/* fastmcp_host_context.set_listed kinds. */
#define FASTMCP_LISTED_TOOL 0u
#define FASTMCP_LISTED_PROMPT 1u

/* One tools/call, as call_tool and start_tool receive it (ABI 1.1). Every string is valid
 * UTF-8 and borrowed until the function returns. */
typedef struct fastmcp_tool_call {
    uint32_t size;         /* sizeof as the host was compiled; fields are only ever appended */
    fastmcp_str name;      /* the tool's name, unescaped (params.name) */
    fastmcp_str arguments; /* raw JSON of params.arguments; empty when the request has none */
    fastmcp_str params;    /* the whole raw JSON of params (with _meta and any other keys) */
    fastmcp_str context;   /* raw JSON of the request's context object (docs/abi.md) */
} fastmcp_tool_call;

/* Reports the end of a call start_tool left pending (ABI 1.2): a status as call_tool returns it
 * (never FASTMCP_STATUS_PENDING) and the reply, which the host takes over and frees with the
 * plugin's free_buf. Call it exactly once per call, from any thread. */
typedef void (*fastmcp_complete_fn)(const void *data, uint64_t call_id, int32_t status,
                                    fastmcp_buf reply);

/* How a plugin reports the end of a pending call (ABI 1.2). Borrowed during start_tool only:
 * copy the struct (it is plain data) to complete the call later. The host keeps `data` valid
 * until the plugin's unload has returned. */
typedef struct fastmcp_completion {
    uint32_t size;    /* sizeof as the host was compiled; fields are only ever appended */
    uint64_t call_id; /* the host's id for the call; also what cancel_call names */
    const void *data; /* opaque host state, passed back to complete */
    fastmcp_complete_fn complete;
} fastmcp_completion;

/* The plugin's functions (plugin to host). */

/* Writes the manifest JSON (docs/abi.md, "Manifest") into `out`. Returns a status. */
typedef int32_t (*fastmcp_manifest_fn)(fastmcp_buf *out);
/* Serves one request {"method", "params", "context"} (req_len bytes at req_ptr). */
typedef int32_t (*fastmcp_call_fn)(const fastmcp_host_context *ctx, const uint8_t *req_ptr,
                                   size_t req_len, fastmcp_buf *out);
/* Releases everything the plugin cached; called once, last, right before dlclose. */
typedef void (*fastmcp_unload_fn)(void);
/* Serves one tools/call whose name and arguments the host located (ABI 1.1). */
typedef int32_t (*fastmcp_call_tool_fn)(const fastmcp_host_context *ctx,
                                        const fastmcp_tool_call *call, fastmcp_buf *out);
/* Starts one tools/call of an "async": true tool without waiting for it (ABI 1.2). Returns
 * FASTMCP_STATUS_PENDING when the call runs on (then done->complete is called once later), or
 * any other status with the answer in `out` now (then done->complete is never called). */
typedef int32_t (*fastmcp_start_tool_fn)(const fastmcp_host_context *ctx,
                                         const fastmcp_tool_call *call,
                                         const fastmcp_completion *done, fastmcp_buf *out);
/* Asks the plugin to stop the pending call `call_id` (ABI 1.2); it still completes it once
 * (usually with FASTMCP_STATUS_CANCELLED). An unknown id is ignored. Must return at once. */
typedef void (*fastmcp_cancel_call_fn)(uint64_t call_id);

/* What the plugin exports: version, size, and its functions. */
typedef struct fastmcp_plugin_table {
    uint32_t abi_version; /* must be FASTMCP_ABI_VERSION */
    uint32_t size;        /* the table's size as the plugin was compiled (see THE HANDSHAKE) */
    fastmcp_manifest_fn manifest;
    fastmcp_call_fn call;
    fastmcp_free_buf_fn free_buf;
    fastmcp_unload_fn unload;
    /* ---- appended in ABI 1.1: present when size covers them ---- */
    fastmcp_call_tool_fn call_tool;
    /* ---- appended in ABI 1.2: present when size covers them ---- */
    fastmcp_start_tool_fn start_tool;
    fastmcp_cancel_call_fn cancel_call;
} fastmcp_plugin_table;

/* The size of the fields every version-1 table has (up to and including unload): the smallest
 * table the host accepts. */
#define FASTMCP_PLUGIN_TABLE_V1_SIZE offsetof(fastmcp_plugin_table, call_tool)

/* The appended fields of fastmcp_plugin_table, for fastmcp_table_has. */
typedef enum fastmcp_table_field {
    FASTMCP_TABLE_FIELD_CALL_TOOL = 0,  /* call_tool (1.1) */
    FASTMCP_TABLE_FIELD_START_TOOL = 1  /* start_tool and cancel_call (1.2), which come together */
} fastmcp_table_field;

/* Whether a table that announces `size` bytes has `field` (what the host checks). */
static inline int fastmcp_table_has(uint32_t size, fastmcp_table_field field) {
    size_t end = 0;
    switch (field) {
    case FASTMCP_TABLE_FIELD_CALL_TOOL:
        end = offsetof(fastmcp_plugin_table, call_tool) + sizeof(fastmcp_call_tool_fn);
        break;
    case FASTMCP_TABLE_FIELD_START_TOOL:
        end = offsetof(fastmcp_plugin_table, cancel_call) + sizeof(fastmcp_cancel_call_fn);
        break;
    default:
        return 0;
    }
    return (size_t)size >= end;
}

/* The size of the fields every version-1 host context has (up to and including free_buf): a
 * plugin accepts any context at least this large. */
#define FASTMCP_HOST_CONTEXT_V1_SIZE offsetof(fastmcp_host_context, set_listed)

/* Whether a host context that announces `size` bytes has set_listed (1.3); an older host's
 * context ends before it. */
static inline int fastmcp_host_has_set_listed(uint32_t size) {
    return (size_t)size >=
           offsetof(fastmcp_host_context, set_listed) + sizeof(fastmcp_set_listed_fn);
}

/* The entry point every plugin defines: returns its static table. Declared exported here, so
 * the definition is exported even from a library built with -fvisibility=hidden. */
typedef const fastmcp_plugin_table *(*fastmcp_entry_fn)(void);
FASTMCP_EXPORT const fastmcp_plugin_table *fastmcp_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* FASTMCP_H */
