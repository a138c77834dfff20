#include "web/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace flowpilot::web::metrics {
namespace {

bool is_name_start(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_name_char(char c, bool allow_colon) {
  return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

bool valid_name(std::string_view s, bool allow_colon) {
  if (s.empty() || !is_name_start(s.front(), allow_colon)) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return is_name_char(c, allow_colon); });
}

void check_metric_name(const std::string& name) {
  if (!valid_name(name, /*allow_colon=*/true)) {
    throw std::invalid_argument("metrics: invalid metric name '" + name +
                                "' (must match [a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
}

void check_label_names(const std::string& metric, const std::vector<std::string>& labels,
                       bool histogram) {
  std::set<std::string_view> seen;
  for (const std::string& label : labels) {
    // Colons are reserved for recording rules in metric names; label names never allow them.
    if (!valid_name(label, /*allow_colon=*/false)) {
      throw std::invalid_argument("metrics: " + metric + ": invalid label name '" + label +
                                  "' (must match [a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (label.starts_with("__")) {
      throw std::invalid_argument("metrics: " + metric + ": label name '" + label +
                                  "' starts with '__', which Prometheus reserves");
    }
    if (histogram && label == "le") {
      throw std::invalid_argument("metrics: " + metric +
                                  ": 'le' is reserved for histogram buckets");
    }
    if (!seen.insert(label).second) {
      throw std::invalid_argument("metrics: " + metric + ": duplicate label name '" + label + "'");
    }
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong forms,
// surrogates and code points above U+10FFFF included, as Prometheus' parser rejects them).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per bad byte
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

void append_escaped_help(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_escaped_label_value(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_header(std::string& out, const detail::Family& f, std::string_view type) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  append_escaped_help(out, f.help());
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += type;
  out += '\n';
}

// One sample line: `<name><suffix>{l1="v1",...[,le="x"]} <value>`.
void append_sample(std::string& out, const detail::Family& f, std::string_view suffix,
                   const std::vector<std::string>& label_values, const std::string* le,
                   std::string_view value) {
  out += f.name();
  out += suffix;
  const std::vector<std::string>& names = f.label_names();
  if (!names.empty() || le != nullptr) {
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ',';
      out += names[i];
      out += "=\"";
      append_escaped_label_value(out, label_values[i]);
      out += '"';
    }
    if (le != nullptr) {
      if (!names.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

std::string format_uint(std::uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

template <class Map>
auto find_or_create(Map& children, std::vector<std::string> key, auto make) ->
    typename Map::mapped_type::element_type& {
  auto it = children.find(key);
  if (it == children.end()) it = children.emplace(std::move(key), make()).first;
  return *it->second;
}

std::vector<std::string_view> views_of(const std::vector<std::string>& values) {
  return {values.begin(), values.end()};
}

}  // namespace

const std::vector<double>& default_latency_buckets() {
  // Roughly 1-2.5-5 per decade: fine enough to read a p99 at each scale we care about (engine
  // overhead in µs, SQLite commits in ms, plugin HTTP calls in s) with 16 buckets per child.
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                               1.0,    2.5,     5.0,    10.0};
  return kBuckets;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits; the scientific form tells us the decimal exponent.
  const auto sci = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view text(buf, static_cast<std::size_t>(sci.ptr - buf));
  int exponent = 0;
  const std::size_t e = text.find('e');
  const char* exp_begin = text.data() + e + 1;
  if (*exp_begin == '+') ++exp_begin;  // from_chars takes '-' but not '+'
  std::from_chars(exp_begin, text.data() + text.size(), exponent);
  if (exponent <= -5 || exponent >= 21) return std::string(text);
  const auto fixed = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

// ---- children ----

void Counter::add(double v) {
  if (!(v >= 0.0)) {  // also catches NaN
    throw std::invalid_argument("metrics: counter increment must be >= 0");
  }
  fraction_.fetch_add(v, std::memory_order_relaxed);
}

double Counter::value() const noexcept {
  return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
         fraction_.load(std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  // lower_bound finds the first bound >= v, matching `le` (less than or equal). NaN must be
  // routed by hand: lower_bound tests `bound < NaN`, false for all, and would pick bucket 0.
  const std::size_t i =
      std::isnan(v) ? bounds_.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
  }
  return total;
}

// ---- families ----

namespace detail {

Family::Family(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

std::vector<std::string> Family::make_key(std::span<const std::string_view> values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metrics: " + name_ + " has " +
                                std::to_string(label_names_.size()) + " label(s), got " +
                                std::to_string(values.size()) + " value(s)");
  }
  std::vector<std::string> key;
  key.reserve(values.size());
  for (std::string_view v : values) key.push_back(sanitize_utf8(v));
  return key;
}

}  // namespace detail

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {}

Counter& CounterFamily::child(std::span<const std::string_view> label_values) {
  std::vector<std::string> key = make_key(label_values);
  const std::lock_guard lock(mutex_);
  return find_or_create(children_, std::move(key), [] { return std::make_unique<Counter>(); });
}

Counter& CounterFamily::with(std::initializer_list<std::string_view> label_values) {
  return child({label_values.begin(), label_values.size()});
}

Counter& CounterFamily::with(const std::vector<std::string>& label_values) {
  return child(views_of(label_values));
}

void CounterFamily::render(std::string& out) const {
  const std::lock_guard lock(mutex_);  // children are only read: atomics and immutable keys
  if (children_.empty()) return;
  append_header(out, *this, "counter");
  for (const auto& [labels, counter] : children_) {
    append_sample(out, *this, "", labels, nullptr, format_value(counter->value()));
  }
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {}

GaugeFamily::Child& GaugeFamily::child(std::span<const std::string_view> label_values) {
  std::vector<std::string> key = make_key(label_values);
  const std::lock_guard lock(mutex_);
  return find_or_create(children_, std::move(key), [] { return std::make_unique<Child>(); });
}

Gauge& GaugeFamily::with(std::initializer_list<std::string_view> label_values) {
  return child({label_values.begin(), label_values.size()}).gauge;
}

Gauge& GaugeFamily::with(const std::vector<std::string>& label_values) {
  return child(views_of(label_values)).gauge;
}

void GaugeFamily::set_callback(std::initializer_list<std::string_view> label_values,
                               Callback fn) {
  Child& c = child({label_values.begin(), label_values.size()});
  auto shared = fn ? std::make_shared<const Callback>(std::move(fn)) : nullptr;
  const std::lock_guard lock(mutex_);
  c.callback = std::move(shared);
}

void GaugeFamily::render(std::string& out) const {
  // Snapshot under the lock, call the callbacks without it: a callback may take its owner's
  // lock, and that owner may be registering a child of this family at the same moment.
  struct Row {
    const std::vector<std::string>* labels;  // keys are never erased, so the pointer stays valid
    const Gauge* gauge;
    std::shared_ptr<const Callback> callback;
  };
  std::vector<Row> rows;
  {
    const std::lock_guard lock(mutex_);
    rows.reserve(children_.size());
    for (const auto& [labels, c] : children_) rows.push_back({&labels, &c->gauge, c->callback});
  }
  if (rows.empty()) return;
  append_header(out, *this, "gauge");
  for (const Row& row : rows) {
    double value = 0.0;
    if (row.callback) {
      try {
        value = (*row.callback)();
      } catch (...) {
        continue;  // a broken callback costs its own sample, not the scrape
      }
    } else {
      value = row.gauge->value();
    }
    append_sample(out, *this, "", *row.labels, nullptr, format_value(value));
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {
  le_values_.reserve(bounds_.size() + 1);
  for (double b : bounds_) le_values_.push_back(format_value(b));
  le_values_.emplace_back("+Inf");
}

Histogram& HistogramFamily::child(std::span<const std::string_view> label_values) {
  std::vector<std::string> key = make_key(label_values);
  const std::lock_guard lock(mutex_);
  return find_or_create(children_, std::move(key),
                        [this] { return std::make_unique<Histogram>(bounds_); });
}

Histogram& HistogramFamily::with(std::initializer_list<std::string_view> label_values) {
  return child({label_values.begin(), label_values.size()});
}

Histogram& HistogramFamily::with(const std::vector<std::string>& label_values) {
  return child(views_of(label_values));
}

void HistogramFamily::render(std::string& out) const {
  const std::lock_guard lock(mutex_);
  if (children_.empty()) return;
  append_header(out, *this, "histogram");
  for (const auto& [labels, h] : children_) {
    const std::vector<std::uint64_t> counts = h->cumulative_counts();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      append_sample(out, *this, "_bucket", labels, &le_values_[i], format_uint(counts[i]));
    }
    append_sample(out, *this, "_sum", labels, nullptr, format_value(h->sum()));
    // From the same snapshot as the buckets, so _count always equals the +Inf bucket.
    append_sample(out, *this, "_count", labels, nullptr, format_uint(counts.back()));
  }
}

// ---- registry ----

void Registry::reserve_names(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (const auto it = taken_.find(n); it != taken_.end()) {
      throw std::invalid_argument("metrics: name '" + n + "' is already used by metric '" +
                                  it->second + "'");
    }
  }
  for (const std::string& n : names) taken_.emplace(n, names.front());
}

template <class F>
F& Registry::add(std::unique_ptr<F> family, const std::vector<std::string>& names) {
  // A family without labels has exactly one child; create it now so it renders (as 0) from the
  // first scrape instead of appearing only after its first update.
  if (family->label_names().empty()) family->with({});
  const std::lock_guard lock(mutex_);
  reserve_names(names);
  F& ref = *family;
  families_.emplace(family->name(), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  check_metric_name(name);
  check_label_names(name, label_names, /*histogram=*/false);
  std::vector<std::string> names{name};
  return add(std::unique_ptr<CounterFamily>(
                 new CounterFamily(std::move(name), std::move(help), std::move(label_names))),
             names);
}

GaugeFamily& Registry::gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  check_metric_name(name);
  check_label_names(name, label_names, /*histogram=*/false);
  std::vector<std::string> names{name};
  return add(std::unique_ptr<GaugeFamily>(
                 new GaugeFamily(std::move(name), std::move(help), std::move(label_names))),
             names);
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  check_metric_name(name);
  check_label_names(name, label_names, /*histogram=*/true);
  if (!buckets.empty() && buckets.back() == std::numeric_limits<double>::infinity()) {
    buckets.pop_back();
  }
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i]))) {
      throw std::invalid_argument("metrics: " + name +
                                  ": buckets must be finite and strictly increasing");
    }
  }
  std::vector<std::string> names{name, name + "_bucket", name + "_sum", name + "_count"};
  return add(std::unique_ptr<HistogramFamily>(new HistogramFamily(
                 std::move(name), std::move(help), std::move(label_names), std::move(buckets))),
             names);
}

std::string Registry::render() const {
  std::vector<const detail::Family*> families;
  {
    const std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  // Families are never removed, so rendering them after dropping the lock is safe, and a slow
  // gauge callback does not block registration.
  std::string out;
  for (const detail::Family* f : families) f->render(out);
  return out;
}

}  // namespace flowpilot::web::metrics
