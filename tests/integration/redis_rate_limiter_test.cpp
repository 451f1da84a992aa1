// RedisRateLimiter against a real redis-server: the limit holds in total across gateways (two
// limiters on two clients, hammered from several threads), buckets expire when idle, and an
// unreachable Redis is a prompt kUnavailable, never a hang.
//
// Time is real (the Lua script reads the server's clock), so nothing sleeps: the tests measure
// the elapsed time around the calls and bound the count by it.
#include "http/ratelimit/redis_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"

namespace facefuse::http::ratelimit {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tasks::redis::RedisClient;
using tasks::redis::RedisOptions;

class RedisRateLimiterTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(redis_.ready()) << redis_.log(); }

    std::shared_ptr<RedisClient> client(std::chrono::milliseconds timeout = 2000ms) {
        RedisOptions options;
        options.url = redis_.url();
        options.connect_timeout = timeout;
        options.command_timeout = timeout;
        auto c = RedisClient::open(options);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? *c : nullptr;
    }

    long long pttl(const std::string& key) {
        auto reply = client()->command({"PTTL", key});
        EXPECT_TRUE(reply.ok()) << reply.error().message;
        return reply.ok() ? reply->as_int() : -3;
    }

    test::RedisServer redis_;
};

TEST_F(RedisRateLimiterTest, LimitHoldsInTotalAcrossTwoGateways) {
    RedisRateLimiter gateway_a(client());
    RedisRateLimiter gateway_b(client());
    const RateLimit limit{50, 30};
    std::atomic<int> allowed{0}, denied{0}, errors{0};
    std::atomic<long long> max_retry_ms{0}, min_retry_ms{1'000'000};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        RedisRateLimiter& limiter = t % 2 == 0 ? gateway_a : gateway_b;
        threads.emplace_back([&] {
            while (Clock::now() - start < 600ms) {
                auto d = limiter.take("acme", limit);
                if (!d.ok()) {
                    errors.fetch_add(1);
                    continue;
                }
                if (d->allowed) {
                    allowed.fetch_add(1);
                } else {
                    denied.fetch_add(1);
                    const long long ms = d->retry_after.count();
                    if (ms > max_retry_ms.load()) max_retry_ms.store(ms);
                    if (ms < min_retry_ms.load()) min_retry_ms.store(ms);
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double ceiling = limit.burst + limit.rate_per_s * elapsed_s;
    EXPECT_EQ(errors.load(), 0);
    EXPECT_GE(allowed.load(), limit.burst);
    EXPECT_LE(allowed.load(), ceiling + 2) << "elapsed " << elapsed_s << " s";
    EXPECT_GT(denied.load(), 0);
    EXPECT_GT(min_retry_ms.load(), 0);
    EXPECT_LE(max_retry_ms.load(), 20);  // one token at 50/s
}

TEST_F(RedisRateLimiterTest, DeniedTakeSaysWhenToRetry) {
    RedisRateLimiter limiter(client());
    const RateLimit limit{1, 2};
    auto first = limiter.take("tiny", limit);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(first->allowed);
    EXPECT_NEAR(first->remaining, 1, 0.1);
    auto second = limiter.take("tiny", limit);
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second->allowed);
    auto third = limiter.take("tiny", limit);
    ASSERT_TRUE(third.ok());
    ASSERT_FALSE(third->allowed);
    EXPECT_GT(third->retry_after.count(), 0);
    EXPECT_LE(third->retry_after.count(), 1000);
    EXPECT_LT(third->remaining, 1);
    // Another tenant is untouched.
    auto other = limiter.take("other", limit);
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(other->allowed);
}

TEST_F(RedisRateLimiterTest, BucketKeysExpireWhenFullAgain) {
    RedisRateLimiter limiter(client());
    ASSERT_TRUE(limiter.take("acme", RateLimit{1, 2}).ok());
    const long long ttl = pttl(limiter.redis_key("acme"));
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 3000);  // ceil(2 / 1) s + 1 s
    ASSERT_TRUE(limiter.take("slow", RateLimit{0.5, 1}).ok());
    const long long slow_ttl = pttl(limiter.redis_key("slow"));
    EXPECT_GT(slow_ttl, 2000);
    EXPECT_LE(slow_ttl, 3000);  // ceil(1 / 0.5) s + 1 s
}

TEST_F(RedisRateLimiterTest, KeyPrefixIsConfigurable) {
    RedisRateLimiter limiter(client(), RedisRateLimiterOptions{.key_prefix = "custom:"});
    EXPECT_EQ(limiter.redis_key("acme"), "custom:acme");
    ASSERT_TRUE(limiter.take("acme", RateLimit{5, 5}).ok());
    auto exists = client()->command({"EXISTS", "custom:acme"});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ(exists->as_int(), 1);
    auto default_key = client()->command({"EXISTS", "ff:rl:acme"});
    ASSERT_TRUE(default_key.ok());
    EXPECT_EQ(default_key->as_int(), 0);
}

TEST_F(RedisRateLimiterTest, DisabledLimitNeedsNoRedis) {
    RedisRateLimiter limiter(client(200ms));
    redis_.stop();
    auto d = limiter.take("acme", RateLimit{});
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_TRUE(d->allowed);
}

TEST_F(RedisRateLimiterTest, StoppedRedisIsUnavailableAndRecovers) {
    RedisRateLimiter limiter(client(300ms));
    ASSERT_TRUE(limiter.take("acme", RateLimit{10, 10}).ok());
    redis_.stop();
    const auto start = Clock::now();
    auto d = limiter.take("acme", RateLimit{10, 10});
    const auto took = Clock::now() - start;
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(took, 3s);
    ASSERT_TRUE(redis_.start());
    auto again = limiter.take("acme", RateLimit{10, 10});
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->allowed);
}

TEST_F(RedisRateLimiterTest, HungRedisIsUnavailableWithinTheTimeout) {
    RedisRateLimiter limiter(client(300ms));
    ASSERT_TRUE(limiter.take("acme", RateLimit{10, 10}).ok());
    redis_.freeze();
    const auto start = Clock::now();
    auto d = limiter.take("acme", RateLimit{10, 10});
    const auto took = Clock::now() - start;
    redis_.thaw();
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(took, 3s);
}

// A measurement for the integrator, not a check: time per take() against a local Redis.
TEST_F(RedisRateLimiterTest, PrintsTimePerTake) {
    RedisRateLimiter limiter(client());
    // Microseconds per take() from one thread, 2000 takes over 100 tenants.
    auto one_thread = [&](const RateLimit& limit) {
        const auto start = Clock::now();
        for (int i = 0; i < 2000; ++i) {
            (void)limiter.take("tenant-" + std::to_string(i % 100), limit);
        }
        return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 2000;
    };
    const RateLimit open{1e6, 1e9};
    const RateLimit closed{0.001, 1};  // one take each, then every take is a denial
    (void)one_thread(closed);
    for (int round = 0; round < 2; ++round) {
        std::printf("[ measure  ] redis take(), 1 thread: allowed %.1f us, denied %.1f us\n",
                    one_thread(open), one_thread(closed));
    }
    const int threads = 8, per_thread = 1000;
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                (void)limiter.take("tenant-" + std::to_string((i + t) % 100), open);
            }
        });
    }
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("[ measure  ] redis take(), %d threads on one client: %.0f takes/s\n", threads,
                threads * per_thread / s);
}

}  // namespace
}  // namespace facefuse::http::ratelimit
