// parse_rate_limit: the --rate-limit flag and the policy file share this syntax, so every
// mistake an operator can make must come back as kUsage with the syntax in the message.
#include "http/ratelimit/rate_limit.hpp"

#include <gtest/gtest.h>

namespace facefuse::http::ratelimit {
namespace {

TEST(ParseRateLimit, ReadsRpsAndBurst) {
    auto limit = parse_rate_limit("20:40");
    ASSERT_TRUE(limit.ok()) << limit.error().message;
    EXPECT_DOUBLE_EQ(limit->rate_per_s, 20);
    EXPECT_DOUBLE_EQ(limit->burst, 40);
    EXPECT_TRUE(limit->enabled());
}

TEST(ParseRateLimit, ReadsFractionsAndBlanks) {
    auto limit = parse_rate_limit(" 0.5 : 1 ");
    ASSERT_TRUE(limit.ok()) << limit.error().message;
    EXPECT_DOUBLE_EQ(limit->rate_per_s, 0.5);
    EXPECT_DOUBLE_EQ(limit->burst, 1);
    auto big = parse_rate_limit("1000000:1000000000");
    ASSERT_TRUE(big.ok()) << big.error().message;
}

TEST(ParseRateLimit, OffAndZeroDisable) {
    for (const char* text : {"off", "OFF", " Off ", "0", "0.0"}) {
        auto limit = parse_rate_limit(text);
        ASSERT_TRUE(limit.ok()) << text << ": " << limit.error().message;
        EXPECT_FALSE(limit->enabled()) << text;
    }
}

TEST(ParseRateLimit, RejectsMalformedWithTheSyntax) {
    for (const char* text :
         {"", "20", "abc", "20:", ":40", "20:40:60", "-1:5", "20:-5", "+1:2", "1e3:5", "inf:5",
          "nan:5", "20:0.5", "0:40", "2000000:5", "20:2000000000", "20 40", "0x10:20", "20:40x"}) {
        auto limit = parse_rate_limit(text);
        ASSERT_FALSE(limit.ok()) << "accepted '" << text << "'";
        EXPECT_EQ(limit.error().code, ErrorCode::kUsage) << text;
        EXPECT_NE(limit.error().message.find("RPS:BURST"), std::string::npos)
            << limit.error().message;
    }
}

TEST(ParseRateLimit, MessageNamesWhatIsWrong) {
    auto zero = parse_rate_limit("0:40");
    ASSERT_FALSE(zero.ok());
    EXPECT_NE(zero.error().message.find("'off'"), std::string::npos) << zero.error().message;
    auto small = parse_rate_limit("5:0.5");
    ASSERT_FALSE(small.ok());
    EXPECT_NE(small.error().message.find("at least 1"), std::string::npos) << small.error().message;
}

TEST(ParseRateLimit, FormatRoundTrips) {
    EXPECT_EQ(format_rate_limit(RateLimit{20, 40}), "20:40");
    EXPECT_EQ(format_rate_limit(RateLimit{0.5, 1}), "0.5:1");
    EXPECT_EQ(format_rate_limit(RateLimit{}), "off");
    auto again = parse_rate_limit(format_rate_limit(RateLimit{2.25, 7}));
    ASSERT_TRUE(again.ok());
    EXPECT_DOUBLE_EQ(again->rate_per_s, 2.25);
    EXPECT_DOUBLE_EQ(again->burst, 7);
}

}  // namespace
}  // namespace facefuse::http::ratelimit
