// The logic behind guardrail.check: is a KPI (CPA, spend, or any kpi metric) beyond a limit for a
// sustained window per campaign? The metrics and row parsing are kpi's (kpi.h), so a guardrail and
// a KPI report always agree on a figure.
//
// Errors: bad input throws flowpilot::kpi::InputError naming the field. Thread-safety: check() is
// reentrant and keeps no state.
#ifndef FLOWPILOT_PLUGINS_GUARDRAIL_GUARDRAIL_H
#define FLOWPILOT_PLUGINS_GUARDRAIL_GUARDRAIL_H

#include <boost/json.hpp>

namespace flowpilot::guardrail {

// guardrail.check's output for `with` (`ok`, `breaches`, `summary`, ...). It never fails because
// of a breach: the plugin does that when `with.fail_on_breach` is true.
boost::json::object check(const boost::json::object& with);

}  // namespace flowpilot::guardrail

#endif  // FLOWPILOT_PLUGINS_GUARDRAIL_GUARDRAIL_H
