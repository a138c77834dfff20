// A small in-process metrics registry rendered in the Prometheus text exposition format 0.0.4,
// served by `GET /metrics` (DESIGN.md §9). DESIGN.md §4 lets us write this by hand: the format is
// small, and the C++ Prometheus clients are not packaged in Debian 12.
//
// Model:
//   Registry            owns metric families; families are never removed.
//   CounterFamily,      one metric name with help text and fixed label names; its children are
//   GaugeFamily,        keyed by label values (`with({"GET", "/api/v1/runs", "200"})`).
//   HistogramFamily
//   Counter, Gauge,     the children: handles that update atomics. A handle's address is stable for
//   Histogram           the registry's lifetime, so hot paths look a label set up once and cache
//                       the reference; an update is then one (counter, gauge set) or a few
//                       (histogram observe) atomic operations, with no lock and no allocation.
//
// Histograms have cumulative buckets with `le` labels plus `_sum` and `_count`; the `+Inf` bucket
// is implicit. default_latency_buckets() spans 100 µs to 10 s, in seconds (Prometheus' base unit),
// which covers an engine step (µs) up to a slow plugin HTTP call (s).
//
// Gauges can instead be computed at scrape time by a callback (queue depth, open connections), so
// the owner of the state does not have to push every change.
//
// Rendering: families sorted by name, children sorted by label values (in label-name order),
// buckets in ascending `le` order, so the output is deterministic and diffable. HELP text escapes
// `\` and newline; label values escape `\`, `"` and newline, and invalid UTF-8 in a label value is
// replaced by U+FFFD when the child is created (label values may come from outside, e.g. a plugin's
// target host, and one bad byte must not make the whole scrape unparsable). Numbers are printed
// without locale, round-trip exact, as `NaN`, `+Inf`, `-Inf` where needed. Families with no child
// yet are omitted, as the official clients do; a family without labels always has its one child.
//
// Programming errors throw std::invalid_argument: a metric name not matching
// `[a-zA-Z_:][a-zA-Z0-9_:]*`, a label name not matching `[a-zA-Z_][a-zA-Z0-9_]*` or starting with
// `__`, duplicate label names, `le` as a histogram label, a name registered twice (including the
// `_bucket`/`_sum`/`_count` names a histogram occupies), buckets not strictly increasing, a wrong
// number of label values, a negative counter increment. promtool also expects counter names to end
// in `_total` and base units (seconds, bytes); that is a convention left to the caller.
//
// Thread-safety: everything may be called from any thread concurrently. Registration and `with()`
// take a mutex (registry-wide resp. per family); child updates are lock-free atomics with relaxed
// ordering (a scrape is a snapshot of independent values, not a consistent cut). render() reads the
// atomics without stopping writers, and derives a histogram's `_count` from its buckets so the two
// always agree within one scrape. Gauge callbacks run on the thread calling render(), outside any
// registry lock; they must be thread-safe and must not outlive what they capture. A callback that
// throws has its sample left out of that scrape.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::web::metrics {

// The Content-Type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Bucket upper bounds in seconds, from 100 µs to 10 s.
const std::vector<double>& default_latency_buckets();

// Formats a sample value as the exposition format expects: shortest round-trip decimal, no
// locale, plain notation for exponents -5 < e < 21 (as Go's clients print `le` values), `NaN`,
// `+Inf`, `-Inf`. Exposed for tests and for code that writes `le` values itself.
std::string format_value(double value);

// A monotonically increasing value. Obtain from CounterFamily::with().
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(std::uint64_t n = 1) noexcept { whole_.fetch_add(n, std::memory_order_relaxed); }
  // Adds a fractional amount (e.g. seconds of CPU). Throws std::invalid_argument if v < 0 or NaN.
  void add(double v);
  double value() const noexcept;

 private:
  // Whole increments stay exact integers up to 2^64 and cost one atomic add; fractional ones,
  // rare in practice, go to a separate double so they do not slow the common case.
  std::atomic<std::uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

// A value that goes up and down. Obtain from GaugeFamily::with().
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { add(-1.0); }
  // The stored value; a callback set on this child is not consulted here (only by render()).
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A distribution over fixed buckets. Obtain from HistogramFamily::with().
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts v in the first bucket whose bound is >= v (NaN lands in +Inf only) and adds it to _sum.
  void observe(double v) noexcept;
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) noexcept {
    observe(std::chrono::duration<double>(d).count());
  }

  // Cumulative counts, one per bound plus the +Inf bucket last.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept;

 private:
  const std::vector<double>& bounds_;  // owned by the family, which outlives this child
  // Per-bucket (not cumulative) counts, so observe touches one bucket; size bounds_.size() + 1.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

namespace detail {

// What the three family kinds share: identity, label validation, rendering entry point.
class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }

  // Appends this family's HELP, TYPE and samples (nothing if it has no child).
  virtual void render(std::string& out) const = 0;

 protected:
  Family(std::string name, std::string help, std::vector<std::string> label_names);
  // Checks the number of values and repairs invalid UTF-8; the result keys the children map.
  std::vector<std::string> make_key(std::span<const std::string_view> values) const;

  mutable std::mutex mutex_;  // guards the derived class's children map

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

}  // namespace detail

class CounterFamily final : public detail::Family {
 public:
  Counter& with(std::initializer_list<std::string_view> label_values);
  Counter& with(const std::vector<std::string>& label_values);
  void render(std::string& out) const override;

 private:
  friend class Registry;
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  Counter& child(std::span<const std::string_view> label_values);

  std::map<std::vector<std::string>, std::unique_ptr<Counter>> children_;
};

class GaugeFamily final : public detail::Family {
 public:
  using Callback = std::function<double()>;

  Gauge& with(std::initializer_list<std::string_view> label_values);
  Gauge& with(const std::vector<std::string>& label_values);
  // Makes the child's rendered value `fn()`, evaluated at each render(); replaces any earlier
  // callback for those labels. An empty fn reverts to the stored value.
  void set_callback(std::initializer_list<std::string_view> label_values, Callback fn);
  void render(std::string& out) const override;

 private:
  friend class Registry;
  struct Child {
    Gauge gauge;
    std::shared_ptr<const Callback> callback;  // guarded by mutex_; shared so render can copy it
  };
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  Child& child(std::span<const std::string_view> label_values);

  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

class HistogramFamily final : public detail::Family {
 public:
  Histogram& with(std::initializer_list<std::string_view> label_values);
  Histogram& with(const std::vector<std::string>& label_values);
  const std::vector<double>& buckets() const noexcept { return bounds_; }
  void render(std::string& out) const override;

 private:
  friend class Registry;
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  Histogram& child(std::span<const std::string_view> label_values);

  std::vector<double> bounds_;
  std::vector<std::string> le_values_;  // bounds_ formatted once, plus "+Inf"
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each registers a new family; the returned reference lives as long as the registry.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `buckets` are upper bounds, strictly increasing, finite; a trailing +Inf is accepted and
  // dropped (it is always added).
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> buckets = default_latency_buckets());

  // The whole registry in the text exposition format 0.0.4 (see kContentType).
  std::string render() const;

 private:
  // Claims `names` (a family's name and any suffixed sample names) or throws if one is taken.
  void reserve_names(const std::vector<std::string>& names);
  template <class F>
  F& add(std::unique_ptr<F> family, const std::vector<std::string>& names);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<detail::Family>> families_;  // by name: render order
  std::map<std::string, std::string> taken_;  // every sample name in use -> its family
};

}  // namespace flowpilot::web::metrics
