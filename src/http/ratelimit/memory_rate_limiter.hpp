#pragma once
// Token buckets in this process's memory: the rate limiter of `facefuse serve`.
//
// The 429 path must stay cheap under an overload burst, so take() is O(1) (one hash lookup and
// a list splice under one shard's mutex) and memory is bounded: at most `max_buckets` buckets
// are kept. A bucket that has been idle long enough to be full again is equivalent to no bucket,
// so such buckets are dropped as later calls pass by (up to two per call, oldest first). When
// more buckets than the cap are active at once, the least recently used one is dropped even if
// it is not full: that tenant later starts from a full bucket, a bounded leniency chosen over
// unbounded memory.
//
// Time comes from `now_ms` (milliseconds on any monotonic scale) so tests drive it; empty means
// std::chrono::steady_clock. A clock that goes backwards is treated as standing still.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/ratelimit/rate_limit.hpp"

namespace facefuse::http::ratelimit {

struct MemoryRateLimiterOptions {
    std::size_t max_buckets = 100'000;  // cap on tracked bucket keys (about 150 bytes each)
    // Independent mutexes; keys are spread by hash. More shards: less contention between
    // request threads, and the cap is split evenly among them (max_buckets / shards each).
    std::size_t shards = 16;
    std::function<std::int64_t()> now_ms;  // empty: steady clock
};

class MemoryRateLimiter final : public RateLimiter {
  public:
    explicit MemoryRateLimiter(MemoryRateLimiterOptions options = {});
    ~MemoryRateLimiter() override;
    MemoryRateLimiter(const MemoryRateLimiter&) = delete;
    MemoryRateLimiter& operator=(const MemoryRateLimiter&) = delete;

    // Never fails; thread-safe.
    Result<RateDecision> take(const std::string& bucket_key, const RateLimit& limit) override;

    // Buckets held now (for tests and a gauge); takes every shard's lock in turn.
    std::size_t tracked() const;

    struct Shard;  // defined in the .cpp

  private:
    std::int64_t now() const;
    Result<RateDecision> take_or_throw(const std::string& bucket_key, const RateLimit& limit);

    std::function<std::int64_t()> now_ms_;
    std::size_t per_shard_cap_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace facefuse::http::ratelimit
