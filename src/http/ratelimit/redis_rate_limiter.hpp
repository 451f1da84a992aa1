#pragma once
// Token buckets in Redis: the rate limiter of the cluster, so a tenant's limit holds in total
// across every gateway rather than once per gateway.
//
// One Lua script refills and takes atomically, timed by the Redis server's own clock (TIME), so
// gateways whose clocks disagree still agree on every bucket. A bucket is one string key
// "<prefix><bucket_key>" = "<tokens> <updated_ms>", written only when a token is taken, with a
// TTL of ceil(burst / rate) + 1 s: by the time it expires the bucket would be full again, so an
// idle tenant costs nothing and losing the key loses nothing. One round trip per take().
//
// Errors: kUnavailable for anything that kept Redis from answering (down, timed out, a
// transient error, an unexpected reply), bounded by the RedisClient's connect and command
// timeouts. Recommendation to the caller: fail OPEN (allow the request) and log a warning,
// because a Redis outage already makes submits fail with 503 on their own, and failing closed
// would turn it into 429s for reads and cancels that could otherwise still be answered; see the
// limiter's outage in the logs, not in the clients' errors.
#include <memory>
#include <string>

#include "http/ratelimit/rate_limit.hpp"
#include "tasks/redis/redis_client.hpp"

namespace facefuse::http::ratelimit {

struct RedisRateLimiterOptions {
    std::string key_prefix = "ff:rl:";
};

class RedisRateLimiter final : public RateLimiter {
  public:
    // `client` must not be null; it may be shared with the queue and store.
    explicit RedisRateLimiter(std::shared_ptr<tasks::redis::RedisClient> client,
                              RedisRateLimiterOptions options = {});

    // Thread-safe (the client pools connections).
    Result<RateDecision> take(const std::string& bucket_key, const RateLimit& limit) override;

    // The Redis key that holds `bucket_key`'s bucket (for tests and operators).
    std::string redis_key(const std::string& bucket_key) const;

  private:
    std::shared_ptr<tasks::redis::RedisClient> client_;
    RedisRateLimiterOptions options_;
};

}  // namespace facefuse::http::ratelimit
