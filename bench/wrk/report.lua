-- Shared by both runs: print a machine-readable summary wrk's --latency lacks (p95).
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d duration_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

-- wrk's default resolve opens and closes a test connection to the server first; with
-- keep-alive that short-lived connection counts as a worker's, and the real connections may
-- then all go to the other worker. Look the address up without connecting.
function wrk.resolve(host, service)
  wrk.addrs = wrk.lookup(host, service)
end
