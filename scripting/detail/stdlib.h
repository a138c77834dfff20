// The data-work library that expressions and programs share (the list is in program.h).
//
// Each function checks its arguments and fails with a sentence that names it ("table.sum:
// argument 2 must be a field name or a function"). All run during setup_sandbox, in protected
// mode, before the library tables are hidden behind read-only proxies.
#pragma once

struct lua_State;

namespace flowpilot::scripting::detail {

// Adds split, trim and replace to the string library table at `string_table`. Strings index that
// same table through their metatable, so ("a,b"):split(",") works too.
void add_string_functions(lua_State* L, int string_table);

// Adds map, filter, group_by, sum and sort_by to the table library table at `table_table`.
void add_table_functions(lua_State* L, int table_table);

// Each pushes a new library table.
void push_json_library(lua_State* L);
void push_money_library(lua_State* L);
// with_clock adds date.now and date.today: programs only, so that an expression evaluated again
// after a restart gives the same value.
void push_date_library(lua_State* L, bool with_clock);

}  // namespace flowpilot::scripting::detail
