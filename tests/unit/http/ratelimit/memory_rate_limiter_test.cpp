// MemoryRateLimiter with a fake clock: the bucket arithmetic (burst, Retry-After, refill), that
// tenants do not share buckets, that memory stays bounded however many tenants pass by, and
// that concurrent takes never hand out more than the bucket holds.
#include "http/ratelimit/memory_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace facefuse::http::ratelimit {
namespace {

using std::chrono::milliseconds;

class MemoryRateLimiterTest : public ::testing::Test {
  protected:
    MemoryRateLimiter make(std::size_t max_buckets = 1000, std::size_t shards = 4) {
        MemoryRateLimiterOptions options;
        options.max_buckets = max_buckets;
        options.shards = shards;
        options.now_ms = [this] { return now_; };
        return MemoryRateLimiter(std::move(options));
    }

    static RateDecision take(RateLimiter& limiter, const std::string& key, RateLimit limit) {
        auto decision = limiter.take(key, limit);
        EXPECT_TRUE(decision.ok()) << decision.error().message;
        return decision.ok() ? *decision : RateDecision{};
    }

    std::int64_t now_ = 1'000'000;
};

TEST_F(MemoryRateLimiterTest, AllowsTheBurstThenDeniesWithRetryAfter) {
    auto limiter = make();
    const RateLimit limit{2, 4};  // a token every 500 ms
    for (int i = 0; i < 4; ++i) {
        const RateDecision d = take(limiter, "acme", limit);
        EXPECT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.retry_after, milliseconds(0));
        EXPECT_DOUBLE_EQ(d.remaining, 3 - i);
    }
    const RateDecision denied = take(limiter, "acme", limit);
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.retry_after, milliseconds(500));
    EXPECT_DOUBLE_EQ(denied.remaining, 0);
}

TEST_F(MemoryRateLimiterTest, RefillsAtTheRateUpToTheBurst) {
    auto limiter = make();
    const RateLimit limit{2, 4};
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(take(limiter, "acme", limit).allowed);
    now_ += 499;
    const RateDecision early = take(limiter, "acme", limit);
    EXPECT_FALSE(early.allowed);
    EXPECT_EQ(early.retry_after, milliseconds(1));
    now_ += 1;
    EXPECT_TRUE(take(limiter, "acme", limit).allowed);
    EXPECT_FALSE(take(limiter, "acme", limit).allowed);

    now_ += 3'600'000;  // an hour idle: full, but never more than the burst
    int allowed = 0;
    for (int i = 0; i < 10; ++i) allowed += take(limiter, "acme", limit).allowed ? 1 : 0;
    EXPECT_EQ(allowed, 4);
}

TEST_F(MemoryRateLimiterTest, FractionalRateGivesLongRetryAfter) {
    auto limiter = make();
    const RateLimit limit{0.5, 1};
    EXPECT_TRUE(take(limiter, "slow", limit).allowed);
    const RateDecision denied = take(limiter, "slow", limit);
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.retry_after, milliseconds(2000));
    now_ += 2000;
    EXPECT_TRUE(take(limiter, "slow", limit).allowed);
}

TEST_F(MemoryRateLimiterTest, TenantsHaveIndependentBuckets) {
    auto limiter = make();
    const RateLimit limit{1, 2};
    EXPECT_TRUE(take(limiter, "a", limit).allowed);
    EXPECT_TRUE(take(limiter, "a", limit).allowed);
    EXPECT_FALSE(take(limiter, "a", limit).allowed);
    EXPECT_TRUE(take(limiter, "b", limit).allowed);
    EXPECT_TRUE(take(limiter, "b", limit).allowed);
    EXPECT_FALSE(take(limiter, "b", limit).allowed);
    EXPECT_EQ(limiter.tracked(), 2u);
}

TEST_F(MemoryRateLimiterTest, DisabledLimitAllowsAndKeepsNoState) {
    auto limiter = make();
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(take(limiter, "free", RateLimit{}).allowed);
    EXPECT_EQ(limiter.tracked(), 0u);
}

TEST_F(MemoryRateLimiterTest, ShrunkLimitClampsTheBucket) {
    auto limiter = make();
    EXPECT_TRUE(take(limiter, "acme", RateLimit{1, 10}).allowed);  // 9 left
    const RateDecision after = take(limiter, "acme", RateLimit{1, 2});
    EXPECT_TRUE(after.allowed);
    EXPECT_DOUBLE_EQ(after.remaining, 1);
}

TEST_F(MemoryRateLimiterTest, ClockGoingBackwardsAddsNoTokens) {
    auto limiter = make();
    const RateLimit limit{1, 1};
    EXPECT_TRUE(take(limiter, "acme", limit).allowed);
    now_ -= 60'000;
    EXPECT_FALSE(take(limiter, "acme", limit).allowed);
    now_ += 60'000;
    EXPECT_FALSE(take(limiter, "acme", limit).allowed);
    now_ += 1000;
    EXPECT_TRUE(take(limiter, "acme", limit).allowed);
}

TEST_F(MemoryRateLimiterTest, ManyTenantsStayUnderTheCap) {
    auto limiter = make(/*max_buckets=*/100, /*shards=*/4);
    const RateLimit limit{1, 5};
    for (int i = 0; i < 20'000; ++i) {
        (void)take(limiter, "tenant-" + std::to_string(i), limit);
        if (i % 1000 == 0) {
            ASSERT_LE(limiter.tracked(), 100u) << i;
        }
    }
    EXPECT_LE(limiter.tracked(), 100u);
}

TEST_F(MemoryRateLimiterTest, IdleFullBucketsAreDropped) {
    auto limiter = make(/*max_buckets=*/1000, /*shards=*/1);
    const RateLimit limit{1, 10};  // full again 1 s after a take
    for (int i = 0; i < 50; ++i) (void)take(limiter, "idle-" + std::to_string(i), limit);
    EXPECT_EQ(limiter.tracked(), 50u);
    now_ += 999;  // not yet full: kept
    (void)take(limiter, "busy", limit);
    EXPECT_EQ(limiter.tracked(), 51u);
    now_ += 1;
    for (int i = 0; i < 30; ++i) (void)take(limiter, "busy", limit);
    EXPECT_EQ(limiter.tracked(), 1u);  // two idle buckets dropped per call
}

TEST_F(MemoryRateLimiterTest, OverTheCapTheLeastRecentlyUsedGoes) {
    auto limiter = make(/*max_buckets=*/2, /*shards=*/1);
    const RateLimit limit{1, 1};
    EXPECT_TRUE(take(limiter, "a", limit).allowed);
    EXPECT_TRUE(take(limiter, "b", limit).allowed);
    EXPECT_FALSE(take(limiter, "a", limit).allowed);  // a is now the most recent
    EXPECT_TRUE(take(limiter, "c", limit).allowed);   // evicts b, not a
    EXPECT_FALSE(take(limiter, "a", limit).allowed);  // a kept its empty bucket
    EXPECT_EQ(limiter.tracked(), 2u);
}

TEST(MemoryRateLimiterConcurrency, EightThreadsNeverExceedBurstPlusRefill) {
    std::atomic<std::int64_t> clock{5'000};
    MemoryRateLimiterOptions options;
    options.now_ms = [&clock] { return clock.load(); };
    MemoryRateLimiter limiter(std::move(options));
    const RateLimit limit{50, 20};
    const std::int64_t start = clock.load();
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) {
                if (i % 10 == 0) clock.fetch_add(1);
                auto d = limiter.take("shared", limit);
                if (d.ok() && d->allowed) allowed.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    const double elapsed_s = static_cast<double>(clock.load() - start) / 1000.0;
    const double ceiling = limit.burst + limit.rate_per_s * elapsed_s;
    EXPECT_LE(allowed.load(), ceiling + 1e-6) << "elapsed " << elapsed_s << " s";
    EXPECT_GE(allowed.load(), limit.burst);
    // Tokens are conserved under contention: nearly all the refill was handed out.
    EXPECT_GE(allowed.load(), ceiling - limit.rate_per_s * 0.01 - 2);
}

// A measurement for the integrator, not a check: nanoseconds per take() on this machine.
TEST(MemoryRateLimiterCost, PrintsTimePerTake) {
    for (std::size_t shards : {1u, 16u}) {
        MemoryRateLimiterOptions options;
        options.shards = shards;
        MemoryRateLimiter limiter(std::move(options));
        const RateLimit limit{100, 200};
        std::vector<std::string> keys;
        for (int i = 0; i < 1000; ++i) keys.push_back("tenant-" + std::to_string(i));
        for (int threads : {1, 8}) {
            const int per_thread = 200'000;
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&, t] {
                    for (int i = 0; i < per_thread; ++i) {
                        (void)limiter.take(keys[static_cast<std::size_t>(i * 7 + t) % keys.size()],
                                           limit);
                    }
                });
            }
            for (auto& th : pool) th.join();
            const double ns =
                std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
                    .count() /
                (static_cast<double>(per_thread) * threads);
            std::printf(
                "[ measure  ] memory take(): %zu shard(s), %d thread(s): %.0f ns/take "
                "(wall / total takes)\n",
                shards, threads, ns);
        }
    }
}

}  // namespace
}  // namespace facefuse::http::ratelimit
