#include "http/ratelimit/redis_rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

namespace facefuse::http::ratelimit {
namespace {

using tasks::redis::LuaScript;
using tasks::redis::RedisReply;

// Longest TTL we set: a limit so slow that its bucket refills over more than this is reset to
// full after this much idleness, a negligible leniency that keeps keys from living forever.
constexpr double kMaxTtlMs = 30.0 * 24 * 3600 * 1000;

// KEYS[1]: the bucket. ARGV: rate in tokens per ms, burst, TTL in ms.
// Returns {allowed 1|0, retry_after_ms, remaining tokens as text} (Lua numbers would be
// truncated to integers on the way out). A denial writes nothing: the stored state already
// implies the same refill later (no clamp to burst can have happened below one token), and
// skipping the write keeps the 429 path read-only.
const LuaScript& take_script() {
    static const LuaScript script(R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens, updated = burst, now
local v = redis.call('GET', KEYS[1])
if v then
  local sp = string.find(v, ' ', 1, true)
  local tk = sp and tonumber(string.sub(v, 1, sp - 1))
  local up = sp and tonumber(string.sub(v, sp + 1))
  if tk and up then
    tokens, updated = tk, up
    if now > updated then
      tokens = tokens + (now - updated) * rate
      updated = now
    end
  end
end
if tokens > burst then tokens = burst end
if tokens >= 1 - 1e-6 then
  tokens = math.max(0, tokens - 1)
  redis.call('SET', KEYS[1], string.format('%.17g %d', tokens, updated), 'PX', ARGV[3])
  return {1, 0, string.format('%.17g', tokens)}
end
local retry = math.ceil((1 - 1e-6 - tokens) / rate)
if retry < 1 then retry = 1 end
return {0, retry, string.format('%.17g', tokens)}
)lua");
    return script;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

Error unavailable(std::string message) {
    return make_error(ErrorCode::kUnavailable, std::move(message));
}

Result<RateDecision> decode(const RedisReply& reply) {
    if (!reply.is_array() || reply.elements.size() != 3) {
        return unavailable("The rate limiter got an unexpected reply from Redis.");
    }
    RateDecision decision;
    decision.allowed = reply.elements[0].as_int() == 1;
    if (!decision.allowed) {
        decision.retry_after =
            std::chrono::milliseconds(std::max<long long>(1, reply.elements[1].as_int()));
    }
    const double remaining = std::strtod(reply.elements[2].str.c_str(), nullptr);
    decision.remaining = std::isfinite(remaining) ? std::max(0.0, remaining) : 0.0;
    return decision;
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(std::shared_ptr<tasks::redis::RedisClient> client,
                                   RedisRateLimiterOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

std::string RedisRateLimiter::redis_key(const std::string& bucket_key) const {
    return options_.key_prefix + bucket_key;
}

Result<RateDecision> RedisRateLimiter::take(const std::string& bucket_key, const RateLimit& limit) {
    if (!limit.enabled()) return RateDecision{};
    if (!client_) return unavailable("The rate limiter has no Redis client.");
    try {
        const double burst = std::max(1.0, limit.burst);
        const double ttl_ms =
            std::min(kMaxTtlMs, std::ceil(burst / limit.rate_per_s) * 1000.0 + 1000.0);
        auto reply = client_->eval(take_script(), {redis_key(bucket_key)},
                                   {number(limit.rate_per_s / 1000.0), number(burst),
                                    std::to_string(static_cast<long long>(ttl_ms))});
        if (!reply.ok()) {
            if (reply.error().code == ErrorCode::kUnavailable) return reply.error();
            return unavailable("The rate limiter's Redis script failed: " + reply.error().message);
        }
        return decode(*reply);
    } catch (const std::exception& e) {  // out of memory building the command
        return unavailable(std::string("The rate limiter could not ask Redis: ") + e.what());
    }
}

}  // namespace facefuse::http::ratelimit
