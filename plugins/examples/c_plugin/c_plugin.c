/*
 * c_plugin: a Flowpilot plugin in plain C11, using nothing but flowpilot/plugin.h and libc.
 *   c_plugin.echo   returns {"step": ..., "attempt": N, "input": <its input>}, JSON built by hand
 *   c_plugin.tick   waits `ms` (default 10) on a host timer, then returns {"ticked": true}
 *
 * The host table arrives in the entry function and is kept in a static: a start function gets
 * only the plugin state and the call. Every call ends with exactly one complete or fail.
 */
#include <flowpilot/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const fp_host_api* g_host;

/* A growable string; `failed` records an allocation failure so callers check once at the end. */
typedef struct text {
  char* data;
  size_t size;
  size_t capacity;
  int failed;
} text;

static void text_append(text* t, const char* data, size_t size) {
  if (t->failed) return;
  if (t->size + size + 1 > t->capacity) {
    size_t capacity = t->capacity == 0 ? 128 : t->capacity;
    while (t->size + size + 1 > capacity) capacity *= 2;
    char* grown = realloc(t->data, capacity);
    if (grown == NULL) {
      t->failed = 1;
      return;
    }
    t->data = grown;
    t->capacity = capacity;
  }
  memcpy(t->data + t->size, data, size);
  t->size += size;
  t->data[t->size] = '\0';
}

static void text_cstr(text* t, const char* s) { text_append(t, s, strlen(s)); }

/* Appends `s` as a JSON string literal, escaping quotes, backslashes and control characters. */
static void text_json_string(text* t, fp_str s) {
  size_t i;
  text_cstr(t, "\"");
  for (i = 0; i < s.size; ++i) {
    const unsigned char c = (unsigned char)s.data[i];
    if (c == '"' || c == '\\') {
      char escaped[2];
      escaped[0] = '\\';
      escaped[1] = (char)c;
      text_append(t, escaped, 2);
    } else if (c < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", (unsigned)c);
      text_cstr(t, escaped);
    } else {
      text_append(t, (const char*)&s.data[i], 1);
    }
  }
  text_cstr(t, "\"");
}

static fp_str cstr(const char* s) {
  fp_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

static void echo_start(void* state, fp_call* call) {
  text out = {NULL, 0, 0, 0};
  char number[32];
  fp_str input = g_host->input(call);
  (void)state;

  text_cstr(&out, "{\"step\":");
  text_json_string(&out, g_host->step_name(call));
  snprintf(number, sizeof number, ",\"attempt\":%d", g_host->attempt(call));
  text_cstr(&out, number);
  /* The input is already JSON text: embed it as it is. */
  text_cstr(&out, ",\"input\":");
  if (input.size == 0)
    text_cstr(&out, "{}");
  else
    text_append(&out, input.data, input.size);
  text_cstr(&out, "}");

  if (out.failed) {
    g_host->fail(call, cstr("c_plugin.echo: out of memory"), FP_ERROR_RETRYABLE, 0);
  } else {
    fp_str output;
    output.data = out.data;
    output.size = out.size;
    g_host->log(call, FP_LOG_INFO, cstr("echoing the input"), cstr(""));
    g_host->complete(call, output); /* the host copies the output before returning */
  }
  free(out.data);
}

static void tick_done(fp_call* call, void* user) {
  (void)user;
  if (g_host->cancelled(call)) {
    g_host->fail(call, cstr("c_plugin.tick: cancelled"), 0, 0);
  } else {
    g_host->complete(call, cstr("{\"ticked\":true}"));
  }
}

/* Reads a non-negative integer field "ms" from flat JSON input; a real plugin would use a JSON
 * parser, this one keeps the example free of dependencies. */
static unsigned long input_ms(fp_str input, unsigned long fallback) {
  const char* key = "\"ms\"";
  size_t i;
  const size_t key_size = strlen(key);
  for (i = 0; i + key_size <= input.size; ++i) {
    if (memcmp(input.data + i, key, key_size) == 0) {
      unsigned long value = 0;
      int digits = 0;
      i += key_size;
      while (i < input.size && (input.data[i] == ' ' || input.data[i] == ':')) ++i;
      while (i < input.size && input.data[i] >= '0' && input.data[i] <= '9' && value < 86400000UL) {
        value = value * 10 + (unsigned long)(input.data[i] - '0');
        ++digits;
        ++i;
      }
      return digits > 0 ? value : fallback;
    }
  }
  return fallback;
}

static void tick_start(void* state, fp_call* call) {
  (void)state;
  g_host->after(call, input_ms(g_host->input(call), 10), tick_done, NULL);
}

static const fp_step k_echo = {
    sizeof(fp_step),
    "echo",
    "Returns its input, the step's name and the attempt number.",
    "{\"type\":\"object\"}",
    NULL,
    0,
    echo_start,
};

static const fp_step k_tick = {
    sizeof(fp_step),
    "tick",
    "Waits a number of milliseconds on a host timer.",
    "{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{\"ticked\":{\"type\":\"boolean\"}}}",
    0,
    tick_start,
};

static const fp_step* const k_steps[] = {&k_echo, &k_tick};

static const fp_plugin k_plugin = {
    sizeof(fp_plugin),
    FP_ABI_MAJOR,
    FP_ABI_MINOR,
    "c_plugin",
    "1.0.0",
    k_steps,
    sizeof k_steps / sizeof k_steps[0],
    NULL,
    NULL,
};

FP_PLUGIN_ENTRY(host) {
  /* Another major version lays the table out differently: refuse rather than misread it. */
  if (host == NULL || host->abi_major != FP_ABI_MAJOR || !FP_HOST_HAS(host, buffer_free)) {
    return NULL;
  }
  g_host = host;
  return &k_plugin;
}
