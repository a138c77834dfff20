-- Shared wrk report: prints one machine-readable line when the run ends.
--
--   wrk_report: requests=N ok=N duration_s=S rps=R ok_rps=R mean_ms=M p50_ms=M p90_ms=M
--               p99_ms=M max_ms=M err_connect=N err_read=N err_write=N err_status=N
--               err_timeout=N
--
-- (one line; the fields are space-separated key=value pairs.)
--
-- Use it directly (`wrk -s wrk_report.lua ...`, a plain GET) or load it from
-- another script, as post.lua does, so every HTTP benchmark (n8n, Flowpilot)
-- reports the same figures computed the same way.
--
-- rps counts every completed response; ok_rps leaves out non-2xx/3xx answers
-- (wrk's "status" errors). Latency percentiles come from wrk's histogram of
-- all completed responses; requests that hit wrk's --timeout are only counted
-- in err_timeout, so keep --timeout well above the expected p99.

local function ms(us) return us / 1000.0 end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local errs = summary.errors
   local ok = summary.requests - errs.status
   local line = string.format(
      "wrk_report: requests=%d ok=%d duration_s=%.3f rps=%.2f ok_rps=%.2f " ..
      "mean_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
      "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d",
      summary.requests, ok, secs,
      summary.requests / secs, ok / secs,
      ms(latency.mean), ms(latency:percentile(50)), ms(latency:percentile(90)),
      ms(latency:percentile(99)), ms(latency.max),
      errs.connect, errs.read, errs.write, errs.status, errs.timeout)
   io.write(line .. "\n")
end
