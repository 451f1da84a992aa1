#include "face/selector.hpp"

#include <gtest/gtest.h>

namespace facefuse::face {
namespace {

Face at(float x, float y, float size, float score) {
    Face f;
    f.box = cv::Rect2f(x, y, size, size);
    f.score = score;
    return f;
}

std::vector<float> xs(const std::vector<Face>& faces) {
    std::vector<float> out;
    for (const auto& f : faces) out.push_back(f.box.x);
    return out;
}

TEST(SelectorTest, OrdersFacesAsFaceFusionDoes) {
    const std::vector<Face> faces = {at(200, 10, 50, 0.5f), at(0, 300, 80, 2.0f), at(100, 100, 20, 1.0f)};
    auto sorted = [&](SelectorOrder order) {
        auto copy = faces;
        sort_faces(copy, order);
        return xs(copy);
    };
    EXPECT_EQ(sorted(SelectorOrder::kLeftRight), (std::vector<float>{0, 100, 200}));
    EXPECT_EQ(sorted(SelectorOrder::kRightLeft), (std::vector<float>{200, 100, 0}));
    EXPECT_EQ(sorted(SelectorOrder::kTopBottom), (std::vector<float>{200, 100, 0}));
    EXPECT_EQ(sorted(SelectorOrder::kBottomTop), (std::vector<float>{0, 100, 200}));
    EXPECT_EQ(sorted(SelectorOrder::kSmallLarge), (std::vector<float>{100, 200, 0}));
    EXPECT_EQ(sorted(SelectorOrder::kLargeSmall), (std::vector<float>{0, 200, 100}));
    EXPECT_EQ(sorted(SelectorOrder::kBestWorst), (std::vector<float>{0, 100, 200}));
    EXPECT_EQ(sorted(SelectorOrder::kWorstBest), (std::vector<float>{200, 100, 0}));
}

TEST(SelectorTest, OnePicksThePositionInOrder) {
    SelectorOptions options{SelectorMode::kOne, SelectorOrder::kLeftRight, 1};
    auto chosen = select_faces({at(200, 0, 10, 1), at(0, 0, 10, 1), at(100, 0, 10, 1)}, options,
                               ErrorCode::kNoFaceInTarget, "target");
    ASSERT_TRUE(chosen.ok());
    ASSERT_EQ(chosen->size(), 1u);
    EXPECT_EQ(chosen->front().box.x, 100);
}

TEST(SelectorTest, ErrorsNameTheImageAndTheCount) {
    auto none = select_faces({}, {}, ErrorCode::kNoFaceInSource, "source");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kNoFaceInSource);
    EXPECT_NE(none.error().message.find("source"), std::string::npos);

    SelectorOptions options{SelectorMode::kOne, SelectorOrder::kLeftRight, 3};
    auto out_of_range = select_faces({at(0, 0, 1, 1), at(5, 0, 1, 1)}, options, ErrorCode::kNoFaceInTarget, "target");
    ASSERT_FALSE(out_of_range.ok());
    EXPECT_EQ(out_of_range.error().code, ErrorCode::kFaceNotFound);
    EXPECT_NE(out_of_range.error().message.find("2 face(s)"), std::string::npos);
}

TEST(SelectorTest, ParsesEveryName) {
    for (auto name : selector_order_names()) EXPECT_TRUE(parse_selector_order(name).has_value()) << name;
    for (auto name : selector_mode_names()) EXPECT_TRUE(parse_selector_mode(name).has_value()) << name;
    EXPECT_FALSE(parse_selector_mode("reference").has_value());
}

}  // namespace
}  // namespace facefuse::face
