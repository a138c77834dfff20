#include "scripting/detail/json_bridge.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <lua5.4/lua.hpp>
#include <new>
#include <unordered_set>
#include <vector>

#include "scripting/detail/sandbox_state.h"

// Lua reports errors with longjmp. A C function called from Lua must therefore not hold a local
// with a non-trivial destructor across any Lua call that can fail (every push can run out of
// memory). The functions below keep to pointers and integers while they talk to Lua, and write
// JSON text straight into a luaL_Buffer rather than through a std::string.

namespace flowpilot::scripting::detail {
namespace {

namespace json = boost::json;

// Addresses used as registry keys (lua_rawgetp), so lookups never allocate a string.
char kViewMetatableKey;
char kSecretsMetatableKey;

struct JsonView {
  const json::value* value;
  std::uint64_t generation;
};

struct SecretsHandle {
  std::uint64_t generation;
};

void* to_userdata_with(lua_State* L, int index, const void* metatable_key) {
  void* data = lua_touserdata(L, index);
  if (data == nullptr || lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index)) {
    return nullptr;
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, metatable_key);
  const bool same = lua_rawequal(L, -1, -2) != 0;
  lua_pop(L, 2);
  return same ? data : nullptr;
}

JsonView* to_view(lua_State* L, int index) {
  return static_cast<JsonView*>(to_userdata_with(L, index, &kViewMetatableKey));
}

SecretsHandle* to_secrets(lua_State* L, int index) {
  return static_cast<SecretsHandle*>(to_userdata_with(L, index, &kSecretsMetatableKey));
}

// A view outlives the evaluation that made it only by accident (nothing an expression can reach
// survives it), but if one ever does, the JSON it points to may be gone: refuse, never read.
const json::value& live_view(lua_State* L, int index) {
  const JsonView* view = to_view(L, index);
  if (view == nullptr) {
    luaL_error(L, "context value expected");
  }
  if (view->generation != context_of(L)->generation) {
    luaL_error(L, "stale value: a context value was used after its evaluation ended");
  }
  return *view->value;
}

// Writes compact JSON to any sink with append(const char*, std::size_t).
template <class Sink>
void write_number(Sink& sink, double d) {
  if (!std::isfinite(d)) {
    sink.append("null", 4);
    return;
  }
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, d);
  sink.append(text, ec == std::errc() ? static_cast<std::size_t>(end - text) : 0);
}

template <class Sink, class Integer>
void write_integer(Sink& sink, Integer i) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, i);
  sink.append(text, ec == std::errc() ? static_cast<std::size_t>(end - text) : 0);
}

template <class Sink>
void write_string(Sink& sink, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  sink.append("\"", 1);
  std::size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    sink.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        sink.append("\\\"", 2);
        break;
      case '\\':
        sink.append("\\\\", 2);
        break;
      case '\n':
        sink.append("\\n", 2);
        break;
      case '\r':
        sink.append("\\r", 2);
        break;
      case '\t':
        sink.append("\\t", 2);
        break;
      case '\b':
        sink.append("\\b", 2);
        break;
      case '\f':
        sink.append("\\f", 2);
        break;
      default: {
        const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        sink.append(escape, 6);
      }
    }
  }
  sink.append(s.data() + run, s.size() - run);
  sink.append("\"", 1);
}

template <class Sink>
void write_json(Sink& sink, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      sink.append("null", 4);
      break;
    case json::kind::bool_:
      v.get_bool() ? sink.append("true", 4) : sink.append("false", 5);
      break;
    case json::kind::int64:
      write_integer(sink, v.get_int64());
      break;
    case json::kind::uint64:
      write_integer(sink, v.get_uint64());
      break;
    case json::kind::double_:
      write_number(sink, v.get_double());
      break;
    case json::kind::string:
      write_string(sink, v.get_string());
      break;
    case json::kind::array: {
      sink.append("[", 1);
      bool first = true;
      for (const json::value& element : v.get_array()) {
        if (!first) sink.append(",", 1);
        first = false;
        write_json(sink, element);
      }
      sink.append("]", 1);
      break;
    }
    case json::kind::object: {
      sink.append("{", 1);
      bool first = true;
      for (const json::key_value_pair& member : v.get_object()) {
        if (!first) sink.append(",", 1);
        first = false;
        write_string(sink, member.key());
        sink.append(":", 1);
        write_json(sink, member.value());
      }
      sink.append("}", 1);
      break;
    }
  }
}

struct LuaBufferSink {
  luaL_Buffer* buffer;
  void append(const char* data, std::size_t size) { luaL_addlstring(buffer, data, size); }
};

struct StringSink {
  std::string* text;
  void append(const char* data, std::size_t size) { text->append(data, size); }
};

int view_index(lua_State* L) {
  const json::value& v = live_view(L, 1);
  if (const json::object* object = v.if_object()) {
    if (lua_type(L, 2) == LUA_TSTRING) {
      std::size_t length = 0;
      const char* key = lua_tolstring(L, 2, &length);
      if (const json::value* member = object->if_contains(std::string_view(key, length))) {
        push_json(L, *member);
        return 1;
      }
    }
  } else if (const json::array* array = v.if_array()) {
    int is_integer = 0;
    const lua_Integer i = lua_type(L, 2) == LUA_TNUMBER ? lua_tointegerx(L, 2, &is_integer) : 0;
    if (is_integer && i >= 1 && static_cast<std::uint64_t>(i) <= array->size()) {
      push_json(L, (*array)[static_cast<std::size_t>(i - 1)]);
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

int view_len(lua_State* L) {
  const json::value& v = live_view(L, 1);
  const std::size_t size = v.is_array() ? v.get_array().size() : v.get_object().size();
  lua_pushinteger(L, static_cast<lua_Integer>(size));
  return 1;
}

// The iterator __pairs hands out: next(view, key) → following key and value. Arrays use 1-based
// integer keys like a Lua sequence.
int view_next(lua_State* L) {
  const json::value& v = live_view(L, 1);
  if (const json::array* array = v.if_array()) {
    lua_Integer position = 0;
    if (!lua_isnil(L, 2)) {
      int is_integer = 0;
      position = lua_tointegerx(L, 2, &is_integer);
      if (!is_integer || position < 0) {
        return luaL_error(L, "invalid key to 'next'");
      }
    }
    if (static_cast<std::uint64_t>(position) >= array->size()) {
      lua_pushnil(L);
      return 1;
    }
    lua_pushinteger(L, position + 1);
    push_json(L, (*array)[static_cast<std::size_t>(position)]);
    return 2;
  }
  const json::object& object = v.get_object();
  std::size_t position = 0;
  if (!lua_isnil(L, 2)) {
    if (lua_type(L, 2) != LUA_TSTRING) {
      return luaL_error(L, "invalid key to 'next'");
    }
    std::size_t length = 0;
    const char* key = lua_tolstring(L, 2, &length);
    const auto found = object.find(std::string_view(key, length));
    if (found == object.end()) {
      return luaL_error(L, "invalid key to 'next'");
    }
    position = static_cast<std::size_t>(found - object.begin()) + 1;
  }
  if (position >= object.size()) {
    lua_pushnil(L);
    return 1;
  }
  const json::key_value_pair& member = object.begin()[position];
  lua_pushlstring(L, member.key().data(), member.key().size());
  push_json(L, member.value());
  return 2;
}

int view_pairs(lua_State* L) {
  live_view(L, 1);
  lua_pushcfunction(L, view_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int read_only_error(lua_State* L) { return luaL_error(L, "context values are read-only"); }

int view_tostring(lua_State* L) {
  const json::value& v = live_view(L, 1);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  LuaBufferSink sink{&buffer};
  write_json(sink, v);
  luaL_pushresult(&buffer);
  return 1;
}

int view_eq(lua_State* L) {
  const JsonView* a = to_view(L, 1);
  const JsonView* b = to_view(L, 2);
  if (a == nullptr || b == nullptr) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, live_view(L, 1) == live_view(L, 2));
  return 1;
}

const SecretsHandle& live_secrets(lua_State* L) {
  const SecretsHandle* handle = to_secrets(L, 1);
  if (handle == nullptr) {
    luaL_error(L, "secrets object expected");
  }
  if (handle->generation != context_of(L)->generation) {
    luaL_error(L, "stale value: secrets were used after their evaluation ended");
  }
  return *handle;
}

int secrets_index(lua_State* L) {
  live_secrets(L);
  if (lua_type(L, 2) != LUA_TSTRING) {
    return luaL_error(L, "secret names are strings");
  }
  std::size_t length = 0;
  const char* name = lua_tolstring(L, 2, &length);
  StateContext* ctx = context_of(L);
  // The resolver returns a std::string; it is kept in the context, not in a local, so the push
  // below may fail with a Lua error without skipping a destructor.
  bool resolver_failed = false;
  try {
    ctx->secret_value.reset();
    if (ctx->scope != nullptr && ctx->scope->secret_resolver()) {
      ctx->secret_value = ctx->scope->secret_resolver()(std::string_view(name, length));
    }
    if (ctx->program != nullptr && ctx->secret_value && !ctx->secret_value->empty()) {
      ctx->revealed_secrets.push_back(*ctx->secret_value);
    }
  } catch (...) {
    resolver_failed = true;
  }
  if (resolver_failed) {
    return luaL_error(L, "the secret store failed to resolve `%s`", name);
  }
  if (!ctx->secret_value) {
    return luaL_error(L, "unknown secret `%s`", name);
  }
  lua_pushlstring(L, ctx->secret_value->data(), ctx->secret_value->size());
  ctx->secret_value.reset();
  return 1;
}

int secrets_write_error(lua_State* L) { return luaL_error(L, "secrets are read-only"); }
int secrets_pairs_error(lua_State* L) { return luaL_error(L, "secrets cannot be listed"); }
int secrets_tostring(lua_State* L) {
  lua_pushliteral(L, "secrets");
  return 1;
}

void new_locked_metatable(lua_State* L, const void* key) {
  lua_newtable(L);
  // getmetatable() returns this field instead of the metatable, and setmetatable() refuses to
  // replace a metatable that has it.
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  // Error messages such as "attempt to call a table value" then describe views as tables.
  lua_pushliteral(L, "table");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

// Estimated heap footprint of a JSON value, stopping early once it exceeds `limit`.
std::size_t json_footprint(const json::value& v, std::size_t limit) {
  std::size_t total = sizeof(json::value);
  if (const json::string* s = v.if_string()) {
    total += s->size();
  } else if (const json::array* array = v.if_array()) {
    for (const json::value& element : *array) {
      total += json_footprint(element, limit);
      if (total > limit) break;
    }
  } else if (const json::object* object = v.if_object()) {
    for (const json::key_value_pair& member : *object) {
      total += member.key().size() + sizeof(json::key_value_pair) +
               json_footprint(member.value(), limit);
      if (total > limit) break;
    }
  }
  return total;
}

class Converter {
 public:
  Converter(lua_State* L, std::size_t max_bytes, std::string& error, int locations,
            std::map<std::string, int>* lines)
      : L_(L), budget_(max_bytes), error_(error), locations_(locations), lines_(lines) {}

  bool convert(int index, json::value& out, int depth) {
    switch (lua_type(L_, index)) {
      case LUA_TNIL:
        out = nullptr;
        return charge(sizeof(json::value));
      case LUA_TBOOLEAN:
        out = lua_toboolean(L_, index) != 0;
        return charge(sizeof(json::value));
      case LUA_TNUMBER:
        return convert_number(index, out);
      case LUA_TSTRING: {
        std::size_t length = 0;
        const char* text = lua_tolstring(L_, index, &length);
        if (!is_valid_utf8(std::string_view(text, length))) {
          return fail("result is not valid UTF-8 text");
        }
        out = json::string(std::string_view(text, length));
        return charge(sizeof(json::value) + length);
      }
      case LUA_TTABLE:
        return convert_table(index, out, depth);
      case LUA_TUSERDATA:
        if (const JsonView* view = to_view(L_, index)) {
          if (view->generation != context_of(L_)->generation) {
            return fail("result contains a stale context value");
          }
          // The first copy of a context value is free (see the header); repeats are charged.
          if (!copied_.insert(view->value).second &&
              !charge(json_footprint(*view->value, budget_ + 1))) {
            return false;
          }
          out = *view->value;
          return true;
        }
        if (to_secrets(L_, index) != nullptr) {
          return fail("the secrets object cannot be part of a result");
        }
        return fail("result contains a userdata value, which has no JSON form");
      default:
        error_ = std::string("result contains a ") + lua_typename(L_, lua_type(L_, index)) +
                 " value, which has no JSON form";
        return false;
    }
  }

 private:
  bool fail(const char* message) {
    error_ = message;
    return false;
  }

  bool charge(std::size_t bytes) {
    if (bytes > budget_) {
      return fail("result is too large to convert to JSON");
    }
    budget_ -= bytes;
    return true;
  }

  bool convert_number(int index, json::value& out) {
    if (lua_isinteger(L_, index)) {
      out = static_cast<std::int64_t>(lua_tointeger(L_, index));
      return charge(sizeof(json::value));
    }
    const double d = lua_tonumber(L_, index);
    if (!std::isfinite(d)) {
      return fail("result contains a number that is not finite (NaN or infinity)");
    }
    // 40/1 is the float 40.0 in Lua; JSON readers expect 40.
    constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
    if (d == std::trunc(d) && std::fabs(d) <= kExactIntegerLimit) {
      out = static_cast<std::int64_t>(d);
    } else {
      out = d;
    }
    return charge(sizeof(json::value));
  }

  bool convert_table(int index, json::value& out, int depth) {
    const void* identity = lua_topointer(L_, index);
    for (const void* open : path_) {
      if (open == identity) {
        return fail("result contains a cycle (a table that contains itself)");
      }
    }
    if (depth >= kMaxResultDepth) {
      return fail("result is nested too deeply (more than 100 levels)");
    }
    if (!lua_checkstack(L_, 4)) {
      return fail("result is nested too deeply");
    }
    path_.push_back(identity);
    if (lines_ != nullptr) {
      lua_pushvalue(L_, index);
      if (lua_rawget(L_, locations_) == LUA_TNUMBER && lua_isinteger(L_, -1)) {
        (*lines_)[text_path_] = static_cast<int>(lua_tointeger(L_, -1));
      }
      lua_pop(L_, 1);
    }
    // Classify with raw iteration: metamethods never run, so a hostile __index or __pairs cannot
    // throw or lie here.
    std::size_t count = 0;
    bool sequence = true;
    lua_Integer max_key = 0;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      ++count;
      if (sequence && lua_isinteger(L_, -2)) {
        const lua_Integer key = lua_tointeger(L_, -2);
        if (key < 1) sequence = false;
        if (key > max_key) max_key = key;
      } else {
        sequence = false;
      }
      lua_pop(L_, 1);
    }
    const bool ok = (count == 0 || (sequence && static_cast<std::size_t>(max_key) == count))
                        ? convert_array(index, count, out, depth)
                        : convert_object(index, count, out, depth);
    path_.pop_back();
    return ok;
  }

  bool convert_array(int index, std::size_t count, json::value& out, int depth) {
    if (!charge(sizeof(json::value) * (count + 1))) {
      return false;
    }
    json::array& array = out.emplace_array();
    array.reserve(count);
    for (std::size_t i = 1; i <= count; ++i) {
      lua_rawgeti(L_, index, static_cast<lua_Integer>(i));
      json::value& element = array.emplace_back(nullptr);
      const std::size_t mark = text_path_.size();
      if (lines_ != nullptr) {
        text_path_ += '[';
        text_path_ += std::to_string(i - 1);
        text_path_ += ']';
      }
      // A failed conversion leaves junk above `index`; to_json() restores the stack top.
      if (!convert(lua_gettop(L_), element, depth + 1)) return false;
      text_path_.resize(mark);
      lua_pop(L_, 1);
    }
    return true;
  }

  bool convert_object(int index, std::size_t count, json::value& out, int depth) {
    if (!charge(sizeof(json::value) + sizeof(json::key_value_pair) * count)) {
      return false;
    }
    json::object& object = out.emplace_object();
    object.reserve(count);
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      const int value_index = lua_gettop(L_);
      const int key_index = value_index - 1;
      std::string key;
      if (lua_type(L_, key_index) == LUA_TSTRING) {
        std::size_t length = 0;
        const char* text = lua_tolstring(L_, key_index, &length);
        key.assign(text, length);
        if (!is_valid_utf8(key)) {
          return fail("result has a table key that is not valid UTF-8 text");
        }
      } else if (lua_isinteger(L_, key_index)) {
        // Never lua_tolstring() a number key: it would turn the key into a string in place and
        // break lua_next().
        key = std::to_string(lua_tointeger(L_, key_index));
      } else {
        error_ = std::string("result has a table key of type ") +
                 lua_typename(L_, lua_type(L_, key_index)) +
                 "; only string and integer keys become JSON";
        return false;
      }
      if (!charge(key.size())) return false;
      json::value& member = object[key];
      const std::size_t mark = text_path_.size();
      if (lines_ != nullptr) {
        if (!text_path_.empty()) text_path_ += '.';
        text_path_ += key;
      }
      if (!convert(value_index, member, depth + 1)) return false;
      text_path_.resize(mark);
      lua_pop(L_, 1);
    }
    return true;
  }

  lua_State* L_;
  std::size_t budget_;
  std::string& error_;
  std::vector<const void*> path_;
  std::unordered_set<const json::value*> copied_;
  int locations_ = 0;
  std::map<std::string, int>* lines_ = nullptr;
  std::string text_path_;  // path of the value being converted, kept only when lines_ is set
};

}  // namespace

void register_json_bridge(lua_State* L) {
  static constexpr luaL_Reg kViewMethods[] = {{"__index", view_index},
                                              {"__len", view_len},
                                              {"__pairs", view_pairs},
                                              {"__newindex", read_only_error},
                                              {"__tostring", view_tostring},
                                              {"__eq", view_eq},
                                              {nullptr, nullptr}};
  new_locked_metatable(L, &kViewMetatableKey);
  luaL_setfuncs(L, kViewMethods, 0);
  lua_pop(L, 1);

  static constexpr luaL_Reg kSecretsMethods[] = {{"__index", secrets_index},
                                                 {"__newindex", secrets_write_error},
                                                 {"__pairs", secrets_pairs_error},
                                                 {"__tostring", secrets_tostring},
                                                 {nullptr, nullptr}};
  new_locked_metatable(L, &kSecretsMetatableKey);
  luaL_setfuncs(L, kSecretsMethods, 0);
  lua_pop(L, 1);
}

void push_json(lua_State* L, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      lua_pushnil(L);
      return;
    case json::kind::bool_:
      lua_pushboolean(L, value.get_bool());
      return;
    case json::kind::int64:
      lua_pushinteger(L, value.get_int64());
      return;
    case json::kind::uint64: {
      const std::uint64_t u = value.get_uint64();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max())) {
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(u));
      }
      return;
    }
    case json::kind::double_:
      lua_pushnumber(L, value.get_double());
      return;
    case json::kind::string: {
      const json::string& s = value.get_string();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case json::kind::array:
    case json::kind::object: {
      void* memory = lua_newuserdatauv(L, sizeof(JsonView), 0);
      new (memory) JsonView{&value, context_of(L)->generation};
      lua_rawgetp(L, LUA_REGISTRYINDEX, &kViewMetatableKey);
      lua_setmetatable(L, -2);
      return;
    }
  }
}

void push_secrets(lua_State* L) {
  void* memory = lua_newuserdatauv(L, sizeof(SecretsHandle), 0);
  new (memory) SecretsHandle{context_of(L)->generation};
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kSecretsMetatableKey);
  lua_setmetatable(L, -2);
}

bool is_table_like_userdata(lua_State* L, int index) {
  return to_view(L, index) != nullptr || to_secrets(L, index) != nullptr;
}

bool to_json(lua_State* L, int index, std::size_t max_bytes, json::value& out, std::string& error) {
  return to_json(L, index, max_bytes, out, error, 0, nullptr);
}

bool to_json(lua_State* L, int index, std::size_t max_bytes, json::value& out, std::string& error,
             int locations, std::map<std::string, int>* lines) {
  const int top = lua_gettop(L);
  if (locations != 0) locations = lua_absindex(L, locations);
  if (lines != nullptr && (locations == 0 || lua_type(L, locations) != LUA_TTABLE)) {
    lines = nullptr;
  }
  Converter converter(L, max_bytes, error, locations, lines);
  const bool ok = converter.convert(lua_absindex(L, index), out, 0);
  lua_settop(L, top);
  return ok;
}

std::string to_compact_json(const json::value& value) {
  std::string text;
  StringSink sink{&text};
  write_json(sink, value);
  return text;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t code = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return false;
      }
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace flowpilot::scripting::detail
