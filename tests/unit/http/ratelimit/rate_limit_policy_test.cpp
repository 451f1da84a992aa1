// RatePolicy: per-role defaults, per-tenant overrides from the policy file, and the errors an
// operator sees for a bad file (kUsage, naming the file and the key at fault).
#include "http/ratelimit/rate_limit_policy.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.hpp"

namespace facefuse::http::ratelimit {
namespace {

void expect_limit(const RateLimit& limit, double rate, double burst) {
    EXPECT_DOUBLE_EQ(limit.rate_per_s, rate);
    EXPECT_DOUBLE_EQ(limit.burst, burst);
}

constexpr const char* kExample = R"({
  "tenants": {
    "acme": {"user": "50:100", "vip": "200:400"},
    "tiny": {"*": "1:2"},
    "mixed": {"*": "3:6", "admin": "off"}
  },
  "max_queued_tasks": {"default": 1000, "acme": 5000, "batchco": 0}
})";

TEST(RatePolicy, BuiltInDefaultsPerRole) {
    const RatePolicy policy;
    expect_limit(policy.limit_for("anyone", "user"), 20, 40);
    expect_limit(policy.limit_for("anyone", "vip"), 100, 200);
    expect_limit(policy.limit_for("anyone", "admin"), 50, 100);
    EXPECT_EQ(policy.max_queued_for("anyone"), kDefaultMaxQueuedTasks);
}

TEST(RatePolicy, UnknownRoleIsLimitedLikeUser) {
    const RatePolicy policy;
    expect_limit(policy.limit_for("anyone", "superuser"), 20, 40);
    expect_limit(policy.limit_for("anyone", ""), 20, 40);
}

TEST(RatePolicy, TenantOverridesWinPerRole) {
    auto policy = parse_rate_policy(kExample, "example.json");
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    expect_limit(policy->limit_for("acme", "user"), 50, 100);
    expect_limit(policy->limit_for("acme", "vip"), 200, 400);
    expect_limit(policy->limit_for("acme", "admin"), 50, 100);  // not overridden: default
    expect_limit(policy->limit_for("tiny", "user"), 1, 2);
    expect_limit(policy->limit_for("tiny", "vip"), 1, 2);
    expect_limit(policy->limit_for("tiny", "other"), 1, 2);
    expect_limit(policy->limit_for("mixed", "vip"), 3, 6);
    EXPECT_FALSE(policy->limit_for("mixed", "admin").enabled());
    expect_limit(policy->limit_for("stranger", "user"), 20, 40);
}

TEST(RatePolicy, QueuedTaskQuotas) {
    auto policy = parse_rate_policy(kExample, "example.json");
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    EXPECT_EQ(policy->max_queued_for("acme"), 5000);
    EXPECT_EQ(policy->max_queued_for("batchco"), 0);  // no quota
    EXPECT_EQ(policy->max_queued_for("tiny"), 1000);
}

TEST(RatePolicy, DefaultsSectionBeatsThePassedDefaults) {
    RoleLimits flags;
    flags.user = RateLimit{7, 14};
    auto policy =
        parse_rate_policy(R"({"defaults": {"*": "9:9", "vip": "300:600"}})", "p.json", flags, 42);
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    expect_limit(policy->limit_for("x", "user"), 9, 9);
    expect_limit(policy->limit_for("x", "admin"), 9, 9);
    expect_limit(policy->limit_for("x", "vip"), 300, 600);
    EXPECT_EQ(policy->max_queued_for("x"), 42);

    auto plain = parse_rate_policy("{}", "empty.json", flags);
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    expect_limit(plain->limit_for("x", "user"), 7, 14);
}

TEST(RatePolicy, LoadsAFile) {
    test::TempDir dir;
    const auto path = (dir.path() / "policy.json").string();
    std::ofstream(path) << kExample;
    auto policy = load_rate_policy(path);
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    expect_limit(policy->limit_for("acme", "vip"), 200, 400);
}

TEST(RatePolicy, MissingFileIsUsageNamingIt) {
    auto policy = load_rate_policy("/nonexistent/facefuse-policy.json");
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.error().code, ErrorCode::kUsage);
    EXPECT_NE(policy.error().message.find("/nonexistent/facefuse-policy.json"), std::string::npos)
        << policy.error().message;
}

TEST(RatePolicy, MalformedFileIsUsageNamingIt) {
    test::TempDir dir;
    const auto path = (dir.path() / "broken.json").string();
    std::ofstream(path) << R"({"tenants": {"acme": {"user": "50:100",}})";
    auto policy = load_rate_policy(path);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.error().code, ErrorCode::kUsage);
    EXPECT_NE(policy.error().message.find("broken.json"), std::string::npos)
        << policy.error().message;
    EXPECT_NE(policy.error().message.find("not valid JSON"), std::string::npos)
        << policy.error().message;
}

struct BadPolicy {
    const char* json;
    const char* expected_in_message;
};

class RatePolicyErrors : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(RatePolicyErrors, AreUsageWithThePlace) {
    auto policy = parse_rate_policy(GetParam().json, "file 'p.json'");
    ASSERT_FALSE(policy.ok()) << GetParam().json;
    EXPECT_EQ(policy.error().code, ErrorCode::kUsage);
    EXPECT_NE(policy.error().message.find("p.json"), std::string::npos) << policy.error().message;
    EXPECT_NE(policy.error().message.find(GetParam().expected_in_message), std::string::npos)
        << policy.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RatePolicyErrors,
    ::testing::Values(BadPolicy{R"({"tenants": {"acme": {"superuser": "1:1"}}})",
                                "unknown role key"},
                      BadPolicy{R"({"tenants": {"acme": {"superuser": "1:1"}}})", "superuser"},
                      BadPolicy{R"({"tenants": {"acme": {"user": "fast"}}})", "RPS:BURST"},
                      BadPolicy{R"({"tenants": {"acme": {"user": 20}}})", "must be a string"},
                      BadPolicy{R"({"tenants": {"acme": "20:40"}})", "tenant \"acme\""},
                      BadPolicy{R"({"tenants": []})", "\"tenants\" must be an object"},
                      BadPolicy{R"({"tenants": {"": {"user": "1:1"}}})", "empty"},
                      BadPolicy{R"({"defaults": {"guest": "1:1"}})", "unknown role key"},
                      BadPolicy{R"({"max_queued_tasks": {"acme": -1}})", "whole number"},
                      BadPolicy{R"({"max_queued_tasks": {"acme": 1.5}})", "whole number"},
                      BadPolicy{R"({"max_queued_tasks": 5})", "must be an object"},
                      BadPolicy{R"({"tennants": {}})", "unknown key \"tennants\""},
                      BadPolicy{R"([1, 2])", "top level"}, BadPolicy{"", "not valid JSON"}));

}  // namespace
}  // namespace facefuse::http::ratelimit
