#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fusion/blend.hpp"
#include "fusion/face_geometry.hpp"
#include "fusion/mask.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {
namespace {

// A plausible frontal 68-point face about 200 px tall, mouth open or closed.
face::Landmarks68 synthetic_face(bool mouth_open) {
    face::Landmarks68 lm{};
    for (int i = 0; i <= 16; ++i) {  // jaw: half ellipse
        const double t = CV_PI * i / 16;
        lm[i] = cv::Point2f(static_cast<float>(200 - 90 * std::cos(t)), static_cast<float>(180 + 110 * std::sin(t)));
    }
    for (int i = 0; i < 5; ++i) {
        lm[17 + i] = cv::Point2f(140.f + 12 * i, 150.f - (i == 2 ? 6 : 3));
        lm[22 + i] = cv::Point2f(212.f + 12 * i, 150.f - (i == 2 ? 6 : 3));
    }
    for (int i = 0; i < 9; ++i) lm[27 + i] = cv::Point2f(i < 4 ? 200.f : 188.f + 6 * (i - 4), i < 4 ? 165.f + 12 * i : 215.f);
    const float ex[6] = {-18, -10, 0, 8, 0, -10}, ey[6] = {0, -5, -5, 0, 4, 4};
    for (int i = 0; i < 6; ++i) {
        lm[36 + i] = cv::Point2f(160 + ex[i] + 10, 170 + ey[i]);
        lm[42 + i] = cv::Point2f(230 + ex[i] + 10, 170 + ey[i]);
    }
    for (int i = 0; i < 12; ++i) {
        const double t = 2 * CV_PI * i / 12;
        lm[48 + i] = cv::Point2f(static_cast<float>(200 - 30 * std::cos(t)), static_cast<float>(250 - 12 * std::sin(t)));
    }
    const float gap = mouth_open ? 10.f : 0.f;
    for (int i = 0; i < 8; ++i) {
        const double t = 2 * CV_PI * i / 8;
        lm[60 + i] = cv::Point2f(static_cast<float>(200 - 20 * std::cos(t)),
                                 static_cast<float>(250 - gap * std::sin(t)));
    }
    return lm;
}

TEST(BlendTest, ZeroAlphaLeavesPixelsExactlyAsTheyWere) {
    cv::Mat target(10, 10, CV_8UC3, cv::Scalar(10, 20, 30));
    const cv::Mat source(10, 10, CV_8UC3, cv::Scalar(200, 200, 200));
    cv::Mat alpha(10, 10, CV_32F, cv::Scalar(0));
    alpha(cv::Rect(0, 0, 5, 10)).setTo(1.0f);
    alpha.at<float>(0, 9) = 0.5f;
    alpha_blend(target, source, alpha);
    EXPECT_EQ(target.at<cv::Vec3b>(5, 0), cv::Vec3b(200, 200, 200));
    EXPECT_EQ(target.at<cv::Vec3b>(5, 9), cv::Vec3b(10, 20, 30));
    EXPECT_EQ(target.at<cv::Vec3b>(0, 9), cv::Vec3b(105, 110, 115));
}

TEST(GeometryTest, ForeheadPointsSitAboveTheBrows) {
    const auto lm = synthetic_face(false);
    const auto points = warp_points(lm);
    ASSERT_EQ(static_cast<int>(points.size()), kWarpPointCount);
    for (int i = 0; i < kForeheadPointCount; ++i) EXPECT_LT(points[68 + i].y, lm[17 + i].y - 10);
}

TEST(GeometryTest, MouthOpenness) {
    EXPECT_LT(mouth_openness(synthetic_face(false)), 0.02f);
    EXPECT_GT(mouth_openness(synthetic_face(true)), 0.08f);
}

TEST(GeometryTest, ShapeDegreeZeroKeepsTheTarget) {
    const auto target = synthetic_face(false);
    auto source = target;
    for (int i = 36; i < 48; ++i) source[i].y -= 10;  // higher eyes
    EXPECT_EQ(blend_inner_shape(target, source, 0.0)[40], target[40]);
    const auto full = blend_inner_shape(target, source, 1.0);
    EXPECT_LT(full[40].y, target[40].y - 5);
    EXPECT_EQ(full[8], target[8]) << "the jaw outline must stay the target's";
}

class MaskTest : public ::testing::Test {
protected:
    cv::Mat mask_for(const face::Landmarks68& lm, const SwapOptions& options) {
        points_ = warp_points(lm);
        return face_mask(MaskGeometry{roi_, points_, lm}, options);
    }
    const cv::Rect roi_{0, 0, 400, 400};
    std::vector<cv::Point2f> points_;
};

TEST_F(MaskTest, StaysInsideTheMeshAndIsFullInTheMiddle) {
    const auto lm = synthetic_face(false);
    const cv::Mat mask = mask_for(lm, SwapOptions{});
    EXPECT_NEAR(mask.at<float>(200, 200), 1.0f, 1e-3);  // nose
    EXPECT_EQ(mask.at<float>(5, 5), 0.0f);
    EXPECT_EQ(mask.at<float>(180, 100), 0.0f) << "outside the jaw";
}

TEST_F(MaskTest, OpenTargetMouthIsCutOut) {
    const cv::Mat closed = mask_for(synthetic_face(false), SwapOptions{});
    const cv::Mat open = mask_for(synthetic_face(true), SwapOptions{});
    EXPECT_GT(closed.at<float>(250, 200), 0.9f);
    EXPECT_LT(open.at<float>(250, 200), 0.1f) << "the target's own teeth must stay";
}

TEST_F(MaskTest, AreaMaskCoversOnlyItsArea) {
    SwapOptions options;
    options.mask_types = {MaskType::kArea};
    options.mask_areas = {MaskArea::kMouth};
    const cv::Mat mask = mask_for(synthetic_face(false), options);
    EXPECT_GT(mask.at<float>(250, 200), 0.5f);
    EXPECT_EQ(mask.at<float>(170, 170), 0.0f) << "eye is not part of the mouth area";
}

TEST_F(MaskTest, PaddingMovesTheEdgeInward) {
    SwapOptions options;
    options.mask_blur = 0;
    const double full = cv::sum(mask_for(synthetic_face(false), options))[0];
    options.mask_padding = {0, 0, 40, 0};
    const cv::Mat padded = mask_for(synthetic_face(false), options);
    EXPECT_LT(cv::sum(padded)[0], full * 0.8);
    EXPECT_EQ(padded.at<float>(280, 200), 0.0f) << "chin removed by 40 % bottom padding";
}

TEST(SwapOptionsTest, ValidateNamesTheFlag) {
    SwapOptions options;
    EXPECT_TRUE(options.validate().ok());
    options.fusion_degree = 1.5;
    const Status st = options.validate();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUsage);
    EXPECT_NE(st.error().message.find("--fusion-degree"), std::string::npos);
}

}  // namespace
}  // namespace facefuse::fusion
