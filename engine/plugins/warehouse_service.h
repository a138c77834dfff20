// The host side of the plugins' `warehouse` service: JSON requests (see flowpilot/plugin.h)
// translated into Warehouse calls, run one at a time on a thread of their own so that a
// million-row upsert never holds an executor worker.
//
// Rows arrive as normalized rows (amounts in major units as numbers or decimal strings) and are
// converted to integer micros here; every malformed value is reported with its path
// ("rows[3].spend is \"12,5\", not an amount").
//
// Thread-safety: submit() may be called from any thread. The destructor answers requests still
// queued with an error and joins the thread.
#pragma once

#include <boost/json/value.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flowpilot::engine {

class Warehouse;

struct WarehouseAnswer {
  bool ok = false;
  boost::json::value result;  // when ok
  std::string error;          // when not
};

// Runs one request synchronously (the thread of WarehouseService calls it; tests too).
WarehouseAnswer handle_warehouse_request(Warehouse& warehouse, const boost::json::value& request);

class WarehouseService {
 public:
  using Done = std::function<void(WarehouseAnswer)>;

  explicit WarehouseService(Warehouse& warehouse);
  ~WarehouseService();
  WarehouseService(const WarehouseService&) = delete;
  WarehouseService& operator=(const WarehouseService&) = delete;

  void submit(boost::json::value request, Done done);

 private:
  void loop();

  Warehouse& warehouse_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<boost::json::value, Done>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                   // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace flowpilot::engine
