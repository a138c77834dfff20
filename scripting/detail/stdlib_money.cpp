// money.*: amounts are integer micros (1.00 = 1,000,000) in a lua_Integer, so sums are exact.
// Every operation checks for overflow and fails rather than wrapping; multiplication and division
// go through 128-bit intermediates and round half to even, like banking software.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <lua5.4/lua.hpp>

#include "scripting/detail/stdlib.h"
#include "scripting/detail/stdlib_support.h"

namespace flowpilot::scripting::detail {
namespace {

// 128-bit intermediates for products of amounts and factors (GCC and Clang extension).
__extension__ typedef __int128 Wide;

constexpr std::int64_t kMicrosPerUnit = 1'000'000;
constexpr int kMaxAmountDecimals = 6;
// A factor may be more precise than an amount: money.mul(price, 0.0825) and the like.
constexpr int kMaxFactorDecimals = 12;

std::int64_t check_amount(lua_State* L, int index, const char* function) {
  if (!lua_isinteger(L, index)) {
    argument_error(L, function, index, "an amount in integer micros (see money.parse)");
  }
  return lua_tointeger(L, index);
}

[[noreturn]] void overflow(lua_State* L, const char* function) {
  luaL_error(L, "%s: the result is too large for an amount", function);
  std::terminate();
}

// Parses [-+]digits[.digits] with at most `max_decimals` decimals into value × 10^max_decimals.
// No exponents, separators or spaces: amounts are written as people write them. Returns false
// for anything else, including overflow.
bool parse_decimal(const char* text, std::size_t length, int max_decimals, Wide& out) {
  std::size_t i = 0;
  bool negative = false;
  if (i < length && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  Wide value = 0;
  int integer_digits = 0;
  int decimals = 0;
  constexpr Wide kLimit = static_cast<Wide>(1) << 100;
  for (; i < length && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
    if (value > kLimit) return false;
    ++integer_digits;
  }
  if (i < length && text[i] == '.') {
    ++i;
    for (; i < length && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (++decimals > max_decimals) return false;
      value = value * 10 + (text[i] - '0');
    }
    if (decimals == 0) return false;
  }
  if (i != length || integer_digits + decimals == 0) return false;
  for (int d = decimals; d < max_decimals; ++d) value *= 10;
  out = negative ? -value : value;
  return true;
}

bool fits(Wide v) {
  return v >= std::numeric_limits<std::int64_t>::min() &&
         v <= std::numeric_limits<std::int64_t>::max();
}

// n / d rounded half to even; d != 0.
Wide divide_half_even(Wide n, Wide d) {
  const bool negative = (n < 0) != (d < 0);
  const Wide an = n < 0 ? -n : n;
  const Wide ad = d < 0 ? -d : d;
  Wide q = an / ad;
  const Wide r = an % ad;
  if (2 * r > ad || (2 * r == ad && (q & 1) != 0)) ++q;
  return negative ? -q : q;
}

Wide pow10(int n) {
  Wide p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// A factor as an exact decimal with 12 places: integers as they are, floats correctly rounded to
// 12 places (so 1.1 means 1.1, not 1.100000000000000088817...), strings as written.
bool factor_as_decimal(lua_State* L, int index, Wide& scaled) {
  if (lua_isinteger(L, index)) {
    scaled = static_cast<Wide>(lua_tointeger(L, index)) * pow10(kMaxFactorDecimals);
    return true;
  }
  if (lua_type(L, index) == LUA_TNUMBER) {
    const double d = lua_tonumber(L, index);
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return false;
    char text[64];
    const auto [end, ec] =
        std::to_chars(text, text + sizeof text, d, std::chars_format::fixed, kMaxFactorDecimals);
    if (ec != std::errc()) return false;
    return parse_decimal(text, static_cast<std::size_t>(end - text), kMaxFactorDecimals, scaled);
  }
  if (lua_type(L, index) == LUA_TSTRING) {
    std::size_t length = 0;
    const char* text = lua_tolstring(L, index, &length);
    return parse_decimal(text, length, kMaxFactorDecimals, scaled);
  }
  return false;
}

int money_parse(lua_State* L) {
  std::size_t length = 0;
  const char* text = check_text(L, 1, "money.parse", &length);
  Wide value = 0;
  if (!parse_decimal(text, length, kMaxAmountDecimals, value)) {
    return luaL_error(L,
                      "money.parse: \"%s\" is not an amount; write digits with an optional sign "
                      "and at most 6 decimals, such as \"12.34\"",
                      text);
  }
  if (!fits(value)) overflow(L, "money.parse");
  lua_pushinteger(L, static_cast<lua_Integer>(value));
  return 1;
}

// "12.34", "-0.50", "12.3456": at least two decimals, more only when the amount has them.
int money_format(lua_State* L) {
  const std::int64_t amount = check_amount(L, 1, "money.format");
  const char* currency = nullptr;
  if (!lua_isnoneornil(L, 2)) {
    currency = check_text(L, 2, "money.format", nullptr);
  }
  const bool negative = amount < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(amount) : static_cast<std::uint64_t>(amount);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, "%06llu",
                static_cast<unsigned long long>(magnitude % kMicrosPerUnit));
  int digits = kMaxAmountDecimals;
  while (digits > 2 && fraction[digits - 1] == '0') --digits;
  fraction[digits] = '\0';
  char text[64];
  std::snprintf(text, sizeof text, "%s%llu.%s", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / kMicrosPerUnit), fraction);
  if (currency != nullptr) {
    lua_pushfstring(L, "%s %s", text, currency);
  } else {
    lua_pushstring(L, text);
  }
  return 1;
}

int money_add(lua_State* L) {
  const std::int64_t a = check_amount(L, 1, "money.add");
  const std::int64_t b = check_amount(L, 2, "money.add");
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) overflow(L, "money.add");
  lua_pushinteger(L, sum);
  return 1;
}

int money_sub(lua_State* L) {
  const std::int64_t a = check_amount(L, 1, "money.sub");
  const std::int64_t b = check_amount(L, 2, "money.sub");
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) overflow(L, "money.sub");
  lua_pushinteger(L, difference);
  return 1;
}

int money_mul(lua_State* L) {
  const std::int64_t a = check_amount(L, 1, "money.mul");
  Wide factor = 0;
  if (!factor_as_decimal(L, 2, factor)) {
    argument_error(L, "money.mul", 2, "a finite number or a decimal string");
  }
  const Wide scale = pow10(kMaxFactorDecimals);
  // |a| < 2^63 and |factor| < 10^27 < 2^90 would overflow 128 bits together; check first.
  const Wide magnitude = factor < 0 ? -factor : factor;
  const Wide limit = (static_cast<Wide>(1) << 126) / (magnitude > 0 ? magnitude : 1);
  if ((a < 0 ? -static_cast<Wide>(a) : static_cast<Wide>(a)) > limit) overflow(L, "money.mul");
  const Wide result = divide_half_even(static_cast<Wide>(a) * factor, scale);
  if (!fits(result)) overflow(L, "money.mul");
  lua_pushinteger(L, static_cast<lua_Integer>(result));
  return 1;
}

// money.div(a, divisor): a split into `divisor` parts, rounded half to even; nil for 0.
int money_div(lua_State* L) {
  const std::int64_t a = check_amount(L, 1, "money.div");
  Wide divisor = 0;
  if (!factor_as_decimal(L, 2, divisor)) {
    argument_error(L, "money.div", 2, "a finite number or a decimal string");
  }
  if (divisor == 0) {
    lua_pushnil(L);
    return 1;
  }
  // a / (divisor / 10^k) = a × 10^k / divisor; |a| × 10^12 < 2^63 × 2^40 fits.
  const Wide result = divide_half_even(static_cast<Wide>(a) * pow10(kMaxFactorDecimals), divisor);
  if (!fits(result)) overflow(L, "money.div");
  lua_pushinteger(L, static_cast<lua_Integer>(result));
  return 1;
}

// money.ratio(a, b): a / b as a plain number (a share, not an amount); nil when b is 0.
int money_ratio(lua_State* L) {
  const std::int64_t a = check_amount(L, 1, "money.ratio");
  const std::int64_t b = check_amount(L, 2, "money.ratio");
  if (b == 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushnumber(L, static_cast<double>(a) / static_cast<double>(b));
  return 1;
}

}  // namespace

void push_money_library(lua_State* L) {
  static constexpr luaL_Reg kFunctions[] = {
      {"parse", money_parse}, {"format", money_format}, {"add", money_add},     {"sub", money_sub},
      {"mul", money_mul},     {"div", money_div},       {"ratio", money_ratio}, {nullptr, nullptr}};
  luaL_newlib(L, kFunctions);
}

}  // namespace flowpilot::scripting::detail
