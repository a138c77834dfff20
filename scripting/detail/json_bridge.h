// Conversion between Boost.JSON values and Lua values inside a sandboxed state.
//
// JSON objects and arrays enter Lua as read-only views (full userdata holding a borrowed pointer
// and the evaluation generation they were made in), so reading one field of a large value does not
// convert the rest. Results leave Lua through to_json(), which uses raw access only and never runs
// Lua code, so it cannot raise a Lua error or be steered by metamethods.
//
// All functions here run on the thread that owns the lua_State.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

struct lua_State;

namespace flowpilot::scripting::detail {

class StateContext;

// Creates the view and secrets metatables in the registry. Call once per state, in protected mode.
void register_json_bridge(lua_State* L);

// Pushes `value`: null → nil, scalars directly, objects and arrays as views stamped with the
// state's current generation. May raise a Lua error (memory), so call it in protected mode.
void push_json(lua_State* L, const boost::json::value& value);

// Pushes the `secrets` object, which resolves names through the current evaluation's scope.
void push_secrets(lua_State* L);

// True when the value at `index` is a view or the secrets object (they report type "table").
bool is_table_like_userdata(lua_State* L, int index);

// Converts the Lua value at `index` to JSON. Returns false and fills `error` with a plain sentence
// when it cannot (function, cycle, NaN, invalid UTF-8, nesting deeper than kMaxResultDepth, or an
// estimated size above `max_bytes`: a table shared n times expands n-fold, so the cap is needed
// even though Lua's own memory is capped). The first copy of each view is free: passing a large
// step output through unchanged is the common case and its size is the caller's.
// Raises no Lua error and runs no Lua code.
inline constexpr int kMaxResultDepth = 100;
bool to_json(lua_State* L, int index, std::size_t max_bytes, boost::json::value& out,
             std::string& error);

// As above; also, for every table met that is a key of the table at stack index `locations`
// (0: none), stores its path in the result (`steps[2].with`, root "") → the integer value in
// `lines`. Lookups are raw, like the rest of the conversion.
bool to_json(lua_State* L, int index, std::size_t max_bytes, boost::json::value& out,
             std::string& error, int locations, std::map<std::string, int>* lines);

// Compact JSON as interpolation and __tostring show it: integral doubles without ".0" or exponent
// noise, non-finite numbers as null, strings escaped, non-ASCII bytes kept.
std::string to_compact_json(const boost::json::value& value);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace flowpilot::scripting::detail
