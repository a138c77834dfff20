// Personal data (PII): which output fields a step kind marks as personal, masking a run's
// personal values for callers without pii:read, and erasing one person's data (GDPR erasure).
//
// Marking. A plugin marks a field of its output schema with the keyword "x-pii": true, e.g.
//   {"properties": {"contacts": {"type": "array", "items": {"properties":
//       {"email": {"type": "string", "x-pii": true}}}}}}
// which marks the path contacts[*].email. Paths are read from the schemas once (PiiCatalog).
//
// Masking works on values, not only on paths: the strings found at marked paths of a run's step
// outputs are the run's personal values (PiiValues), and everything the run shows (the marked
// outputs, later steps' inputs and outputs that copied them, errors, logs, the workflow's outputs,
// approval messages) has them replaced by "[pii]": a string equal to a value, a word equal to
// one, or a value with a space (a full name) inside longer text. A value copied by a Lua step
// into another field is masked too; a personal value that never passed through a marked field
// (typed into a webhook body, say) is not known to be personal and is shown.
//
// Erasure (PersonErasure) starts from an email: rows that hold it (objects with a member equal
// to it) have every marked field replaced by "[erased]", and the person's email, phone and full
// name, learnt from those rows, are replaced wherever else they appear.
//
// Thread-safety: PiiCatalog is immutable after construction; PiiValues and PersonErasure are
// values, safe to read from many threads once built.
#pragma once

#include "engine/model/workflow.h"
#include "engine/steps/step.h"
#include "engine/store/store.h"

#include <boost/json/value.hpp>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace flowpilot::engine {

// Member names from the output's root; "*" stands for every item of an array.
using PiiPath = std::vector<std::string>;

// The paths a JSON Schema marks with "x-pii": true (through properties, items, and the branches
// of allOf / anyOf / oneOf).
std::vector<PiiPath> pii_paths(const boost::json::value& schema);

// "contacts[*].email"
std::string pii_path_text(const PiiPath& path);

// The marked paths of every step kind of a registry. Build it once the plugins are loaded.
class PiiCatalog {
 public:
  explicit PiiCatalog(const StepRegistry& steps);

  // Empty for a kind that marks nothing (or is unknown).
  const std::vector<PiiPath>& paths_of(std::string_view uses) const;
  // The last member name of every marked path ("email", "phone", ...), for erasure.
  const std::set<std::string>& field_names() const { return field_names_; }
  bool empty() const { return paths_.empty(); }

 private:
  std::map<std::string, std::vector<PiiPath>, std::less<>> paths_;
  std::set<std::string> field_names_;
};

// A set of values to find, and what to put in their place.
class PiiValues {
 public:
  static constexpr std::string_view kMask = "[pii]";

  PiiValues() : PiiValues(std::string(kMask)) {}
  explicit PiiValues(std::string replacement);

  // Adds the strings (and numbers, as text) found at `paths` of `output`.
  void collect(const std::vector<PiiPath>& paths, const boost::json::value& output);
  // Values shorter than two characters are ignored: they would match everywhere.
  void add(std::string_view value);
  bool empty() const { return words_.empty() && phrases_.empty(); }
  std::size_t size() const { return words_.size() + phrases_.size(); }

  // Copies with every occurrence replaced; `count` (when given) grows by the replacements made.
  boost::json::value mask(const boost::json::value& value, std::size_t* count = nullptr) const;
  std::string mask_text(std::string_view text, std::size_t* count = nullptr) const;

 private:
  bool is_value(std::string_view word) const;

  std::string replacement_;
  std::unordered_set<std::string> words_;  // values without spaces; emails lower-cased
  struct LongestFirst {
    bool operator()(const std::string& a, const std::string& b) const {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    }
  };
  std::set<std::string, LongestFirst> phrases_;  // values with a space, longest first
};

// The personal values of one run: what its steps' outputs hold at the paths their kinds mark.
PiiValues run_pii_values(const PiiCatalog& catalog, const Workflow& workflow,
                         const std::vector<StepRecord>& steps);

// One person's data, found from their email.
class PersonErasure {
 public:
  static constexpr std::string_view kErased = "[erased]";

  // `fields`: the member names that hold personal data (PiiCatalog::field_names()).
  PersonErasure(std::string_view email, std::set<std::string> fields);

  // First pass: learns the person's phone and full name from rows holding the email.
  void learn(const boost::json::value& value);
  // The values erased wherever they appear: the email, and what learn() found.
  std::vector<std::string> identifiers() const;

  // Second pass: copies with the person's data erased; `count` grows by the values replaced.
  boost::json::value erase(const boost::json::value& value, std::size_t& count) const;
  std::string erase_text(std::string_view text, std::size_t& count) const;

 private:
  bool holds_email(const boost::json::object& row) const;

  std::string email_;  // lower-case
  std::set<std::string> fields_;
  PiiValues values_;
  std::set<std::string> learnt_;
};

}  // namespace flowpilot::engine
