// RedisClient against a real redis-server: credentials and database from the URL, errors that
// name the server but never the password, scripts surviving a SCRIPT FLUSH, and one client
// shared by many threads.
#include "tasks/redis/redis_client.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "support/redis_server.hpp"

namespace facefuse::tasks::redis {
namespace {

class RedisClientTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(redis_.ready()) << redis_.log(); }

    std::shared_ptr<RedisClient> open(const std::string& url, int pool_size = 4) {
        RedisOptions options;
        options.url = url;
        options.pool_size = pool_size;
        auto c = RedisClient::open(options);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? *c : nullptr;
    }

    std::string base() const { return "127.0.0.1:" + std::to_string(redis_.port()); }

    test::RedisServer redis_;
};

TEST_F(RedisClientTest, AuthenticatesAndSelectsTheDatabaseFromTheUrl) {
    auto admin = open(redis_.url());
    const std::string password = "s3cr:t@pw";  // ':' and '@' percent-encoded in the URL
    ASSERT_TRUE(admin->command({"CONFIG", "SET", "requirepass", password}).ok());

    auto client = open("redis://:s3cr%3At%40pw@" + base() + "/2");
    auto info = client->command({"CLIENT", "INFO"});
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_NE(info->str.find(" db=2 "), std::string::npos) << info->str;

    for (const std::string& url : {"redis://:wrong-password@" + base() + "/0", redis_.url()}) {
        auto denied = open(url)->command({"PING"});
        ASSERT_FALSE(denied.ok());
        EXPECT_EQ(denied.error().code, ErrorCode::kUnavailable);
        EXPECT_NE(denied.error().message.find(base()), std::string::npos) << denied.error().message;
        EXPECT_EQ(denied.error().message.find("wrong-password"), std::string::npos)
            << "the password leaked into: " << denied.error().message;
    }
}

TEST_F(RedisClientTest, BadUrlsAreUsageErrors) {
    for (const char* url : {"http://localhost:6379", "redis://", "redis://host:99999",
                            "redis://host:6379/x", "rediss://host:6380", "redis://user@host"}) {
        RedisOptions options;
        options.url = url;
        auto c = RedisClient::open(options);
        ASSERT_FALSE(c.ok()) << url;
        EXPECT_EQ(c.error().code, ErrorCode::kUsage) << url;
    }
}

TEST_F(RedisClientTest, ScriptsRunAgainAfterTheServerForgetsThem) {
    auto client = open(redis_.url());
    const LuaScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    auto first = client->eval(script, {"counter"}, {"2"});
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->as_int(), 2);
    ASSERT_TRUE(client->command({"SCRIPT", "FLUSH"}).ok());  // as after a restart
    auto second = client->eval(script, {"counter"}, {"3"});
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->as_int(), 5);
    auto broken = client->eval(LuaScript("return redis.call('NOSUCHCOMMAND')"), {}, {});
    ASSERT_FALSE(broken.ok());
    EXPECT_EQ(broken.error().code, ErrorCode::kInternal);
}

TEST_F(RedisClientTest, BinarySafeArguments) {
    auto client = open(redis_.url());
    const std::string value("a\0b\r\n\xff", 6);
    ASSERT_TRUE(client->command({"SET", "k", value}).ok());
    auto got = client->command({"GET", "k"});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->str, value);
    auto missing = client->command({"GET", "nope"});
    ASSERT_TRUE(missing.ok());
    EXPECT_TRUE(missing->is_nil());
}

TEST_F(RedisClientTest, FirstCallAfterARestartSucceeds) {
    auto client = open(redis_.url(), 1);
    ASSERT_TRUE(client->command({"SET", "k", "v"}).ok());
    // The pooled connection is now dead, but nothing was sent on it since: the client must
    // notice before sending, not fail the next call.
    redis_.stop();
    ASSERT_TRUE(redis_.start());
    auto after = client->command({"GET", "k"});
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_TRUE(after->is_nil()) << "a fresh server without persistence";
}

TEST_F(RedisClientTest, ManyThreadsShareASmallPool) {
    auto client = open(redis_.url(), 3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) ASSERT_TRUE(client->command({"INCR", "n"}).ok());
        });
    }
    for (auto& t : threads) t.join();
    auto n = client->command({"GET", "n"});
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->as_int(), 12 * 200);
}

}  // namespace
}  // namespace facefuse::tasks::redis
