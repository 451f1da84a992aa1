#pragma once
// A rate limit (token bucket: `rate_per_s` tokens refill per second up to `burst`; a request
// takes one), its flag syntax, and the seam the HTTP layer asks before doing any work.
//
// The seam has two implementations: MemoryRateLimiter for `facefuse serve` (one process, state
// in memory) and RedisRateLimiter for the cluster, where every gateway must draw from the same
// bucket. The caller turns a denial into 429 `rate_limited` with Retry-After.
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace facefuse::http::ratelimit {

struct RateLimit {
    double rate_per_s = 0;  // tokens added per second
    double burst = 0;       // bucket capacity: requests allowed at once after a quiet period

    // False for `off` / `0`: every request is allowed and no state is kept.
    bool enabled() const { return rate_per_s > 0 && burst > 0; }
};

// Parses the `--rate-limit` syntax: "RPS:BURST" ("20:40", "0.5:1"), or "off" / "0" to disable.
// RPS is a positive decimal number (at most 1e6), BURST a decimal number >= 1 (at most 1e9);
// surrounding blanks are ignored. kUsage with a message that shows the syntax otherwise.
Result<RateLimit> parse_rate_limit(std::string_view text);

// "20:40", "0.5:1" or "off": the inverse of parse_rate_limit, for logs and --help.
std::string format_rate_limit(const RateLimit& limit);

struct RateDecision {
    bool allowed = true;
    // When denied: how long until one token is back (always >= 1 ms), for Retry-After (round
    // up to whole seconds there). Zero when allowed.
    std::chrono::milliseconds retry_after{0};
    // Tokens left in the bucket after this call (may be fractional; floor it for a header).
    // Meaningless (0) when the limit is disabled.
    double remaining = 0;
};

// Takes one token from the bucket named `bucket_key` under `limit`. The limit travels with
// every call (rather than being fixed per key) so a policy reload applies at once; a bucket
// whose limit shrank is clamped to the new burst. A disabled limit always allows and touches
// no state. Errors: kUnavailable when the backing store cannot answer (Redis only); the caller
// chooses to fail open or closed (see redis_rate_limiter.hpp).
class RateLimiter {
  public:
    virtual ~RateLimiter() = default;
    virtual Result<RateDecision> take(const std::string& bucket_key, const RateLimit& limit) = 0;
};

}  // namespace facefuse::http::ratelimit
