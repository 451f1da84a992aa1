#include "http/ratelimit/memory_rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace facefuse::http::ratelimit {
namespace {

// Rounding in the refill arithmetic must not turn an exact refill into a denial, nor add a
// millisecond to Retry-After: a millionth of a token is the tolerance.
constexpr double kEpsilon = 1e-6;
// Far enough in the future to mean "never full", small enough to add to a time without overflow.
constexpr double kMaxHorizonMs = 1e15;
// Idle buckets dropped per call at most: keeps each call O(1) while memory still drains.
constexpr int kPrunePerCall = 2;

struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
    std::int64_t full_at_ms = 0;  // from then on the bucket is full: as good as absent
};

struct Item {
    std::string key;
    Bucket bucket;
};

std::int64_t ms_ceil(double ms) {
    return static_cast<std::int64_t>(std::ceil(std::min(ms, kMaxHorizonMs)));
}

}  // namespace

struct MemoryRateLimiter::Shard {
    std::mutex mutex;
    std::list<Item> lru;  // front: most recently used; nodes never move, so keys stay put
    std::unordered_map<std::string_view, std::list<Item>::iterator> index;  // views into lru

    void erase(std::list<Item>::iterator it) {
        index.erase(std::string_view(it->key));
        lru.erase(it);
    }
};

MemoryRateLimiter::MemoryRateLimiter(MemoryRateLimiterOptions options)
    : now_ms_(std::move(options.now_ms)) {
    const std::size_t max_buckets = std::max<std::size_t>(1, options.max_buckets);
    const std::size_t shards = std::clamp<std::size_t>(options.shards, 1, max_buckets);
    per_shard_cap_ = max_buckets / shards;
    shards_.reserve(shards);
    for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

MemoryRateLimiter::~MemoryRateLimiter() = default;

std::int64_t MemoryRateLimiter::now() const {
    if (now_ms_) return now_ms_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

Result<RateDecision> MemoryRateLimiter::take(const std::string& bucket_key,
                                             const RateLimit& limit) {
    if (!limit.enabled()) return RateDecision{};
    try {
        return take_or_throw(bucket_key, limit);
    } catch (const std::exception& e) {  // out of memory for a new bucket, or a throwing clock
        return make_error(ErrorCode::kInternal,
                          std::string("The rate limiter could not track a bucket: ") + e.what());
    }
}

Result<RateDecision> MemoryRateLimiter::take_or_throw(const std::string& bucket_key,
                                                      const RateLimit& limit) {
    const double rate_per_ms = limit.rate_per_s / 1000.0;
    const double burst = std::max(1.0, limit.burst);
    const std::int64_t now_ms = now();
    const std::string_view key(bucket_key);
    Shard& shard = *shards_[std::hash<std::string_view>{}(key) % shards_.size()];

    std::lock_guard lock(shard.mutex);
    for (int i = 0; i < kPrunePerCall && !shard.lru.empty(); ++i) {
        auto oldest = std::prev(shard.lru.end());
        if (oldest->bucket.full_at_ms > now_ms || oldest->key == key) break;
        shard.erase(oldest);
    }

    Bucket* bucket = nullptr;
    if (auto found = shard.index.find(key); found != shard.index.end()) {
        shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
        bucket = &found->second->bucket;
        const double elapsed =
            static_cast<double>(std::max<std::int64_t>(0, now_ms - bucket->updated_ms));
        bucket->tokens = std::min(burst, bucket->tokens + elapsed * rate_per_ms);
        bucket->updated_ms = std::max(bucket->updated_ms, now_ms);
    } else {
        if (shard.lru.size() >= per_shard_cap_) shard.erase(std::prev(shard.lru.end()));
        shard.lru.push_front(Item{bucket_key, Bucket{burst, now_ms, now_ms}});
        try {
            shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
        } catch (...) {
            shard.lru.pop_front();  // no item without its index entry
            throw;
        }
        bucket = &shard.lru.front().bucket;
    }

    RateDecision decision;
    if (bucket->tokens >= 1.0 - kEpsilon) {
        bucket->tokens = std::max(0.0, bucket->tokens - 1.0);
        decision.allowed = true;
    } else {
        decision.allowed = false;
        decision.retry_after = std::chrono::milliseconds(
            std::max<std::int64_t>(1, ms_ceil((1.0 - kEpsilon - bucket->tokens) / rate_per_ms)));
    }
    decision.remaining = bucket->tokens;
    bucket->full_at_ms = bucket->updated_ms + ms_ceil((burst - bucket->tokens) / rate_per_ms);
    return decision;
}

std::size_t MemoryRateLimiter::tracked() const {
    std::size_t total = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        total += shard->lru.size();
    }
    return total;
}

}  // namespace facefuse::http::ratelimit
