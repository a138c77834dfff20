#include "engine/loader/detail/yaml_document.h"

#include "engine/loader/detail/document_paths.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <boost/json.hpp>

#include <charconv>
#include <istream>
#include <streambuf>
#include <unordered_map>
#include <utility>

namespace flowpilot::engine::detail {
namespace {

namespace json = boost::json;

// An istream over the caller's text without copying it.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // read-only: the get area is never written
    setg(begin, begin, begin + text.size());
  }
};

// Thrown from inside the event handler to stop yaml-cpp early; never leaves this file.
struct Refusal {
  YAML::Mark mark;
  std::string message;
};

SourceLocation to_location(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return SourceLocation{file, 0, 0};
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!ok) return false;
  }
  return true;
}

// YAML 1.2 core schema float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool looks_like_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  const std::size_t int_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  const bool int_digits = i > int_start;
  bool frac_digits = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    frac_digits = i > frac_start;
  }
  if (!int_digits && !frac_digits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exp_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == exp_start) return false;
  }
  return i == s.size();
}

// Types a plain (unquoted, untagged) scalar the way the YAML 1.2 core schema does. `.inf` and
// `.nan` stay text: JSON cannot carry them.
json::value resolve_plain(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return json::value(true);
  if (text == "false" || text == "False" || text == "FALSE") return json::value(false);
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  if (all_digits(digits)) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + (text.front() == '+' ? 1 : 0),
                                     text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size()) return json::value(v);
    std::uint64_t u = 0;
    auto [uend, uec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
    if (!negative && uec == std::errc() && uend == digits.data() + digits.size()) {
      return json::value(u);
    }
    // Too large for 64 bits: fall through to a double, as a JSON parser would.
  }
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    const std::string_view body = std::string_view(text).substr(2);
    const int base = text[1] == 'x' ? 16 : 8;
    const bool ok = base == 16 ? is_hex(body) : body.find_first_not_of("01234567") == std::string_view::npos;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v, base);
    if (ok && ec == std::errc() && end == body.data() + body.size()) return json::value(v);
  }
  if (looks_like_float(text)) {
    double d = 0;
    const char* begin = text.data() + (text.front() == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, text.data() + text.size(), d);
    if (ec == std::errc() && end == text.data() + text.size()) return json::value(d);
  }
  return json::value(text);
}

json::value convert_scalar(const std::string& tag, const std::string& text) {
  // "?" marks a plain scalar; "!" a quoted or block scalar; an explicit !!str keeps text too.
  if (tag == "?") return resolve_plain(text);
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return json::value(text);
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
      tag == "tag:yaml.org,2002:bool") {
    return resolve_plain(text);
  }
  return json::value(text);
}

using LocationList = std::vector<std::pair<std::string, SourceLocation>>;

// Builds the JSON document straight from yaml-cpp's parse events, so that no yaml-cpp node graph
// is ever built: alias expansion is counted before it is copied, and the caps stop the parse.
class DocumentBuilder final : public YAML::EventHandler {
 public:
  DocumentBuilder(const std::string& file, const LoadLimits& limits,
                  std::vector<Diagnostic>& diagnostics)
      : file_(file), limits_(limits), diagnostics_(diagnostics) {}

  json::value take_root() { return std::move(root_); }
  LocationList take_locations() { return std::move(locations_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_anchor_name_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count_node(mark);
    if (expecting_key()) {
      take_key("", mark, anchor);
      return;
    }
    scalar_value(json::value(nullptr), mark, anchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count_node(mark);
    if (expecting_key()) {
      take_key(value, mark, anchor);
      return;
    }
    scalar_value(convert_scalar(tag, value), mark, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second.complete) {
      throw Refusal{mark, "alias `*" + anchor_name(anchor) +
                              "` refers to the node that contains it; recursive aliases are not "
                              "allowed"};
    }
    const Anchor& target = it->second;
    if (expecting_key()) {
      if (!target.value.is_string()) {
        throw Refusal{mark, "mapping keys must be plain text, not a list or a mapping"};
      }
      count_node(mark);
      take_key(std::string(target.value.get_string()), mark, 0);
      return;
    }
    if (nodes_ + target.nodes > limits_.max_nodes) {
      throw Refusal{mark, "the document expands to more than " + std::to_string(limits_.max_nodes) +
                              " nodes through aliases such as `*" + anchor_name(anchor) +
                              "`; refusing it"};
    }
    nodes_ += target.nodes;
    if (stack_.size() + target.depth > limits_.max_depth) refuse_depth(mark);
    const std::string path = next_path();
    locations_.emplace_back(path, to_location(file_, mark));
    for (const auto& [relative, where] : target.locations) {
      locations_.emplace_back(path + relative, where);
    }
    attach(json::value(target.value), target.depth);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, json::value(json::array()));
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, json::value(json::object()));
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    json::value value;  // array or object under construction
    std::string path;
    YAML::anchor_t anchor = 0;
    std::size_t first_location = 0;  // index into locations_ of this node's own entry
    std::size_t nodes_at_start = 0;
    std::size_t depth_below = 0;     // deepest child nesting seen so far
    // Mapping state: the key whose value comes next.
    bool have_key = false;
    std::string key;
    bool discard_value = false;  // the key repeats an earlier one
    std::unordered_map<std::string, int> key_lines;
    YAML::Mark mark;
  };
  struct Anchor {
    json::value value;
    LocationList locations;  // paths relative to the anchored node, e.g. ".with.x" or "[2]"
    std::size_t nodes = 0;
    std::size_t depth = 0;
    bool complete = false;
  };

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().have_key;
  }

  void count_node(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      throw Refusal{mark, "the document has more than " + std::to_string(limits_.max_nodes) +
                              " nodes; refusing it"};
    }
  }

  [[noreturn]] void refuse_depth(const YAML::Mark& mark) const {
    throw Refusal{mark, "the document is nested more than " + std::to_string(limits_.max_depth) +
                            " levels deep; refusing it"};
  }

  std::string anchor_name(YAML::anchor_t anchor) const {
    auto it = anchor_names_.find(anchor);
    return it == anchor_names_.end() ? std::to_string(anchor) : it->second;
  }

  void note_anchor(YAML::anchor_t anchor) {
    if (anchor == 0) return;
    anchor_names_[anchor] = pending_anchor_name_;
    anchors_[anchor] = Anchor{};  // open: an alias to it now would recurse
  }

  std::string next_path() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (top.value.is_array()) return index_path(top.path, top.value.get_array().size());
    return child_path(top.path, top.key);
  }

  void take_key(const std::string& key, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Frame& top = stack_.back();
    const SourceLocation where = to_location(file_, mark);
    if (auto it = top.key_lines.find(key); it != top.key_lines.end()) {
      diagnostics_.push_back(Diagnostic{
          where, "duplicate key `" + key + "`; the first is on line " + std::to_string(it->second),
          ""});
      top.discard_value = true;
    } else {
      top.key_lines.emplace(key, where.line);
      top.discard_value = false;
    }
    top.key = key;
    top.have_key = true;
    locations_.emplace_back(key_path(child_path(top.path, key)), where);
    if (anchor != 0) {
      note_anchor(anchor);
      Anchor& a = anchors_[anchor];
      a.value = json::value(key);
      a.nodes = 1;
      a.complete = true;
    }
  }

  void scalar_value(json::value v, const YAML::Mark& mark, YAML::anchor_t anchor) {
    const std::string path = next_path();
    locations_.emplace_back(path, to_location(file_, mark));
    if (anchor != 0) {
      note_anchor(anchor);
      Anchor& a = anchors_[anchor];
      a.value = v;
      a.nodes = 1;
      a.complete = true;
      charge_anchor_copy(mark, a.nodes);
    }
    attach(std::move(v), 0);
  }

  // An anchored subtree is kept as a copy for later aliases; that copy counts against the node
  // cap too, so nested anchors cannot multiply memory beyond it.
  void charge_anchor_copy(const YAML::Mark& mark, std::size_t nodes) {
    nodes_ += nodes;
    if (nodes_ > limits_.max_nodes) {
      throw Refusal{mark, "the document has more than " + std::to_string(limits_.max_nodes) +
                              " nodes; refusing it"};
    }
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, json::value container) {
    count_node(mark);
    if (expecting_key()) {
      throw Refusal{mark, "mapping keys must be plain text, not a list or a mapping"};
    }
    if (stack_.size() + 1 > limits_.max_depth) refuse_depth(mark);
    const std::string path = next_path();
    locations_.emplace_back(path, to_location(file_, mark));
    note_anchor(anchor);
    Frame frame;
    frame.value = std::move(container);
    frame.path = path;
    frame.anchor = anchor;
    frame.first_location = locations_.size() - 1;
    frame.nodes_at_start = nodes_ - 1;
    frame.mark = mark;
    stack_.push_back(std::move(frame));
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    const std::size_t depth = frame.depth_below + 1;
    if (frame.anchor != 0) {
      Anchor& a = anchors_[frame.anchor];
      a.value = frame.value;
      a.nodes = nodes_ - frame.nodes_at_start;
      a.depth = depth;
      a.locations.reserve(locations_.size() - frame.first_location - 1);
      for (std::size_t i = frame.first_location + 1; i < locations_.size(); ++i) {
        a.locations.emplace_back(locations_[i].first.substr(frame.path.size()),
                                 locations_[i].second);
      }
      a.complete = true;
      charge_anchor_copy(frame.mark, a.nodes);
    }
    attach(std::move(frame.value), depth);
  }

  void attach(json::value v, std::size_t depth) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& top = stack_.back();
    top.depth_below = std::max(top.depth_below, depth);
    if (top.value.is_array()) {
      top.value.get_array().push_back(std::move(v));
      return;
    }
    if (!top.discard_value) top.value.get_object()[top.key] = std::move(v);
    top.have_key = false;
    top.discard_value = false;
  }

  const std::string& file_;
  const LoadLimits& limits_;
  std::vector<Diagnostic>& diagnostics_;
  json::value root_;
  std::vector<Frame> stack_;
  LocationList locations_;
  std::unordered_map<YAML::anchor_t, Anchor> anchors_;
  std::unordered_map<YAML::anchor_t, std::string> anchor_names_;
  std::string pending_anchor_name_;
  std::size_t nodes_ = 0;
};

// Stops at the start of a second document: one file holds one workflow.
class SecondDocumentProbe final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { throw Refusal{mark, ""}; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { throw Refusal{mark, ""}; }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { throw Refusal{mark, ""}; }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    throw Refusal{mark, ""};
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    throw Refusal{mark, ""};
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    throw Refusal{mark, ""};
  }
  void OnMapEnd() override {}
};

}  // namespace

YamlParseResult parse_yaml_document(std::string_view text, const std::string& file_name,
                                    const LoadLimits& limits) {
  YamlParseResult result;
  auto refuse = [&](SourceLocation where, std::string message) {
    result.document.reset();
    result.diagnostics.push_back(Diagnostic{std::move(where), std::move(message), ""});
    return std::move(result);
  };
  if (text.size() > limits.max_file_bytes) {
    return refuse(SourceLocation{file_name, 0, 0},
                  "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                      std::to_string(limits.max_file_bytes));
  }

  ViewBuffer buffer(text);
  std::istream stream(&buffer);
  LocationList locations;
  json::value root;
  try {
    YAML::Parser parser(stream);
    DocumentBuilder builder(file_name, limits, result.diagnostics);
    if (!parser.HandleNextDocument(builder)) {
      return refuse(SourceLocation{file_name, 0, 0}, "the file holds no workflow: it is empty");
    }
    root = builder.take_root();
    locations = builder.take_locations();
    SecondDocumentProbe probe;
    try {
      parser.HandleNextDocument(probe);
    } catch (const Refusal& second) {
      return refuse(to_location(file_name, second.mark),
                    "the file holds more than one YAML document; put one workflow in each file");
    }
  } catch (const Refusal& refusal) {
    return refuse(to_location(file_name, refusal.mark), refusal.message);
  } catch (const YAML::Exception& e) {
    return refuse(to_location(file_name, e.mark), "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return refuse(SourceLocation{file_name, 0, 0}, std::string("cannot read the file: ") + e.what());
  }

  LocatedDocument doc;
  doc.root = std::move(root);
  // The first entry wins: a duplicate key's discarded value must not move its path's location.
  for (auto& [path, where] : locations) doc.locations.emplace(std::move(path), std::move(where));
  result.document = std::move(doc);
  return result;
}

}  // namespace flowpilot::engine::detail
