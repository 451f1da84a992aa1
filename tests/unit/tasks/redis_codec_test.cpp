// Pure parts of the Redis backend: the URL parser, the task <-> hash codec, the share schedule.
#include <gtest/gtest.h>

#include <map>

#include "tasks/redis/redis_url.hpp"
#include "tasks/redis/streams_queue.hpp"
#include "tasks/redis/task_codec.hpp"

namespace facefuse::tasks::redis {
namespace {

TEST(RedisUrlTest, ParsesEveryPart) {
    auto url = RedisUrl::parse("redis://worker:p%40ss:w@cache.internal:6380/3");
    ASSERT_TRUE(url.ok()) << url.error().message;
    EXPECT_EQ(url->user, "worker");
    EXPECT_EQ(url->password, "p@ss:w");
    EXPECT_EQ(url->host, "cache.internal");
    EXPECT_EQ(url->port, 6380);
    EXPECT_EQ(url->db, 3);
    EXPECT_EQ(url->endpoint(), "cache.internal:6380/3");
}

TEST(RedisUrlTest, DefaultsAndIpv6) {
    auto plain = RedisUrl::parse("redis://localhost");
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->db, 0);
    EXPECT_TRUE(plain->password.empty());
    auto password_only = RedisUrl::parse("redis://:secret@10.0.0.5:7000/");
    ASSERT_TRUE(password_only.ok());
    EXPECT_EQ(password_only->password, "secret");
    EXPECT_TRUE(password_only->user.empty());
    auto v6 = RedisUrl::parse("redis://[::1]:6390/1");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->endpoint(), "[::1]:6390/1");
}

TEST(RedisUrlTest, RejectsMalformedUrlsWithoutEchoingThePassword) {
    for (const char* bad : {"localhost:6379", "redis://", "redis://:pw@", "redis://h:0",
                            "redis://h:abc", "redis://h/-1", "redis://h?db=1", "redis://[::1",
                            "redis://:top%zzsecret@h", "redis://justuser@h"}) {
        auto url = RedisUrl::parse(bad);
        ASSERT_FALSE(url.ok()) << bad;
        EXPECT_EQ(url.error().code, ErrorCode::kUsage);
        EXPECT_EQ(url.error().message.find("secret"), std::string::npos) << url.error().message;
    }
}

std::vector<std::string> flatten(const HashFields& fields) {
    std::vector<std::string> flat;
    for (const auto& [k, v] : fields) {
        flat.push_back(k);
        flat.push_back(v);
    }
    return flat;
}

TEST(TaskCodecTest, RoundTripsEveryField) {
    Task t;
    t.id = "abc";
    t.tenant = "acme";
    t.kind = "swap";
    t.priority = Priority::kBatch;
    t.state = TaskState::kFailed;
    t.attempts = 3;
    t.max_attempts = 4;
    t.options_json = "{\"a\":1}";
    t.source_key = "s";
    t.target_key = "t";
    t.result_key = "r";
    t.result_content_type = "image/png";
    t.idempotency_key = "k";
    t.request_hash = "h";
    t.progress = 0.1 + 0.2;  // not exactly representable in short decimal
    t.cancel_requested = true;
    t.error = TaskError{"no_face_in_target", "no face"};
    t.created_at_ms = 1;
    t.updated_at_ms = 2;
    t.started_at_ms = 3;
    t.finished_at_ms = 4;
    t.expires_at_ms = 1'900'000'000'000;
    auto flat = flatten(encode_task(t));
    flat.insert(flat.end(), {"rev", "7"});  // bookkeeping fields are ignored
    auto back = decode_task(flat);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->priority, Priority::kBatch);
    EXPECT_EQ(back->state, TaskState::kFailed);
    EXPECT_EQ(back->progress, t.progress) << "bit-exact";
    EXPECT_TRUE(back->cancel_requested);
    ASSERT_TRUE(back->error.has_value());
    EXPECT_EQ(back->error->message, "no face");
    EXPECT_EQ(back->expires_at_ms, t.expires_at_ms);
    EXPECT_EQ(back->result_content_type, "image/png");
    EXPECT_EQ(find_field(flat, "rev"), "7");

    t.error.reset();
    auto no_error = decode_task(flatten(encode_task(t)));
    ASSERT_TRUE(no_error.ok());
    EXPECT_FALSE(no_error->error.has_value());
}

TEST(TaskCodecTest, CorruptFieldIsAnInternalErrorNamingIt) {
    Task t;
    t.id = "abc";
    auto flat = flatten(encode_task(t));
    for (size_t i = 0; i < flat.size(); i += 2)
        if (flat[i] == "attempts") flat[i + 1] = "three";
    auto bad = decode_task(flat);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
    EXPECT_NE(bad.error().message.find("attempts"), std::string::npos);
    EXPECT_FALSE(decode_task({}).ok());
}

TEST(RedisShareTest, ScheduleIsEightThreeOneInterleaved) {
    const auto s = RedisTaskQueue::share_schedule({8, 3, 1});
    ASSERT_EQ(s.size(), 12u);
    std::map<Priority, int> counts;
    for (Priority p : s) ++counts[p];
    EXPECT_EQ(counts[Priority::kVip], 8);
    EXPECT_EQ(counts[Priority::kNormal], 3);
    EXPECT_EQ(counts[Priority::kBatch], 1);
    // Spread out: no lane waits a whole round for its turn.
    std::string letters;
    for (Priority p : s) letters += priority_name(p)[0];
    EXPECT_EQ(letters, "vnvvbvnvvvnv");
    EXPECT_EQ(RedisTaskQueue::share_schedule({0, 0, 0}).size(), 1u) << "never an empty round";
}

}  // namespace
}  // namespace facefuse::tasks::redis
