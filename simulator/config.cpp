// The YAML configuration of `flowpilot sim` (see docs/simulator.md).
#include <yaml-cpp/yaml.h>

#include <climits>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "simulator/simulator.h"

namespace flowpilot::simulator {

namespace {

std::int64_t integer(const YAML::Node& node, const std::string& path, std::int64_t lo,
                     std::int64_t hi) {
  std::int64_t value = 0;
  try {
    value = node.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(path + ": must be an integer");
  }
  if (value < lo || value > hi) {
    throw std::invalid_argument(path + ": must be between " + std::to_string(lo) + " and " +
                                std::to_string(hi) + ", got " + std::to_string(value));
  }
  return value;
}

std::string text(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) throw std::invalid_argument(path + ": must be a string");
  return node.as<std::string>();
}

void apply(const YAML::Node& root, SimulatorOptions& options) {
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw std::invalid_argument("the configuration must be a mapping");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "listen") {
      parse_listen(text(value, key), options);
    } else if (key == "seed") {
      options.seed = static_cast<std::uint64_t>(integer(value, key, 0, INT64_MAX));
    } else if (key == "today") {
      auto day = parse_date(text(value, key));
      if (!day) throw std::invalid_argument("today: must be a date YYYY-MM-DD");
      options.today = *day;
    } else if (key == "days") {
      options.days = static_cast<int>(integer(value, key, 1, 3660));
    } else if (key == "token_lifetime_seconds") {
      options.token_lifetime = std::chrono::seconds(integer(value, key, 1, 31'536'000));
    } else if (key == "threads") {
      options.threads = static_cast<int>(integer(value, key, 1, 64));
    } else if (key == "rate_limits") {
      if (!value.IsMap())
        throw std::invalid_argument("rate_limits: must be a mapping vendor: {calls, window_ms}");
      for (const auto& limit : value) {
        const std::string vendor = limit.first.as<std::string>();
        const std::string path = "rate_limits." + vendor;
        if (!parse_vendor(vendor)) throw std::invalid_argument(path + ": unknown vendor");
        if (!limit.second.IsMap())
          throw std::invalid_argument(path + ": must be a mapping {calls, window_ms}");
        RateBudget budget;
        for (const auto& field : limit.second) {
          const std::string name = field.first.as<std::string>();
          if (name == "calls")
            budget.calls = static_cast<int>(integer(field.second, path + ".calls", 0, 1'000'000));
          else if (name == "window_ms")
            budget.window = std::chrono::milliseconds(
                integer(field.second, path + ".window_ms", 1, 86'400'000));
          else
            throw std::invalid_argument(path + "." + name + ": unknown setting (calls, window_ms)");
        }
        options.rate_limits[vendor] = budget;
      }
    } else if (key == "faults") {
      if (!value.IsSequence()) throw std::invalid_argument("faults: must be a list");
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string path = "faults[" + std::to_string(i) + "]";
        const YAML::Node& f = value[i];
        if (!f.IsMap()) throw std::invalid_argument(path + ": must be a mapping");
        std::string kind, vendor, fault_path;
        std::int64_t count = 1, status = 500, delay = 0;
        for (const auto& field : f) {
          const std::string name = field.first.as<std::string>();
          const std::string fpath = path + "." + name;
          if (name == "kind")
            kind = text(field.second, fpath);
          else if (name == "vendor")
            vendor = text(field.second, fpath);
          else if (name == "path")
            fault_path = text(field.second, fpath);
          else if (name == "count")
            count = integer(field.second, fpath, 0, 1'000'000);
          else if (name == "status")
            status = integer(field.second, fpath, 500, 599);
          else if (name == "delay_ms")
            delay = integer(field.second, fpath, 0, 600'000);
          else
            throw std::invalid_argument(
                fpath + ": unknown setting (kind, vendor, path, count, status, delay_ms)");
        }
        try {
          options.faults.push_back(make_fault(kind, vendor, fault_path, count, status, delay));
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(path + "." + e.what());
        }
      }
    } else {
      throw std::invalid_argument(key +
                                  ": unknown setting (listen, seed, today, days, "
                                  "token_lifetime_seconds, threads, rate_limits, faults)");
    }
  }
}

}  // namespace

void parse_listen(std::string_view listen, SimulatorOptions& options) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw std::invalid_argument("listen: expected HOST:PORT, got `" + std::string(listen) + "`");
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port_text(listen.substr(colon + 1));
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("listen: port must be 0-65535, got `" + port_text + "`");
  }
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
}

void apply_simulator_config_text(const std::string& yaml_text, SimulatorOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("not valid YAML: ") + e.what());
  }
  apply(root, options);
}

void load_simulator_config(const std::string& path, SimulatorOptions& options) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read `" + path + "`");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    apply_simulator_config_text(buffer.str(), options);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace flowpilot::simulator
