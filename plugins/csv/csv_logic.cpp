#include "csv_logic.h"

#include <flowpilot/money.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <system_error>
#include <unordered_map>

namespace flowpilot::csv_plugin {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunkBytes = 1u << 16;
constexpr std::size_t kRawRecordCap = 4096;  // raw text kept for a rejected row
constexpr std::size_t kValueEcho = 60;       // characters of a bad value quoted in a reason

// ---- Options ---------------------------------------------------------------------------------

char parse_delimiter(const json::object& with, std::string_view prefix) {
  const json::value* d = with.if_contains("delimiter");
  if (d == nullptr || d->is_null()) return ',';
  if (!d->is_string()) throw OptionError(std::string(prefix) + ".delimiter: must be a string");
  const std::string_view s = d->get_string();
  if (s == "\\t" || s == "tab") return '\t';
  if (s.size() != 1 || s[0] == '"' || s[0] == '\r' || s[0] == '\n') {
    throw OptionError(std::string(prefix) +
                      ".delimiter: must be one character other than a quote or a line break");
  }
  return s[0];
}

ColumnType parse_type(std::string_view s, const std::string& where) {
  if (s == "string") return ColumnType::string;
  if (s == "integer") return ColumnType::integer;
  if (s == "number") return ColumnType::number;
  if (s == "decimal" || s == "money") return ColumnType::decimal;
  if (s == "date") return ColumnType::date;
  if (s == "boolean") return ColumnType::boolean;
  throw OptionError(where + ".type: `" + std::string(s) +
                    "` is not one of string, integer, number, decimal, money, date, boolean");
}

const char* type_name(ColumnType t) {
  switch (t) {
    case ColumnType::string: return "a string";
    case ColumnType::integer: return "an integer";
    case ColumnType::number: return "a number";
    case ColumnType::decimal: return "a decimal number";
    case ColumnType::date: return "a date";
    case ColumnType::boolean: return "a boolean";
  }
  return "a value";
}

// ---- Values ----------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  // from_chars accepts "inf" and "nan"; data never means them.
  const char c = s.front() == '-' && s.size() > 1 ? s[1] : s.front();
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_boolean(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "y" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "n" || lower == "0") return false;
  return std::nullopt;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Parses a date by a format of %Y %m %d and literal characters; returns YYYY-MM-DD.
std::optional<std::string> parse_date(std::string_view s, std::string_view format) {
  int y = -1, m = -1, d = -1;
  std::size_t i = 0;
  auto digits = [&](std::size_t min_n, std::size_t max_n, int* out) {
    std::size_t n = 0;
    int v = 0;
    while (n < max_n && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    *out = v;
    return n >= min_n;
  };
  for (std::size_t f = 0; f < format.size(); ++f) {
    if (format[f] == '%' && f + 1 < format.size()) {
      const char spec = format[++f];
      bool ok = false;
      if (spec == 'Y') ok = digits(4, 4, &y);
      else if (spec == 'm') ok = digits(1, 2, &m);
      else if (spec == 'd') ok = digits(1, 2, &d);
      if (!ok) return std::nullopt;
    } else {
      if (i >= s.size() || s[i] != format[f]) return std::nullopt;
      ++i;
    }
  }
  if (i != s.size() || y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    return std::nullopt;
  }
  char out[48];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, d);
  return std::string(out);
}

// Index of the first byte that is not valid UTF-8, or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::string echo(std::string_view s) {
  std::string out = "\"";
  if (s.size() > kValueEcho) {
    out.append(s.substr(0, kValueEcho));
    out += "...";
  } else {
    out.append(s);
  }
  return out + "\"";
}

std::string number_text(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

bool loosely_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    return std::llround(a.to_number<double>() * 1e6) == std::llround(b.to_number<double>() * 1e6);
  }
  return a == b;
}

// ---- Record parser ---------------------------------------------------------------------------

// Splits the input into records, RFC 4180 style, reusing its buffers from record to record.
class RecordParser {
 public:
  RecordParser(ByteSource& source, char delimiter, std::size_t max_field)
      : source_(source), delim_(delimiter), max_field_(max_field), chunk_(kChunkBytes, '\0') {}

  struct Record {
    std::vector<std::string> fields;  // only the first `count` are this record's
    std::size_t count = 0;
    std::uint64_t line = 0;  // where the record starts
    std::string raw;
    std::string error;       // a malformed record (unterminated quote, huge field, ...)
  };

  // False at the end of the input. Blank lines are skipped.
  bool next(Record& rec) {
    for (;;) {
      if (!start_record(rec)) return false;
      if (parse(rec)) return true;
    }
  }

 private:
  int peek() {
    if (pos_ == len_) {
      len_ = source_.read(chunk_.data(), chunk_.size());
      pos_ = 0;
      if (len_ == 0) return -1;
      if (first_chunk_) {
        first_chunk_ = false;
        if (len_ >= 3 && std::memcmp(chunk_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
        if (pos_ == len_) return peek();
      }
    }
    return static_cast<unsigned char>(chunk_[pos_]);
  }
  void take(Record& rec) {
    if (rec.raw.size() < kRawRecordCap) rec.raw.push_back(chunk_[pos_]);
    ++pos_;
  }

  bool start_record(Record& rec) {
    rec.count = 0;
    rec.raw.clear();
    rec.error.clear();
    rec.line = line_;
    return peek() >= 0;
  }

  std::string& new_field(Record& rec) {
    if (rec.count == rec.fields.size()) rec.fields.emplace_back();
    std::string& f = rec.fields[rec.count++];
    f.clear();
    return f;
  }

  void add(Record& rec, std::string& field, char c) {
    if (field.size() < max_field_) {
      field.push_back(c);
    } else if (rec.error.empty()) {
      rec.error = "field " + std::to_string(rec.count) + " is longer than " +
                  std::to_string(max_field_) + " bytes";
    }
  }

  // Consumes an end of line (LF, CRLF or a lone CR) if one is next.
  bool end_of_line(Record& rec) {
    const int c = peek();
    if (c == '\n') {
      take(rec);
      ++line_;
      return true;
    }
    if (c == '\r') {
      take(rec);
      if (peek() == '\n') take(rec);
      ++line_;
      return true;
    }
    return false;
  }

  // Parses one record; false for a blank line (nothing to return).
  bool parse(Record& rec) {
    if (end_of_line(rec)) return false;  // blank line
    for (;;) {
      std::string& field = new_field(rec);
      int c = peek();
      if (c == '"') {
        take(rec);
        for (;;) {
          c = peek();
          if (c < 0) {
            if (rec.error.empty()) rec.error = "a quoted field is not closed";
            return true;
          }
          if (c == '"') {
            take(rec);
            if (peek() == '"') {
              take(rec);
              add(rec, field, '"');
              continue;
            }
            break;
          }
          if (c == '\n') ++line_;
          if (c == '\r') {
            take(rec);
            add(rec, field, '\r');
            if (peek() == '\n') continue;
            ++line_;
            continue;
          }
          add(rec, field, static_cast<char>(c));
          take(rec);
        }
        c = peek();
        if (c >= 0 && c != delim_ && c != '\n' && c != '\r') {
          if (rec.error.empty()) {
            rec.error = "unexpected text after the closing quote of field " +
                        std::to_string(rec.count);
          }
          while ((c = peek()) >= 0 && c != delim_ && c != '\n' && c != '\r') take(rec);
        }
      } else {
        while ((c = peek()) >= 0 && c != delim_ && c != '\n' && c != '\r') {
          add(rec, field, static_cast<char>(c));
          take(rec);
        }
      }
      if (c == delim_) {
        take(rec);
        continue;
      }
      if (c >= 0) end_of_line(rec);
      if (rec.raw.size() >= kRawRecordCap) rec.raw += "...";
      // Drop the record's line ending from its raw text.
      while (!rec.raw.empty() && (rec.raw.back() == '\n' || rec.raw.back() == '\r')) {
        rec.raw.pop_back();
      }
      return true;
    }
  }

  ByteSource& source_;
  char delim_;
  std::size_t max_field_;
  std::string chunk_;
  std::size_t pos_ = 0, len_ = 0;
  bool first_chunk_ = true;
  std::uint64_t line_ = 1;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view s) : s_(s) {}
  std::size_t read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min(size, s_.size());
    std::memcpy(buffer, s_.data(), n);
    s_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view s_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const fs::path& path) : f_(std::fopen(path.c_str(), "rb")) {
    if (!f_) {
      throw OptionError("cannot open " + path.string() + ": " + std::strerror(errno));
    }
  }
  ~FileSource() override { std::fclose(f_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::size_t read(char* buffer, std::size_t size) override {
    const std::size_t n = std::fread(buffer, 1, size, f_);
    if (n == 0 && std::ferror(f_)) throw OptionError("reading the file failed");
    return n;
  }

 private:
  std::FILE* f_;
};

struct ColumnStats {
  std::uint64_t nulls = 0;
  std::uint64_t rejected = 0;
};

// Where each output column comes from.
struct Binding {
  const ColumnSpec* spec = nullptr;  // null: an extra column kept as a string
  std::size_t index = 0;             // position in the record
  json::string key;                  // output field name
  std::string label;                 // the name in messages
};

}  // namespace

// ---- Options ---------------------------------------------------------------------------------

ReadOptions parse_read_options(const json::object& with) {
  ReadOptions o;
  o.delimiter = parse_delimiter(with, "with");
  if (const auto* h = with.if_contains("header"); h != nullptr && !h->is_null()) {
    if (!h->is_bool()) throw OptionError("with.header: must be true or false");
    o.header = h->get_bool();
  }
  if (const auto* m = with.if_contains("max_field_bytes"); m != nullptr && !m->is_null()) {
    if (!m->is_int64() || m->get_int64() < 1) {
      throw OptionError("with.max_field_bytes: must be a positive integer");
    }
    o.max_field_bytes = static_cast<std::size_t>(m->get_int64());
  }
  if (const auto* e = with.if_contains("extra_columns"); e != nullptr && !e->is_null()) {
    if (!e->is_string() || (e->get_string() != "keep" && e->get_string() != "drop")) {
      throw OptionError("with.extra_columns: must be keep or drop");
    }
    o.keep_extra_columns = e->get_string() == "keep";
  }
  if (const auto* b = with.if_contains("stamp_batch_id"); b != nullptr && !b->is_null()) {
    if (!b->is_bool()) throw OptionError("with.stamp_batch_id: must be true or false");
    o.stamp_batch_id = b->get_bool();
  }
  if (const auto* m = with.if_contains("max_rejected"); m != nullptr && !m->is_null()) {
    RejectLimit limit;
    if (m->is_int64() && m->get_int64() >= 0) {
      limit.count = static_cast<std::uint64_t>(m->get_int64());
    } else if (m->is_double() && m->get_double() >= 0 && m->get_double() < 1) {
      limit.ratio = m->get_double();
    } else if (m->is_string() && !m->get_string().empty() && m->get_string().back() == '%') {
      const std::string_view s = m->get_string();
      const auto pct = parse_number(s.substr(0, s.size() - 1));
      if (!pct || *pct < 0 || *pct > 100) {
        throw OptionError("with.max_rejected: `" + std::string(s) + "` is not a percentage");
      }
      limit.ratio = *pct / 100.0;
    } else {
      throw OptionError(
          "with.max_rejected: must be a count (integer), a ratio below 1, or a percentage such "
          "as \"5%\"");
    }
    o.max_rejected = limit;
  }
  const json::value* schema = with.if_contains("schema");
  if (schema == nullptr || schema->is_null()) return o;
  if (!schema->is_array()) throw OptionError("with.schema: must be a list of columns");
  std::size_t i = 0;
  for (const auto& c : schema->get_array()) {
    const std::string where = "with.schema[" + std::to_string(i++) + "]";
    if (!c.is_object()) throw OptionError(where + ": must be an object");
    const json::object& col = c.get_object();
    ColumnSpec spec;
    const auto* name = col.if_contains("name");
    if (name == nullptr || !name->is_string() || name->get_string().empty()) {
      throw OptionError(where + ".name: a column needs a name");
    }
    spec.name = std::string(name->get_string());
    spec.out_name = spec.name;
    if (const auto* r = col.if_contains("rename"); r != nullptr && !r->is_null()) {
      if (!r->is_string() || r->get_string().empty()) {
        throw OptionError(where + ".rename: must be a non-empty string");
      }
      spec.out_name = std::string(r->get_string());
    }
    if (const auto* t = col.if_contains("type"); t != nullptr && !t->is_null()) {
      if (!t->is_string()) throw OptionError(where + ".type: must be a string");
      spec.type = parse_type(t->get_string(), where);
    }
    if (const auto* r = col.if_contains("required"); r != nullptr && !r->is_null()) {
      if (!r->is_bool()) throw OptionError(where + ".required: must be true or false");
      spec.required = r->get_bool();
    }
    if (const auto* f = col.if_contains("format"); f != nullptr && !f->is_null()) {
      if (!f->is_string() || spec.type != ColumnType::date) {
        throw OptionError(where + ".format: only a date column takes a format string");
      }
      spec.date_format = std::string(f->get_string());
    }
    if (const auto* a = col.if_contains("allowed"); a != nullptr && !a->is_null()) {
      if (!a->is_array()) throw OptionError(where + ".allowed: must be a list of values");
      spec.allowed.assign(a->get_array().begin(), a->get_array().end());
    }
    for (const char* bound : {"min", "max"}) {
      const auto* b = col.if_contains(bound);
      if (b == nullptr || b->is_null()) continue;
      const bool is_min = std::string_view(bound) == "min";
      if (spec.type == ColumnType::date) {
        const auto d = b->is_string() ? parse_date(b->get_string(), "%Y-%m-%d") : std::nullopt;
        if (!d) throw OptionError(where + "." + bound + ": must be a date (YYYY-MM-DD)");
        (is_min ? spec.min_date : spec.max_date) = *d;
      } else if (spec.type == ColumnType::integer || spec.type == ColumnType::number ||
                 spec.type == ColumnType::decimal) {
        if (!b->is_number()) throw OptionError(where + "." + bound + ": must be a number");
        (is_min ? spec.min : spec.max) = b->to_number<double>();
      } else {
        throw OptionError(where + "." + bound + ": only numeric and date columns take bounds");
      }
    }
    for (const auto& earlier : o.schema) {
      if (earlier.name == spec.name || earlier.out_name == spec.out_name) {
        throw OptionError(where + ": a second column named \"" +
                          (earlier.name == spec.name ? spec.name : spec.out_name) + "\"");
      }
    }
    o.schema.push_back(std::move(spec));
  }
  return o;
}

WriteOptions parse_write_options(const json::object& with) {
  WriteOptions o;
  o.delimiter = parse_delimiter(with, "with");
  if (const auto* h = with.if_contains("header"); h != nullptr && !h->is_null()) {
    if (!h->is_bool()) throw OptionError("with.header: must be true or false");
    o.header = h->get_bool();
  }
  if (const auto* l = with.if_contains("line_ending"); l != nullptr && !l->is_null()) {
    if (!l->is_string() || (l->get_string() != "crlf" && l->get_string() != "lf")) {
      throw OptionError("with.line_ending: must be crlf or lf");
    }
    o.line_ending = l->get_string() == "lf" ? "\n" : "\r\n";
  }
  if (const auto* c = with.if_contains("columns"); c != nullptr && !c->is_null()) {
    if (!c->is_array()) throw OptionError("with.columns: must be a list of field names");
    std::size_t i = 0;
    for (const auto& name : c->get_array()) {
      if (!name.is_string()) {
        throw OptionError("with.columns[" + std::to_string(i) + "]: must be a string");
      }
      o.columns.emplace_back(name.get_string());
      ++i;
    }
  }
  return o;
}

// ---- Reading ---------------------------------------------------------------------------------

ReadResult read_csv(ByteSource& source, const ReadOptions& options) {
  ReadResult result;
  RecordParser parser(source, options.delimiter, options.max_field_bytes);
  RecordParser::Record rec;

  std::vector<Binding> bindings;
  std::size_t expected_fields = 0;
  bool have_layout = false;

  auto layout_from = [&](const std::vector<std::string>* header, std::size_t count) {
    std::unordered_map<std::string, std::size_t> position;
    std::vector<std::string> names;
    if (header != nullptr) {
      for (std::size_t i = 0; i < count; ++i) {
        const std::string_view name = trim((*header)[i]);
        names.push_back(name.empty() ? "column_" + std::to_string(i + 1) : std::string(name));
        if (!position.emplace(names.back(), i).second) {
          // Two fields of one name would make the rows ambiguous.
          throw OptionError("the CSV header names the column \"" + names.back() + "\" twice");
        }
      }
    } else if (!options.schema.empty()) {
      for (const auto& c : options.schema) names.push_back(c.name);
      count = std::max(count, names.size());
      for (std::size_t i = names.size(); i < count; ++i) {
        names.push_back("column_" + std::to_string(i + 1));
      }
      for (std::size_t i = 0; i < names.size(); ++i) position.emplace(names[i], i);
    } else {
      for (std::size_t i = 0; i < count; ++i) {
        names.push_back("column_" + std::to_string(i + 1));
        position.emplace(names.back(), i);
      }
    }
    expected_fields = names.size();
    std::vector<bool> bound(names.size(), false);
    std::string missing;
    for (const auto& spec : options.schema) {
      auto it = position.find(spec.name);
      if (it == position.end()) {
        missing += (missing.empty() ? "\"" : ", \"") + spec.name + "\"";
        continue;
      }
      bound[it->second] = true;
      bindings.push_back({&spec, it->second, json::string(spec.out_name), spec.name});
    }
    if (!missing.empty()) {
      throw OptionError("the CSV header has no column " + missing + " (it has " +
                        std::to_string(names.size()) + " columns)");
    }
    if (options.schema.empty() || options.keep_extra_columns) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (!bound[i]) bindings.push_back({nullptr, i, json::string(names[i]), names[i]});
      }
      // Output fields in the file's order.
      std::stable_sort(bindings.begin(), bindings.end(),
                       [](const Binding& a, const Binding& b) { return a.index < b.index; });
    }
    have_layout = true;
  };

  std::vector<ColumnStats> stats;
  auto stats_for = [&](const Binding& b) -> ColumnStats& {
    return stats[static_cast<std::size_t>(&b - bindings.data())];
  };

  std::vector<std::string> reasons;
  const json::string batch_key("_batch_id");
  const json::string batch_value(options.batch_id);

  auto reject = [&](const RecordParser::Record& r) {
    ++result.rows_rejected;
    if (result.rejected.size() >= options.max_rejected_listed) return;
    json::array why;
    for (auto& s : reasons) why.emplace_back(s);
    result.rejected.push_back(json::object{{"line", r.line}, {"record", r.raw}, {"reasons", why}});
  };

  while (parser.next(rec)) {
    if (!have_layout) {
      if (options.header) {
        if (!rec.error.empty()) {
          throw OptionError("line " + std::to_string(rec.line) + ": the header is malformed: " +
                            rec.error);
        }
        if (invalid_utf8_at(rec.raw) != std::string_view::npos) {
          throw OptionError("line " + std::to_string(rec.line) + ": the header is not valid UTF-8");
        }
        layout_from(&rec.fields, rec.count);
        stats.assign(bindings.size(), {});
        continue;
      }
      layout_from(nullptr, rec.count);
      stats.assign(bindings.size(), {});
    }
    ++result.rows_read;
    reasons.clear();
    const std::string where = "line " + std::to_string(rec.line);
    if (!rec.error.empty()) {
      reasons.push_back(where + ": " + rec.error);
      reject(rec);
      continue;
    }
    if (rec.count != expected_fields) {
      reasons.push_back(where + ": has " + std::to_string(rec.count) + " fields, expected " +
                        std::to_string(expected_fields));
      reject(rec);
      continue;
    }
    json::object row;
    row.reserve(bindings.size() + (options.stamp_batch_id ? 1 : 0));
    for (const Binding& b : bindings) {
      const std::string& raw = rec.fields[b.index];
      auto column = [&b] { return ", column \"" + b.label + "\": "; };
      if (const auto bad = invalid_utf8_at(raw); bad != std::string_view::npos) {
        reasons.push_back(where + column() + "invalid UTF-8 at byte " + std::to_string(bad + 1));
        ++stats_for(b).rejected;
        continue;
      }
      if (b.spec == nullptr) {
        if (raw.empty()) ++stats_for(b).nulls;
        row.emplace(b.key, raw);
        continue;
      }
      const ColumnSpec& spec = *b.spec;
      const std::string_view text = spec.type == ColumnType::string ? std::string_view(raw)
                                                                    : trim(raw);
      if (text.empty()) {
        ++stats_for(b).nulls;
        if (spec.required) {
          reasons.push_back(where + column() + "is required but empty");
          ++stats_for(b).rejected;
        } else {
          row.emplace(b.key, nullptr);
        }
        continue;
      }
      json::value value;
      std::string why;
      switch (spec.type) {
        case ColumnType::string:
          value = json::string(text);
          break;
        case ColumnType::integer:
          if (auto v = parse_integer(text)) value = *v;
          break;
        case ColumnType::number:
          if (auto v = parse_number(text)) value = *v;
          break;
        case ColumnType::decimal:
          // Spreadsheets write "+5", ".5" and "1.50000000": the lenient dialect takes them.
          if (auto v = sdk::money::parse_decimal(text, sdk::money::Dialect::lenient); v.micros) {
            value = static_cast<double>(*v.micros) / 1e6;
          } else {
            why = v.problem;
          }
          break;
        case ColumnType::date:
          if (auto v = parse_date(text, spec.date_format)) value = json::string(*v);
          break;
        case ColumnType::boolean:
          if (auto v = parse_boolean(text)) value = *v;
          break;
      }
      if (value.is_null()) {
        reasons.push_back(where + column() + echo(text) + " " +
                          (why.empty() ? std::string("is not ") + type_name(spec.type) : why));
        ++stats_for(b).rejected;
        continue;
      }
      std::string bad;
      if (value.is_number()) {
        const double v = value.to_number<double>();
        if (spec.min && v < *spec.min) bad = "is below the minimum " + number_text(*spec.min);
        if (spec.max && v > *spec.max) bad = "is above the maximum " + number_text(*spec.max);
      } else if (spec.type == ColumnType::date) {
        const std::string_view d = value.get_string();
        if (spec.min_date && d < *spec.min_date) bad = "is before " + *spec.min_date;
        if (spec.max_date && d > *spec.max_date) bad = "is after " + *spec.max_date;
      }
      if (bad.empty() && !spec.allowed.empty() &&
          std::none_of(spec.allowed.begin(), spec.allowed.end(),
                       [&](const json::value& a) { return loosely_equal(a, value); })) {
        bad = "is not one of the allowed values " + json::serialize(json::array(
                                                        spec.allowed.begin(), spec.allowed.end()));
      }
      if (!bad.empty()) {
        reasons.push_back(where + column() + echo(text) + " " + bad);
        ++stats_for(b).rejected;
        continue;
      }
      row.emplace(b.key, std::move(value));
    }
    if (!reasons.empty()) {
      reject(rec);
      continue;
    }
    if (options.stamp_batch_id) row.emplace(batch_key, batch_value);
    result.rows.emplace_back(std::move(row));
  }

  json::object columns;
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    columns[bindings[i].key] = json::object{{"nulls", stats[i].nulls},
                                            {"rejected", stats[i].rejected}};
  }
  result.report = json::object{{"rows_read", result.rows_read},
                               {"rows_accepted", result.rows.size()},
                               {"rows_rejected", result.rows_rejected},
                               {"columns", std::move(columns)}};
  if (result.rejected.size() < result.rows_rejected) {
    result.report["rejected_listed"] = result.rejected.size();
  }
  return result;
}

ReadResult read_csv(std::string_view content, const ReadOptions& options) {
  StringSource source(content);
  return read_csv(source, options);
}

ReadResult read_csv_file(const fs::path& file, const ReadOptions& options) {
  std::error_code ec;
  // A directory, a FIFO or a device would fail late or block the worker thread.
  if (!fs::is_regular_file(file, ec)) {
    throw OptionError(file.string() + (fs::exists(file, ec) ? " is not a regular file"
                                                            : " does not exist"));
  }
  FileSource source(file);
  return read_csv(source, options);
}

std::optional<std::string> reject_limit_message(const ReadResult& result,
                                                const ReadOptions& options) {
  if (!options.max_rejected) return std::nullopt;
  const RejectLimit& limit = *options.max_rejected;
  std::string rule;
  if (limit.count && result.rows_rejected > *limit.count) {
    rule = "more than " + std::to_string(*limit.count) + " allowed";
  } else if (limit.ratio && result.rows_read > 0 &&
             static_cast<double>(result.rows_rejected) >
                 *limit.ratio * static_cast<double>(result.rows_read)) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g%%", *limit.ratio * 100);
    rule = std::string("more than ") + pct + " allowed";
  } else {
    return std::nullopt;
  }
  std::string message = "csv.read: " + std::to_string(result.rows_rejected) + " of " +
                        std::to_string(result.rows_read) + " rows rejected (" + rule + ")";
  std::size_t shown = 0;
  for (const auto& r : result.rejected) {
    if (shown++ == 10) {
      message += "\n  ...";
      break;
    }
    for (const auto& reason : r.at("reasons").get_array()) {
      message += "\n  " + std::string(reason.get_string());
    }
  }
  return message;
}

std::string batch_id_for(std::string_view key) {
  // FNV-1a, twice with different offsets, for 128 bits that do not depend on the platform.
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : key) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return h;
  };
  char out[40];
  std::snprintf(out, sizeof out, "b-%016llx%016llx",
                static_cast<unsigned long long>(fnv(14695981039346656037ull)),
                static_cast<unsigned long long>(fnv(0x9e3779b97f4a7c15ull)));
  return out;
}

// ---- Paths -----------------------------------------------------------------------------------

std::vector<fs::path> roots_from_config(const json::object& config) {
  std::vector<fs::path> roots;
  const json::value* r = config.if_contains("roots");
  if (r == nullptr || r->is_null()) return roots;
  if (!r->is_array()) throw OptionError("csv configuration: `roots` must be a list of directories");
  for (const auto& v : r->get_array()) {
    if (!v.is_string()) throw OptionError("csv configuration: every root must be a string");
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(std::string(v.get_string())), ec);
    if (ec) throw OptionError("csv configuration: root " + std::string(v.get_string()) + ": " +
                              ec.message());
    roots.push_back(std::move(p));
  }
  return roots;
}

fs::path resolve_allowed(std::string_view path, const std::vector<fs::path>& roots,
                         std::string_view field) {
  const std::string label(field);
  if (roots.empty()) {
    throw OptionError(label +
                      ": file access is off: the csv plugin has no allowed directories "
                      "(configure its `roots`)");
  }
  if (path.empty()) throw OptionError(label + ": the path is empty");
  if (path.find('\0') != std::string_view::npos) throw OptionError(label + ": the path has a NUL");
  fs::path p{std::string(path)};
  if (p.is_relative()) p = roots.front() / p;
  std::error_code ec;
  // Resolves `..` and every symbolic link of the part that exists.
  const fs::path resolved = fs::weakly_canonical(p, ec);
  if (ec) throw OptionError(label + ": " + std::string(path) + ": " + ec.message());
  for (const auto& root : roots) {
    auto r = root.begin();
    auto q = resolved.begin();
    for (; r != root.end() && q != resolved.end() && *r == *q; ++r, ++q) {
    }
    if (r == root.end() || (std::next(r) == root.end() && r->empty())) return resolved;
  }
  throw OptionError(label + ": `" + std::string(path) +
                    "` is outside the allowed directories (after resolving .. and links)");
}

// ---- Writing ---------------------------------------------------------------------------------

std::string format_cell(const json::value& value, char delimiter) {
  std::string text;
  bool is_text = false;
  switch (value.kind()) {
    case json::kind::null: return {};
    case json::kind::string:
      text = std::string(value.get_string());
      is_text = true;
      break;
    case json::kind::bool_: return value.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(value.get_int64());
    case json::kind::uint64: return std::to_string(value.get_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value.get_double());
      return ec == std::errc() ? std::string(buf, end) : std::string();
    }
    default:
      text = json::serialize(value);
      is_text = true;
      break;
  }
  bool quote = false;
  if (is_text && !text.empty()) {
    const char c = text.front();
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' || c == '\0') {
      text.insert(text.begin(), '\'');
      quote = true;
    }
  }
  if (!quote) {
    quote = text.find_first_of(std::string("\"\r\n") + delimiter) != std::string::npos;
  }
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string write_csv(const json::array& rows, WriteOptions& options) {
  if (options.columns.empty() && !rows.empty()) {
    if (!rows.front().is_object()) throw OptionError("with.rows[0]: must be an object");
    for (const auto& kv : rows.front().get_object()) options.columns.emplace_back(kv.key());
  }
  std::string out;
  const auto& cols = options.columns;
  if (options.header && !cols.empty()) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out += options.delimiter;
      out += format_cell(json::string(cols[i]), options.delimiter);
    }
    out += options.line_ending;
  }
  std::size_t index = 0;
  for (const auto& row : rows) {
    if (!row.is_object()) {
      throw OptionError("with.rows[" + std::to_string(index) + "]: must be an object");
    }
    const json::object& obj = row.get_object();
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out += options.delimiter;
      if (const json::value* v = obj.if_contains(cols[i])) out += format_cell(*v, options.delimiter);
    }
    out += options.line_ending;
    ++index;
  }
  return out;
}

void write_file_atomically(const fs::path& file, std::string_view text) {
  std::random_device rd;
  const fs::path tmp = file.parent_path() / (".~" + file.filename().string() + "." +
                                             std::to_string(rd()) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw OptionError("cannot write " + file.string() + ": " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw OptionError("writing " + file.string() + " failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw OptionError("cannot write " + file.string() + ": " + ec.message());
  }
}

}  // namespace flowpilot::csv_plugin
