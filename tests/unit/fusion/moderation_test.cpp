// The content policy over the tiny Darknet classifier (tiny_classifier.hpp): black scores
// 0.0025, mid-grey 0.5059, white 0.9975.
#include "fusion/moderation/moderation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>

#include "tiny_classifier.hpp"

namespace facefuse::fusion::moderation {
namespace {

using namespace testing;

class Moderation : public ::testing::Test {
  protected:
    void SetUp() override {
        Result<ContentClassifier> c = ContentClassifier::load(write_tiny_model(dir_));
        ASSERT_TRUE(c.ok()) << c.error().message;
        classifier_.emplace(std::move(c).value());
    }

    ModerationDecision decide(ModerationMode mode, float threshold,
                              const std::vector<const cv::Mat*>& inputs) {
        Result<ModerationDecision> d = moderate(&*classifier_, mode, threshold, inputs);
        EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
        return d.ok() ? *d : ModerationDecision{"error", -1.0f, threshold};
    }

    TempDir dir_;
    std::optional<ContentClassifier> classifier_;
    const cv::Mat black_ = flat(0);
    const cv::Mat grey_ = flat(128);
    const cv::Mat white_ = flat(255);
};

TEST(ModerationMode, NamesRoundTrip) {
    for (ModerationMode m :
         {ModerationMode::kOff, ModerationMode::kReject, ModerationMode::kFlag}) {
        Result<ModerationMode> parsed = parse_moderation_mode(mode_name(m));
        ASSERT_TRUE(parsed.ok());
        EXPECT_EQ(*parsed, m);
    }
    EXPECT_EQ(mode_name(ModerationMode::kReject), "reject");
    for (const char* bad : {"", "Reject", "on", "block"}) {
        Result<ModerationMode> parsed = parse_moderation_mode(bad);
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_EQ(parsed.error().code, ErrorCode::kUsage);
    }
}

TEST_F(Moderation, OffSkipsWithoutScoring) {
    // An empty image would fail the classifier: "skipped" proves it never ran.
    const cv::Mat empty;
    const ModerationDecision d = decide(ModerationMode::kOff, 0.8f, {&white_, &empty});
    EXPECT_EQ(d.verdict, "skipped");
    EXPECT_EQ(d.score, 0.0f);
    EXPECT_FALSE(d.rejected());
}

TEST_F(Moderation, NoClassifierSkips) {
    Result<ModerationDecision> d = moderate(nullptr, ModerationMode::kReject, 0.8f, {&white_});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->verdict, "skipped");
}

TEST_F(Moderation, RejectModeRejectsAtOrAboveThreshold) {
    const ModerationDecision high = decide(ModerationMode::kReject, 0.8f, {&white_});
    EXPECT_EQ(high.verdict, "rejected");
    EXPECT_TRUE(high.rejected());
    EXPECT_NEAR(high.score, kWhiteScore, 1e-4f);
    EXPECT_EQ(high.threshold, 0.8f);

    EXPECT_EQ(decide(ModerationMode::kReject, 0.8f, {&grey_}).verdict, "allowed");
    EXPECT_EQ(decide(ModerationMode::kReject, 0.8f, {&black_}).verdict, "allowed");
    EXPECT_EQ(decide(ModerationMode::kReject, 0.5f, {&grey_}).verdict, "rejected");

    // The boundary: a score exactly at the threshold is rejected (>=).
    const float grey_score = *classifier_->unsafe_score(grey_);
    EXPECT_EQ(decide(ModerationMode::kReject, grey_score, {&grey_}).verdict, "rejected");
    EXPECT_EQ(decide(ModerationMode::kReject, std::nextafter(grey_score, 1.0f), {&grey_}).verdict,
              "allowed");
}

TEST_F(Moderation, FlagModeFlagsButDoesNotReject) {
    const ModerationDecision d = decide(ModerationMode::kFlag, 0.8f, {&white_});
    EXPECT_EQ(d.verdict, "flagged");
    EXPECT_FALSE(d.rejected());
    EXPECT_EQ(decide(ModerationMode::kFlag, 0.8f, {&black_}).verdict, "allowed");
}

TEST_F(Moderation, ThresholdEdges) {
    EXPECT_EQ(decide(ModerationMode::kReject, 0.0f, {&black_}).verdict, "rejected");
    EXPECT_EQ(decide(ModerationMode::kReject, 1.0f, {&white_}).verdict, "allowed");
}

TEST_F(Moderation, HighestScoreOverTheInputsDecides) {
    // Source benign, target not (and the other way round): either input can reject the task.
    const ModerationDecision a = decide(ModerationMode::kReject, 0.8f, {&black_, &white_});
    EXPECT_EQ(a.verdict, "rejected");
    EXPECT_NEAR(a.score, kWhiteScore, 1e-4f);
    const ModerationDecision b = decide(ModerationMode::kReject, 0.8f, {&white_, &black_});
    EXPECT_EQ(b.verdict, "rejected");
    const ModerationDecision c = decide(ModerationMode::kReject, 0.8f, {&black_, &grey_});
    EXPECT_EQ(c.verdict, "allowed");
    EXPECT_NEAR(c.score, kGreyScore, 1e-4f);
}

TEST_F(Moderation, NullInputsAreSkippedAndNoInputsAllow) {
    const ModerationDecision a = decide(ModerationMode::kReject, 0.8f, {nullptr, &black_});
    EXPECT_EQ(a.verdict, "allowed");
    EXPECT_NEAR(a.score, kBlackScore, 1e-4f);
    const ModerationDecision b = decide(ModerationMode::kReject, 0.8f, {});
    EXPECT_EQ(b.verdict, "allowed");
    EXPECT_EQ(b.score, 0.0f);
}

TEST_F(Moderation, ClassifierErrorsAreNotVerdicts) {
    const cv::Mat empty;
    Result<ModerationDecision> d =
        moderate(&*classifier_, ModerationMode::kFlag, 0.8f, {&black_, &empty});
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidImage);
}

TEST_F(Moderation, ThresholdOutsideZeroOneIsUsage) {
    for (float t : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
        Result<ModerationDecision> d = moderate(&*classifier_, ModerationMode::kReject, t, {});
        ASSERT_FALSE(d.ok()) << t;
        EXPECT_EQ(d.error().code, ErrorCode::kUsage);
    }
}

TEST(ModerationDecision, JsonForm) {
    EXPECT_EQ((ModerationDecision{"rejected", 0.99753f, 0.8f}.to_json()),
              R"({"verdict":"rejected","score":0.9975,"threshold":0.8000})");
    EXPECT_EQ((ModerationDecision{"skipped", 0.0f, 0.8f}.to_json()),
              R"({"verdict":"skipped","score":0.0000,"threshold":0.8000})");
}

TEST(ModerationDecision, RejectionErrorIs422ContentRejected) {
    const Error e = rejection_error({"rejected", 0.93f, 0.8f});
    EXPECT_EQ(e.code, ErrorCode::kContentRejected);
    EXPECT_EQ(e.code_name(), "content_rejected");
    EXPECT_EQ(error_info(e.code).http_status, 422);
    EXPECT_NE(e.message.find("0.9300"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace facefuse::fusion::moderation
