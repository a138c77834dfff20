#include "engine/access/pii.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace flowpilot::engine {

namespace json = boost::json;

namespace {

constexpr int kMaxSchemaDepth = 64;
constexpr std::string_view kEvery = "*";

void find_marked(const json::value& node, PiiPath& path, int depth, std::vector<PiiPath>& out) {
  const auto* o = node.if_object();
  if (o == nullptr || depth > kMaxSchemaDepth) return;
  if (const auto* mark = o->if_contains("x-pii"); mark && mark->is_bool() && mark->get_bool()) {
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
    return;
  }
  if (const auto* props = o->if_contains("properties"); props && props->is_object()) {
    for (const auto& [name, sub] : props->get_object()) {
      path.emplace_back(name);
      find_marked(sub, path, depth + 1, out);
      path.pop_back();
    }
  }
  auto every = [&](const json::value& sub) {
    path.emplace_back(kEvery);
    find_marked(sub, path, depth + 1, out);
    path.pop_back();
  };
  if (const auto* items = o->if_contains("items")) {
    if (items->is_object()) every(*items);
    if (const auto* tuple = items->if_array()) {
      for (const auto& sub : *tuple) every(sub);
    }
  }
  if (const auto* extra = o->if_contains("additionalProperties"); extra && extra->is_object()) {
    every(*extra);
  }
  for (const char* branch : {"allOf", "anyOf", "oneOf"}) {
    if (const auto* list = o->if_contains(branch); list && list->is_array()) {
      for (const auto& sub : list->get_array()) find_marked(sub, path, depth + 1, out);
    }
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Characters that end a word in free text; '.', '@', '+', '-', '_' and '\'' stay inside words so
// that emails, phone numbers and names like O'Brien are one word.
bool separates(char c) {
  static constexpr std::string_view kSeparators = " \t\r\n,;:()[]{}<>\"|/\\=&?!`*";
  return kSeparators.find(c) != std::string_view::npos;
}

void add_all(PiiValues& values, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: values.add(v.get_string()); break;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: values.add(json::serialize(v)); break;
    case json::kind::array:
      for (const auto& item : v.get_array()) add_all(values, item);
      break;
    case json::kind::object:
      for (const auto& [key, item] : v.get_object()) add_all(values, item);
      break;
    default: break;
  }
}

void collect_at(PiiValues& values, const json::value& v, const PiiPath& path, std::size_t at) {
  if (at == path.size()) return add_all(values, v);
  if (path[at] == kEvery) {
    if (const auto* a = v.if_array()) {
      for (const auto& item : *a) collect_at(values, item, path, at + 1);
    } else if (const auto* o = v.if_object()) {
      for (const auto& [key, item] : *o) collect_at(values, item, path, at + 1);
    }
    return;
  }
  if (const auto* o = v.if_object()) {
    if (const auto* member = o->if_contains(path[at])) collect_at(values, *member, path, at + 1);
  }
}

// `name`, or `name #2`, `name #3`... when a masked key collides with one already there, so that
// no member disappears.
std::string unique_key(const json::object& out, std::string name) {
  if (!out.contains(name)) return name;
  int n = 2;
  while (out.contains(name + " #" + std::to_string(n))) ++n;
  return name + " #" + std::to_string(n);
}

const json::value* member_text(const json::object& row, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (const auto* v = row.if_contains(name); v && v->is_string() && !v->get_string().empty()) return v;
  }
  return nullptr;
}

}  // namespace

std::vector<PiiPath> pii_paths(const json::value& schema) {
  std::vector<PiiPath> out;
  PiiPath path;
  find_marked(schema, path, 0, out);
  return out;
}

std::string pii_path_text(const PiiPath& path) {
  std::string out;
  for (const auto& segment : path) {
    if (segment == kEvery) {
      out += "[*]";
    } else {
      if (!out.empty()) out += '.';
      out += segment;
    }
  }
  return out;
}

PiiCatalog::PiiCatalog(const StepRegistry& steps) {
  for (const auto& name : steps.step_names()) {
    const StepDescriptor* d = steps.describe(name);
    if (d == nullptr) continue;
    auto paths = pii_paths(d->output_schema);
    if (paths.empty()) continue;
    for (const auto& p : paths) {
      auto last = std::find_if(p.rbegin(), p.rend(), [](const std::string& s) { return s != kEvery; });
      if (last != p.rend()) field_names_.insert(*last);
    }
    paths_.emplace(name, std::move(paths));
  }
}

const std::vector<PiiPath>& PiiCatalog::paths_of(std::string_view uses) const {
  static const std::vector<PiiPath> kNone;
  auto it = paths_.find(uses);
  return it == paths_.end() ? kNone : it->second;
}

PiiValues::PiiValues(std::string replacement) : replacement_(std::move(replacement)) {}

void PiiValues::collect(const std::vector<PiiPath>& paths, const json::value& output) {
  for (const auto& path : paths) collect_at(*this, output, path, 0);
}

void PiiValues::add(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.size() < 2) return;
  const bool phrase = std::any_of(value.begin(), value.end(), separates);
  if (!phrase) {
    words_.insert(value.find('@') != std::string_view::npos ? lower(value) : std::string(value));
    return;
  }
  phrases_.emplace(value);
}

bool PiiValues::is_value(std::string_view word) const {
  if (word.size() < 2) return false;
  if (word.find('@') != std::string_view::npos) return words_.count(lower(word)) > 0;
  return words_.count(std::string(word)) > 0;
}

std::string PiiValues::mask_text(std::string_view text, std::size_t* count) const {
  if (empty() || text.empty()) return std::string(text);
  std::size_t made = 0;
  std::string out;
  if (is_value(text)) {
    out = replacement_;
    made = 1;
  } else {
    std::string phrased(text);
    for (const auto& phrase : phrases_) {
      std::size_t pos = 0;
      while ((pos = phrased.find(phrase, pos)) != std::string::npos) {
        phrased.replace(pos, phrase.size(), replacement_);
        pos += replacement_.size();
        ++made;
      }
    }
    out.reserve(phrased.size());
    std::size_t i = 0;
    while (i < phrased.size()) {
      if (separates(phrased[i])) {
        out += phrased[i++];
        continue;
      }
      std::size_t end = i;
      while (end < phrased.size() && !separates(phrased[end])) ++end;
      std::string_view word(phrased.data() + i, end - i);
      // A sentence's full stop is not part of the email or name before it.
      std::string_view trailing;
      while (!word.empty() && word.back() == '.') {
        word.remove_suffix(1);
        trailing = std::string_view(phrased.data() + i + word.size(), end - i - word.size());
      }
      if (is_value(word)) {
        out += replacement_;
        out += trailing;
        ++made;
      } else {
        out.append(phrased, i, end - i);
      }
      i = end;
    }
  }
  if (count != nullptr) *count += made;
  return out;
}

json::value PiiValues::mask(const json::value& value, std::size_t* count) const {
  if (empty()) return value;
  switch (value.kind()) {
    case json::kind::string:
      return json::value(mask_text(value.get_string(), count));
    case json::kind::int64:
    case json::kind::uint64:
      // A phone number kept as a number is still a phone number.
      if (is_value(json::serialize(value))) {
        if (count != nullptr) ++*count;
        return json::value(replacement_);
      }
      return value;
    case json::kind::array: {
      json::array out;
      out.reserve(value.get_array().size());
      for (const auto& v : value.get_array()) out.push_back(mask(v, count));
      return out;
    }
    case json::kind::object: {
      json::object out;
      out.reserve(value.get_object().size());
      for (const auto& [key, v] : value.get_object()) {
        // Keys can be personal too (rows grouped by email); masked keys that collide get a
        // number so that no row disappears.
        std::string name = unique_key(out, mask_text(key, count));
        out.emplace(name, mask(v, count));
      }
      return out;
    }
    default:
      return value;
  }
}

PiiValues run_pii_values(const PiiCatalog& catalog, const Workflow& workflow,
                         const std::vector<StepRecord>& steps) {
  PiiValues values;
  if (catalog.empty()) return values;
  for (const auto& record : steps) {
    if (record.output.is_null()) continue;
    const StepSpec* spec = workflow.find_step(record.step_id);
    if (spec == nullptr) {
      for (const auto& s : workflow.on_failure) {
        if (s.id == record.step_id) spec = &s;
      }
    }
    if (spec == nullptr) continue;
    values.collect(catalog.paths_of(spec->uses), record.output);
  }
  return values;
}

PersonErasure::PersonErasure(std::string_view email, std::set<std::string> fields)
    : email_(lower(email)), fields_(std::move(fields)), values_(std::string(kErased)) {
  values_.add(email_);
}

bool PersonErasure::holds_email(const json::object& row) const {
  for (const auto& [key, v] : row) {
    if (const auto* s = v.if_string(); s && s->size() == email_.size() && lower(*s) == email_) return true;
  }
  return false;
}

void PersonErasure::learn(const json::value& value) {
  if (const auto* a = value.if_array()) {
    for (const auto& item : *a) learn(item);
    return;
  }
  const auto* row = value.if_object();
  if (row == nullptr) return;
  if (holds_email(*row)) {
    // Only values that point at this person are erased everywhere: a phone number, another
    // email, a full name. A first name alone is erased in this row but nowhere else.
    for (const auto& [key, v] : *row) {
      if (fields_.count(std::string(key)) == 0) continue;
      std::string text = v.is_string() ? std::string(v.get_string())
                         : v.is_number() ? json::serialize(v) : std::string();
      const bool specific = std::any_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '@' || c == ' ';
      });
      if (specific && text.size() >= 5 && lower(text) != email_ && learnt_.insert(text).second) values_.add(text);
    }
    const auto* first = member_text(*row, {"firstname", "first_name", "firstName"});
    const auto* last = member_text(*row, {"lastname", "last_name", "lastName"});
    if (first != nullptr && last != nullptr) {
      std::string full = std::string(first->get_string()) + " " + std::string(last->get_string());
      if (learnt_.insert(full).second) values_.add(full);
    }
  }
  for (const auto& [key, v] : *row) learn(v);
}

std::vector<std::string> PersonErasure::identifiers() const {
  std::vector<std::string> out{email_};
  out.insert(out.end(), learnt_.begin(), learnt_.end());
  return out;
}

json::value PersonErasure::erase(const json::value& value, std::size_t& count) const {
  switch (value.kind()) {
    case json::kind::string:
    case json::kind::int64:
    case json::kind::uint64:
      return values_.mask(value, &count);
    case json::kind::array: {
      json::array out;
      out.reserve(value.get_array().size());
      for (const auto& v : value.get_array()) out.push_back(erase(v, count));
      return out;
    }
    case json::kind::object: {
      const auto& row = value.get_object();
      const bool person = holds_email(row);
      json::object out;
      out.reserve(row.size());
      for (const auto& [key, v] : row) {
        const bool personal = person && fields_.count(std::string(key)) > 0 &&
                              (v.is_string() || v.is_number()) &&
                              !(v.is_string() && v.get_string() == kErased);
        if (personal) {
          out.emplace(key, kErased);
          ++count;
        } else {
          std::string name = unique_key(out, values_.mask_text(key, &count));
          out.emplace(name, erase(v, count));
        }
      }
      return out;
    }
    default:
      return value;
  }
}

std::string PersonErasure::erase_text(std::string_view text, std::size_t& count) const {
  return values_.mask_text(text, &count);
}

}  // namespace flowpilot::engine
