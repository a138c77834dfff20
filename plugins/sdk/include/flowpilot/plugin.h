/*
 * flowpilot/plugin.h: the stable C ABI between Flowpilot and its plugins.
 *
 * A plugin is a shared library that exports one function, `flowpilot_plugin_entry`. The host
 * calls it once, right after loading the library, with a table of host services; it returns a
 * descriptor naming the plugin and its step kinds. Everything else crosses the boundary as calls
 * through function pointers: the plugin never links against symbols of the host.
 *
 * Compatibility promise
 *   - FP_ABI_MAJOR changes only when an existing type or function changes meaning; the host
 *     refuses a plugin built for another major version.
 *   - Within a major version, structs only grow at the end, and every struct that crosses the
 *     boundary starts with `struct_size`. A host reads only the bytes a plugin's struct declares
 *     (zero-filling the rest); a plugin checks `host->struct_size` (or FP_HOST_HAS) before calling
 *     a function added in a later minor version.
 *   - Strings are UTF-8. Data crosses as JSON text. Pointers passed by one side are borrowed by the
 *     other for the duration of the call, unless a comment says otherwise; each side frees what it
 *     allocated.
 *   - No exception, longjmp or C++ object ever crosses the boundary.
 *
 * Threading
 *   - `flowpilot_plugin_entry`, `init` and `shutdown` run once, on the thread that loads plugins.
 *   - A step's `start` runs on one of the host's worker threads, possibly on several at once for
 *     different calls; it must return promptly (no blocking I/O, no sleeping): wait with
 *     `host->after` or `host->http_send` and finish from their callbacks instead.
 *   - Every call must end with exactly one `host->complete` or `host->fail`, from any thread,
 *     during `start` or later. The `fp_call` handle stays valid until then; afterwards the plugin
 *     must not use it.
 *   - Host functions are thread-safe.
 *   - Plugins are trusted native code: a crash inside one is a crash of the process.
 */
#ifndef FLOWPILOT_PLUGIN_H
#define FLOWPILOT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FP_ABI_MAJOR 1
#define FP_ABI_MINOR 1
/* Major in the high 16 bits, minor in the low 16. */
#define FLOWPILOT_PLUGIN_ABI_VERSION ((FP_ABI_MAJOR << 16) | FP_ABI_MINOR)

/* The exported entry point. Plugins define it with FP_PLUGIN_ENTRY. */
#define FLOWPILOT_PLUGIN_ENTRY_SYMBOL "flowpilot_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define FP_EXPORT __attribute__((visibility("default")))
#else
#define FP_EXPORT
#endif

#ifdef __cplusplus
#define FP_EXTERN_C extern "C"
#else
#define FP_EXTERN_C
#endif

/* One attempt of one step (or one foreach item). Opaque; owned by the host. */
typedef struct fp_call fp_call;

/* A borrowed UTF-8 string: `data` need not be NUL-terminated. {NULL, 0} is the empty string. */
typedef struct fp_str {
  const char* data;
  size_t size;
} fp_str;

/* A string the host allocated for the plugin; release it with host->buffer_free. */
typedef struct fp_buffer {
  char* data;
  size_t size;
} fp_buffer;

/* ---- Descriptors (plugin → host) ------------------------------------------------------------ */

/* Step flags. */
#define FP_STEP_SIDE_EFFECTS (1u << 0)  /* changes something outside Flowpilot */
#define FP_STEP_IDEMPOTENT (1u << 1)    /* repeating a call with the same idempotency key is safe */
#define FP_STEP_SUPPORTS_PLAN (1u << 2) /* in plan mode, describes what it would change */

/* Starts one attempt. `plugin_state` is what `init` returned (NULL without init). */
typedef void (*fp_step_start_fn)(void* plugin_state, fp_call* call);

typedef struct fp_step {
  size_t struct_size;         /* sizeof(fp_step) as the plugin was built */
  const char* name;           /* required: `[a-z][a-z0-9_]*`; the full name is "<plugin>.<name>" */
  const char* summary;        /* required: one plain sentence */
  const char* input_schema;   /* JSON Schema (text) of the step's `with`; NULL: any object */
  const char* output_schema;  /* JSON Schema (text) of the output; NULL: anything */
  uint32_t flags;             /* FP_STEP_* */
  fp_step_start_fn start;     /* required */
} fp_step;

struct fp_host_api;

typedef struct fp_plugin {
  size_t struct_size;   /* sizeof(fp_plugin) as the plugin was built */
  uint16_t abi_major;   /* FP_ABI_MAJOR the plugin was built against */
  uint16_t abi_minor;   /* FP_ABI_MINOR the plugin was built against */
  const char* name;     /* required: `[a-z][a-z0-9_]*`, unique among loaded plugins */
  const char* version;  /* required: the plugin's own version, e.g. "1.2.0" */
  const fp_step* const* steps; /* array of `step_count` pointers, each to a static fp_step */
  size_t step_count;
  /* Optional. Runs once after loading, with the plugin's configuration as JSON text ("{}" when
   * none). Returns the state passed to every `start`. To refuse loading, return NULL and set
   * `*error` to a static message (a NULL return without an error means "no state"). */
  void* (*init)(const struct fp_host_api* host, fp_str config_json, const char** error);
  /* Optional. Runs once before the library is unloaded, after every call has ended. */
  void (*shutdown)(void* plugin_state);
} fp_plugin;

/* The entry point: returns a descriptor that stays valid while the library is loaded. */
typedef const fp_plugin* (*fp_plugin_entry_fn)(const struct fp_host_api* host);

/* Defines the entry point; `host_param` names its fp_host_api parameter:
 *   FP_PLUGIN_ENTRY(api) { my_host = api; return &my_plugin; } */
#define FP_PLUGIN_ENTRY(host_param) \
  FP_EXTERN_C FP_EXPORT const fp_plugin* flowpilot_plugin_entry(const struct fp_host_api* host_param)

/* ---- HTTP (host service) -------------------------------------------------------------------- */

typedef struct fp_header {
  fp_str name;
  fp_str value;
} fp_header;

/* Request flags. */
#define FP_HTTP_FOLLOW_REDIRECTS (1u << 0) /* off by default; redirects are SSRF-checked too */
#define FP_HTTP_RETRY_THROTTLED (1u << 1)  /* retry 429 and 503, honouring Retry-After */

typedef struct fp_http_request {
  size_t struct_size;
  fp_str method;            /* "GET", "POST", ... */
  fp_str url;               /* absolute http(s) URL, already encoded */
  const fp_header* headers; /* may be NULL when header_count is 0 */
  size_t header_count;
  fp_str body;              /* sent as is; set Content-Type yourself */
  uint32_t timeout_ms;      /* whole request; 0: the host default (30 s) */
  uint32_t flags;           /* FP_HTTP_* */
  uint32_t max_retries;     /* with FP_HTTP_RETRY_THROTTLED; 0: the host default (3) */
  /* Values that must never appear in logs (tokens put into the URL or a header). */
  const fp_str* secrets;
  size_t secret_count;
} fp_http_request;

typedef struct fp_http_response {
  size_t struct_size;
  int status;               /* HTTP status, or 0 when no response arrived */
  const fp_header* headers;
  size_t header_count;
  fp_str body;
  /* Why no response arrived (timeout, refused by the SSRF guard, DNS, TLS, cancelled), or empty. */
  fp_str error;
} fp_http_response;

/* Receives the response; everything it points to is valid only during the callback. */
typedef void (*fp_http_done_fn)(fp_call* call, const fp_http_response* response, void* user);

/* ---- Host services (host → plugin) ---------------------------------------------------------- */

/* Log levels. */
#define FP_LOG_DEBUG 0
#define FP_LOG_INFO 1
#define FP_LOG_WARN 2
#define FP_LOG_ERROR 3

/* Error flags for host->fail. */
#define FP_ERROR_RETRYABLE (1u << 0)

typedef void (*fp_callback_fn)(fp_call* call, void* user);

/* Receives the answer of a host request: `status` 0 and a JSON result, or non-zero and an error
 * message in `result`. Valid only during the call. */
typedef void (*fp_result_fn)(fp_call* call, int status, fp_str result, void* user);

/* Flags for host->access_token. */
#define FP_TOKEN_REFRESH (1u << 0) /* the API refused the token it was given: get a new one */

/* Receives an access token, or an error (then `token` is empty). `error_flags`: FP_ERROR_*, so
 * that a plugin can pass them straight to host->fail. Strings are valid only during the call. */
typedef void (*fp_token_done_fn)(fp_call* call, fp_str token, fp_str error, uint32_t error_flags,
                                 void* user);

typedef struct fp_host_api {
  size_t struct_size; /* the host's sizeof(fp_host_api): functions beyond it are absent */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* -- ABI 1.0 -- */

  /* The call's input: the rendered `with`, a JSON object. */
  fp_str (*input)(const fp_call* call);
  /* "<plugin>.<step>" */
  fp_str (*step_name)(const fp_call* call);
  fp_str (*run_id)(const fp_call* call);
  /* "<run_id>/<step_id>[/<index>]": the same on every attempt and after recovery. Pass it to APIs
   * that deduplicate requests. */
  fp_str (*idempotency_key)(const fp_call* call);
  /* 1 for the first attempt. */
  int (*attempt)(const fp_call* call);
  /* Non-zero in a dry run: describe the change in the output (e.g. {"plan": [...]}) and make no
   * change. Only steps flagged FP_STEP_SUPPORTS_PLAN are called in plan mode. */
  int (*plan_mode)(const fp_call* call);
  /* The step's connection credentials as a JSON object, decrypted for this call only; {NULL, 0}
   * when the step names no connection. Valid until the call ends; never log it. */
  fp_str (*credentials)(const fp_call* call);

  /* Writes to the attempt's log. `fields_json` is an optional JSON object of structured fields. */
  void (*log)(fp_call* call, int level, fp_str message, fp_str fields_json);
  /* Reports progress in [0, 1] with an optional note, shown in run views. */
  void (*progress)(fp_call* call, double fraction, fp_str note);
  /* Non-zero once the run is cancelled or the attempt timed out: stop and fail soon. */
  int (*cancelled)(const fp_call* call);
  /* Calls `fn` on a worker thread after `delay_ms`, or at once (with cancelled() true) when the
   * call is cancelled first. */
  void (*after)(fp_call* call, uint64_t delay_ms, fp_callback_fn fn, void* user);

  /* Ends the call with an output (JSON text). */
  void (*complete)(fp_call* call, fp_str output_json);
  /* Ends the call with an error. `flags`: FP_ERROR_*. `retry_after_ms` > 0 asks the host to
   * wait at least that long before the next attempt (e.g. an HTTP 429's Retry-After). */
  void (*fail)(fp_call* call, fp_str message, uint32_t flags, int64_t retry_after_ms);

  /* Sends an HTTP request without blocking; `done` runs on a worker thread with the response.
   * The host refuses, before connecting, URLs that are not http(s) and addresses that are
   * loopback, private, link-local or cloud metadata, unless the operator allowed them. */
  void (*http_send)(fp_call* call, const fp_http_request* request, fp_http_done_fn done,
                    void* user);

  /* Evaluates a sandboxed Lua expression (the language of `${{ }}`) with `row` (JSON) bound as
   * `row` and the run's context (inputs, steps, run, ...) visible. Returns 0 and sets `*result`
   * to the value as JSON text, or returns non-zero and sets `*result` to the error message.
   * Release `*result` with buffer_free. */
  int (*eval)(fp_call* call, fp_str expression, fp_str row_json, fp_buffer* result);

  /* Waits for `tokens` from the rate limiter named `key` (usually a connection or an ad account;
   * shared by every run using it), then calls `ready` on a worker thread. */
  void (*rate_acquire)(fp_call* call, fp_str key, double tokens, fp_callback_fn ready, void* user);

  /* Releases a buffer the host allocated. */
  void (*buffer_free)(fp_buffer* buffer);

  /* -- ABI 1.1 -- */

  /* Gets an access token for the step's connection and calls `done` on a worker thread. With an
   * OAuth2 refresh token in the credentials (fields token_url, client_id, client_secret,
   * refresh_token) the host runs the refresh-token grant and caches the token, shared by every
   * call that uses the connection, until shortly before it expires; concurrent callers share one
   * refresh. Without one, the credentials' static `access_token` is the answer. Pass
   * FP_TOKEN_REFRESH when the API refused the token (expired or revoked, including APIs that say
   * so in a 200 answer): the host then refreshes instead of answering from its cache. */
  void (*access_token)(fp_call* call, uint32_t flags, fp_token_done_fn done, void* user);

  /* Makes every later rate_acquire on `key`, and every call of a step whose connection is `key`,
   * wait until `delay_ms` from now: the back-off an API asked for (HTTP 429 Retry-After, Meta's
   * estimated_time_to_regain_access) then holds for every run using that account, not only for
   * the call that was told. A shorter pause never shortens a longer one already in force. */
  void (*rate_pause)(fp_call* call, fp_str key, uint64_t delay_ms);

  /* Reads or writes the marketing warehouse (normalized daily facts, CRM deals and campaign
   * states). The request is a JSON object with an "op":
   *   {"op": "upsert_facts", "rows": [normalized rows], "batch_id": "..."}
   *   {"op": "upsert_deals", "deals": [deal rows], "batch_id": "..."}
   *   {"op": "upsert_campaigns", "campaigns": [{id or campaign_id, name, status, account_id or
   *    customer_id}], "platform", "account_id", "batch_id"}
   *       → {"inserted": n, "updated": n, "unchanged": n}
   *   {"op": "facts", "since", "until", "platforms", "account_ids", "campaign_ids", "group_by",
   *    "grouped"} → {"rows": [normalized rows, sums when grouped]}
   *   {"op": "deals", "closed_since", "closed_until", "stages", "channels"} → {"deals": [...]}
   *   {"op": "campaigns", "platforms", "account_ids", "campaign_ids"} → {"campaigns": [...]}
   * The work runs off the worker threads; `done` runs on a worker thread. A malformed request or
   * row is answered with a non-zero status and a message naming the field ("rows[3].date ..."). */
  void (*warehouse)(fp_call* call, fp_str request_json, fp_result_fn done, void* user);
} fp_host_api;

/* True when the host provides `member` (added in some minor version). */
#define FP_HOST_HAS(host, member) \
  ((host)->struct_size >= offsetof(fp_host_api, member) + sizeof((host)->member))

#ifdef __cplusplus
}
#endif

#endif /* FLOWPILOT_PLUGIN_H */
