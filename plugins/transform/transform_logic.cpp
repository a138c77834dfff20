#include "transform_logic.h"

#include <flowpilot/money.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace flowpilot::transform_plugin {

namespace json = boost::json;

namespace {

const json::value kNull;

const json::array& rows_of(const json::object& with, std::string_view field = "rows") {
  const json::value* rows = with.if_contains(field);
  if (rows == nullptr || !rows->is_array()) {
    throw TransformError("with." + std::string(field) + ": must be a list of rows");
  }
  std::size_t i = 0;
  for (const auto& r : rows->get_array()) {
    if (!r.is_object()) {
      throw TransformError("with." + std::string(field) + "[" + std::to_string(i) +
                           "]: must be an object");
    }
    ++i;
  }
  return rows->get_array();
}

const json::value& field(const json::value& row, std::string_view name) {
  const json::value* v = row.get_object().if_contains(name);
  return v == nullptr ? kNull : *v;
}

std::string required_string(const json::object& obj, std::string_view name,
                            const std::string& where) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    throw TransformError(where + "." + std::string(name) + ": must be a non-empty string");
  }
  return std::string(v->get_string());
}

// A list of column names, or one name.
std::vector<std::string> names(const json::object& with, std::string_view key, bool required) {
  std::vector<std::string> out;
  const json::value* v = with.if_contains(key);
  const std::string where = "with." + std::string(key);
  if (v == nullptr || v->is_null()) {
    if (required) throw TransformError(where + ": is required");
    return out;
  }
  if (v->is_string()) {
    out.emplace_back(v->get_string());
    return out;
  }
  if (!v->is_array()) throw TransformError(where + ": must be a column name or a list of them");
  std::size_t i = 0;
  for (const auto& n : v->get_array()) {
    if (!n.is_string()) {
      throw TransformError(where + "[" + std::to_string(i) + "]: must be a string");
    }
    out.emplace_back(n.get_string());
    ++i;
  }
  if (required && out.empty()) throw TransformError(where + ": needs at least one column");
  return out;
}

std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

int type_rank(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return 0;
    case json::kind::bool_: return 1;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return 2;
    case json::kind::string: return 3;
    default: return 4;
  }
}

// <0, 0, >0; numbers by value, strings bytewise.
int compare(const json::value& a, const json::value& b) {
  const int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return 0;
    case 1: return static_cast<int>(a.get_bool()) - static_cast<int>(b.get_bool());
    case 2: {
      const auto ia = as_integer(a), ib = as_integer(b);
      if (ia && ib) return *ia < *ib ? -1 : (*ia > *ib ? 1 : 0);
      const double da = a.to_number<double>(), db = b.to_number<double>();
      return da < db ? -1 : (da > db ? 1 : 0);
    }
    case 3: {
      const int c = a.get_string().compare(b.get_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default: {
      const int c = json::serialize(a).compare(json::serialize(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

// A text key for grouping: equal values (5 and 5.0 too) give equal keys.
void append_key(std::string& key, const json::value& v) {
  switch (type_rank(v)) {
    case 0: key += 'n'; break;
    case 1: key += v.get_bool() ? "t" : "f"; break;
    case 2:
      if (auto i = as_integer(v)) {
        key += 'i';
        key += std::to_string(*i);
      } else {
        key += 'd';
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.to_number<double>());
        if (ec == std::errc()) key.append(buf, end);
      }
      break;
    case 3:
      key += 's';
      key.append(v.get_string());
      break;
    default:
      key += 'j';
      key += json::serialize(v);
      break;
  }
  key += '\x1f';
}

std::string key_of(const json::value& row, const std::vector<std::string>& columns) {
  std::string key;
  if (columns.empty()) {
    for (const auto& kv : row.get_object()) {
      key.append(kv.key());
      key += '\x1e';
      append_key(key, kv.value());
    }
    return key;
  }
  for (const auto& c : columns) append_key(key, field(row, c));
  return key;
}

bool has_null(const json::value& row, const std::vector<std::string>& columns) {
  return std::any_of(columns.begin(), columns.end(),
                     [&](const std::string& c) { return field(row, c).is_null(); });
}

std::string row_where(const std::string& where, std::size_t index) {
  return where + ": row " + std::to_string(index);
}

// ---- Aggregation -----------------------------------------------------------------------------

enum class Op { sum, count, min, max, avg, count_distinct };

Op parse_op(std::string_view s, const std::string& where) {
  if (s == "sum") return Op::sum;
  if (s == "count") return Op::count;
  if (s == "min") return Op::min;
  if (s == "max") return Op::max;
  if (s == "avg") return Op::avg;
  if (s == "count_distinct") return Op::count_distinct;
  throw TransformError(where + ": `" + std::string(s) +
                       "` is not one of sum, count, min, max, avg, count_distinct");
}

struct Aggregation {
  std::string column;  // empty: count rows
  Op op = Op::count;
  std::string as;
  std::string where;
};

// One aggregation's running state for one group.
struct Accumulator {
  std::int64_t int_sum = 0;
  std::int64_t micros = 0;  // the sum of the non-integers, in micros
  bool fractional = false;
  std::uint64_t count = 0;
  json::value best;  // min or max
  std::unordered_set<std::string> distinct;

  void add(const Aggregation& a, const json::value& v, std::size_t row_index) {
    if (a.column.empty()) {
      ++count;
      return;
    }
    if (v.is_null()) return;
    ++count;
    switch (a.op) {
      case Op::count: break;
      case Op::count_distinct: {
        std::string key;
        append_key(key, v);
        distinct.insert(std::move(key));
        break;
      }
      case Op::min:
      case Op::max:
        if (count == 1 || (a.op == Op::min ? compare(v, best) < 0 : compare(v, best) > 0)) {
          best = v;
        }
        break;
      case Op::sum:
      case Op::avg: {
        if (!v.is_number()) {
          throw TransformError(row_where(a.where, row_index) + ": `" + a.column + "` is " +
                               json::serialize(v) + ", not a number");
        }
        bool overflow = false;
        if (auto i = as_integer(v); i && !v.is_double()) {
          overflow = __builtin_add_overflow(int_sum, *i, &int_sum);
        } else {
          fractional = true;
          // nullopt above the size where a number no longer converts to micros exactly.
          const std::optional<std::int64_t> m = sdk::money::to_micros(v);
          overflow = !m || __builtin_add_overflow(micros, *m, &micros);
        }
        if (overflow) {
          throw TransformError(row_where(a.where, row_index) + ": the sum of `" + a.column +
                               "` is too large to add exactly");
        }
        break;
      }
    }
  }

  // int_sum and micros together, in micros; nullopt when that does not fit.
  std::optional<std::int64_t> total_micros() const {
    std::int64_t total = 0;
    if (__builtin_mul_overflow(int_sum, std::int64_t{1'000'000}, &total) ||
        __builtin_add_overflow(total, micros, &total)) {
      return std::nullopt;
    }
    return total;
  }

  json::value result(const Aggregation& a) const {
    switch (a.op) {
      case Op::count: return count;
      case Op::count_distinct: return distinct.size();
      case Op::min:
      case Op::max: return best;
      case Op::sum:
        if (count == 0) return nullptr;
        if (!fractional) return int_sum;
        if (auto total = total_micros()) return static_cast<double>(*total) / 1e6;
        return static_cast<double>(int_sum) + static_cast<double>(micros) / 1e6;
      case Op::avg: {
        if (count == 0) return nullptr;
        const auto total = total_micros();
        const double sum = total ? static_cast<double>(*total)
                                 : static_cast<double>(int_sum) * 1e6 + static_cast<double>(micros);
        // Rounded to whole micros, like every other money figure.
        return std::round(sum / static_cast<double>(count)) / 1e6;
      }
    }
    return nullptr;
  }
};

std::vector<Aggregation> parse_aggregations(const json::object& with) {
  const json::value* v = with.if_contains("aggregations");
  if (v == nullptr || !v->is_array() || v->get_array().empty()) {
    throw TransformError("with.aggregations: must be a non-empty list");
  }
  std::vector<Aggregation> out;
  std::size_t i = 0;
  for (const auto& a : v->get_array()) {
    const std::string where = "with.aggregations[" + std::to_string(i++) + "]";
    if (!a.is_object()) throw TransformError(where + ": must be an object");
    const json::object& obj = a.get_object();
    Aggregation agg;
    agg.where = where;
    agg.op = parse_op(required_string(obj, "op", where), where + ".op");
    if (const auto* c = obj.if_contains("column"); c != nullptr && !c->is_null()) {
      if (!c->is_string() || c->get_string().empty()) {
        throw TransformError(where + ".column: must be a non-empty string");
      }
      agg.column = std::string(c->get_string());
    } else if (agg.op != Op::count) {
      throw TransformError(where + ".column: is required for " +
                           std::string(obj.at("op").get_string()));
    }
    if (const auto* as = obj.if_contains("as"); as != nullptr && !as->is_null()) {
      agg.as = required_string(obj, "as", where);
    } else {
      agg.as = agg.column.empty() ? std::string("count")
                                  : std::string(obj.at("op").get_string()) + "_" + agg.column;
    }
    out.push_back(std::move(agg));
  }
  return out;
}

json::array aggregate(const json::object& with) {
  const json::array& rows = rows_of(with);
  const std::vector<std::string> group_by = names(with, "group_by", false);
  const std::vector<Aggregation> aggs = parse_aggregations(with);
  struct Group {
    const json::value* first;
    std::vector<Accumulator> acc;
  };
  std::unordered_map<std::string, std::size_t> index;
  std::vector<Group> groups;
  if (group_by.empty()) groups.push_back({nullptr, std::vector<Accumulator>(aggs.size())});
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::size_t g = 0;
    if (!group_by.empty()) {
      auto [it, inserted] = index.try_emplace(key_of(rows[r], group_by), groups.size());
      if (inserted) groups.push_back({&rows[r], std::vector<Accumulator>(aggs.size())});
      g = it->second;
    }
    for (std::size_t a = 0; a < aggs.size(); ++a) {
      groups[g].acc[a].add(aggs[a], aggs[a].column.empty() ? kNull : field(rows[r], aggs[a].column),
                           r);
    }
  }
  json::array out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    json::object row;
    for (const auto& c : group_by) row[c] = field(*g.first, c);
    for (std::size_t a = 0; a < aggs.size(); ++a) row[aggs[a].as] = g.acc[a].result(aggs[a]);
    out.emplace_back(std::move(row));
  }
  return out;
}

// ---- The other operations --------------------------------------------------------------------

bool truthy(const json::value& v) { return !(v.is_null() || (v.is_bool() && !v.get_bool())); }

std::string expression_of(const json::object& with, std::string_view key) {
  const json::value* v = with.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    throw TransformError("with." + std::string(key) + ": must be a Lua expression (a string)");
  }
  return std::string(v->get_string());
}

json::value eval_or_throw(const Evaluator& evaluate, const std::string& expression,
                          const json::value& row, const std::string& where, std::size_t index) {
  json::value out;
  std::string error;
  if (!evaluate(expression, row, out, error)) {
    throw TransformError(row_where(where, index) + ": " + error);
  }
  return out;
}

json::array filter(const json::object& with, const Evaluator& evaluate) {
  const json::array& rows = rows_of(with);
  const std::string where = expression_of(with, "where");
  json::array out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (truthy(eval_or_throw(evaluate, where, rows[i], "with.where", i))) out.push_back(rows[i]);
  }
  return out;
}

json::array map(const json::object& with, const Evaluator& evaluate) {
  const json::array& rows = rows_of(with);
  std::vector<std::pair<std::string, std::string>> fields;
  if (const auto* f = with.if_contains("fields"); f != nullptr && !f->is_null()) {
    if (!f->is_object()) throw TransformError("with.fields: must map field names to expressions");
    for (const auto& kv : f->get_object()) {
      if (!kv.value().is_string()) {
        throw TransformError("with.fields." + std::string(kv.key()) +
                             ": must be a Lua expression (a string)");
      }
      fields.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }
  const std::vector<std::string> keep = names(with, "keep", false);
  const std::vector<std::string> drop = names(with, "drop", false);
  if (!keep.empty() && !drop.empty()) throw TransformError("with: give `keep` or `drop`, not both");
  json::array out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json::object& in = rows[i].get_object();
    json::object row;
    if (!keep.empty()) {
      for (const auto& k : keep) {
        if (const auto* v = in.if_contains(k)) row[k] = *v;
      }
    } else {
      row = in;
      for (const auto& d : drop) row.erase(d);
    }
    for (const auto& [name, expression] : fields) {
      row[name] = eval_or_throw(evaluate, expression, rows[i], "with.fields." + name, i);
    }
    out.emplace_back(std::move(row));
  }
  return out;
}

json::array join(const json::object& with) {
  const json::array& left = rows_of(with);
  const json::array& right = rows_of(with, "right");
  std::vector<std::string> left_on = names(with, "left_on", false);
  std::vector<std::string> right_on = names(with, "right_on", false);
  const std::vector<std::string> on = names(with, "on", false);
  if (!on.empty()) left_on = right_on = on;
  if (left_on.empty() || left_on.size() != right_on.size()) {
    throw TransformError("with.on: give the key columns (or left_on and right_on of equal length)");
  }
  std::string type = "inner";
  if (const auto* t = with.if_contains("type"); t != nullptr && !t->is_null()) {
    if (!t->is_string() || (t->get_string() != "inner" && t->get_string() != "left")) {
      throw TransformError("with.type: must be inner or left");
    }
    type = std::string(t->get_string());
  }
  std::string prefix = "right_";
  if (const auto* p = with.if_contains("prefix"); p != nullptr && p->is_string()) {
    prefix = std::string(p->get_string());
  }
  std::unordered_map<std::string, std::vector<std::size_t>> index;
  for (std::size_t i = 0; i < right.size(); ++i) {
    if (has_null(right[i], right_on)) continue;  // a null key matches nothing
    index[key_of(right[i], right_on)].push_back(i);
  }
  const std::unordered_set<std::string> right_keys(right_on.begin(), right_on.end());
  json::array out;
  for (const auto& l : left) {
    const std::vector<std::size_t>* matches = nullptr;
    if (!has_null(l, left_on)) {
      auto it = index.find(key_of(l, left_on));
      if (it != index.end()) matches = &it->second;
    }
    if (matches == nullptr) {
      if (type == "left") out.push_back(l);
      continue;
    }
    for (std::size_t m : *matches) {
      json::object row = l.get_object();
      for (const auto& kv : right[m].get_object()) {
        // The key columns are equal on both sides when they share a name.
        if (right_keys.count(std::string(kv.key())) != 0 && row.contains(kv.key())) continue;
        if (row.contains(kv.key())) {
          row[prefix + std::string(kv.key())] = kv.value();
        } else {
          row[kv.key()] = kv.value();
        }
      }
      out.emplace_back(std::move(row));
    }
  }
  return out;
}

std::string column_name(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "null";
  if (auto i = as_integer(v)) return std::to_string(*i);
  return json::serialize(v);
}

json::array pivot(const json::object& with) {
  const json::array& rows = rows_of(with);
  const std::vector<std::string> index_cols = names(with, "index", true);
  const std::string columns = required_string(with, "columns", "with");
  const std::string values = required_string(with, "values", "with");
  Aggregation agg;
  agg.column = values;
  agg.where = "with.values";
  agg.op = Op::sum;
  if (const auto* o = with.if_contains("op"); o != nullptr && !o->is_null()) {
    if (!o->is_string()) throw TransformError("with.op: must be a string");
    agg.op = parse_op(o->get_string(), "with.op");
  }
  json::value fill = nullptr;
  if (const auto* f = with.if_contains("fill")) fill = *f;
  std::vector<std::string> new_columns;
  std::unordered_map<std::string, std::size_t> column_index;
  struct Group {
    const json::value* first;
    std::unordered_map<std::size_t, Accumulator> cells;
  };
  std::unordered_map<std::string, std::size_t> group_index;
  std::vector<Group> groups;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string name = column_name(field(rows[r], columns));
    auto [cit, new_col] = column_index.try_emplace(name, new_columns.size());
    if (new_col) new_columns.push_back(name);
    auto [git, new_group] = group_index.try_emplace(key_of(rows[r], index_cols), groups.size());
    if (new_group) groups.push_back({&rows[r], {}});
    groups[git->second].cells[cit->second].add(agg, field(rows[r], values), r);
  }
  json::array out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    json::object row;
    for (const auto& c : index_cols) row[c] = field(*g.first, c);
    for (std::size_t c = 0; c < new_columns.size(); ++c) {
      auto it = g.cells.find(c);
      row[new_columns[c]] = it == g.cells.end() ? fill : it->second.result(agg);
    }
    out.emplace_back(std::move(row));
  }
  return out;
}

json::array sort(const json::object& with) {
  const json::array& rows = rows_of(with);
  const json::value* by = with.if_contains("by");
  if (by == nullptr || by->is_null()) throw TransformError("with.by: is required");
  struct Key {
    std::string column;
    bool desc = false;
  };
  std::vector<Key> keys;
  json::array list = by->is_array() ? by->get_array() : json::array{*by};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "with.by[" + std::to_string(i) + "]";
    Key k;
    if (list[i].is_string()) {
      std::string_view s = list[i].get_string();
      if (!s.empty() && s.front() == '-') {
        k.desc = true;
        s.remove_prefix(1);
      }
      k.column = std::string(s);
    } else if (list[i].is_object()) {
      const json::object& o = list[i].get_object();
      k.column = required_string(o, "column", where);
      if (const auto* ord = o.if_contains("order"); ord != nullptr && !ord->is_null()) {
        if (!ord->is_string() || (ord->get_string() != "asc" && ord->get_string() != "desc")) {
          throw TransformError(where + ".order: must be asc or desc");
        }
        k.desc = ord->get_string() == "desc";
      }
    } else {
      throw TransformError(where + ": must be a column name or {column, order}");
    }
    if (k.column.empty()) throw TransformError(where + ": the column name is empty");
    keys.push_back(std::move(k));
  }
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (const Key& k : keys) {
      const json::value& va = field(rows[a], k.column);
      const json::value& vb = field(rows[b], k.column);
      // Nulls go last whichever the direction.
      if (va.is_null() || vb.is_null()) {
        if (va.is_null() && vb.is_null()) continue;
        return vb.is_null();
      }
      const int c = compare(va, vb);
      if (c != 0) return k.desc ? c > 0 : c < 0;
    }
    return false;
  });
  json::array out;
  out.reserve(rows.size());
  for (std::size_t i : order) out.push_back(rows[i]);
  return out;
}

json::array dedupe(const json::object& with) {
  const json::array& rows = rows_of(with);
  const std::vector<std::string> keys = names(with, "keys", false);
  bool keep_last = false;
  if (const auto* k = with.if_contains("keep"); k != nullptr && !k->is_null()) {
    if (!k->is_string() || (k->get_string() != "first" && k->get_string() != "last")) {
      throw TransformError("with.keep: must be first or last");
    }
    keep_last = k->get_string() == "last";
  }
  std::unordered_map<std::string, std::size_t> chosen;  // key → row index
  std::vector<std::size_t> order;                        // first occurrence order of each key
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto [it, inserted] = chosen.try_emplace(key_of(rows[i], keys), i);
    if (inserted) {
      order.push_back(i);
    } else if (keep_last) {
      it->second = i;
    }
  }
  json::array out;
  if (!keep_last) {
    for (std::size_t i : order) out.push_back(rows[i]);
    return out;
  }
  // Keep the last occurrences, in the order they appear.
  std::vector<std::size_t> last;
  last.reserve(chosen.size());
  for (const auto& kv : chosen) last.push_back(kv.second);
  std::sort(last.begin(), last.end());
  for (std::size_t i : last) out.push_back(rows[i]);
  return out;
}

}  // namespace

json::array run(std::string_view op, const json::object& with, const Evaluator& evaluate) {
  if (op == "filter") return filter(with, evaluate);
  if (op == "map") return map(with, evaluate);
  if (op == "aggregate") return aggregate(with);
  if (op == "join") return join(with);
  if (op == "pivot") return pivot(with);
  if (op == "sort") return sort(with);
  if (op == "dedupe") return dedupe(with);
  throw TransformError("unknown transform `" + std::string(op) + "`");
}

}  // namespace flowpilot::transform_plugin
