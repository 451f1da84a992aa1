#include "face/detector.hpp"

#include <gtest/gtest.h>

namespace facefuse::face {
namespace {

TEST(ScanLadderTest, LargePhotosAreScannedSmallFirstThenLarger) {
    const auto steps = scan_ladder({1920, 1080}, DetectorOptions{});
    ASSERT_GE(steps.size(), 2u);
    EXPECT_DOUBLE_EQ(steps[0].scale, 640.0 / 1920);
    EXPECT_DOUBLE_EQ(steps[1].scale, 1280.0 / 1920);
    EXPECT_EQ(steps[0].rotation, 0);
}

TEST(ScanLadderTest, SmallPhotosAreUpsampledOnlyForSmallFaces) {
    const auto steps = scan_ladder({400, 300}, DetectorOptions{});
    ASSERT_GE(steps.size(), 2u);
    EXPECT_DOUBLE_EQ(steps[0].scale, 1.0);
    EXPECT_DOUBLE_EQ(steps[1].scale, 2.0);
    EXPECT_FLOAT_EQ(steps[1].refine_below_px, 1.5f * kHogWindowPx);
    EXPECT_FLOAT_EQ(steps[0].refine_below_px, 0);
}

TEST(ScanLadderTest, RotationsOnlyWhenAskedFor) {
    DetectorOptions options;
    EXPECT_EQ(scan_ladder({1920, 1080}, options).size(), 5u);
    options.try_rotations = false;
    for (const auto& step : scan_ladder({1920, 1080}, options)) EXPECT_EQ(step.rotation, 0);
}

TEST(HogScannerTest, FindsNothingInAFlatImage) {
    HogScanner scanner;
    const cv::Mat flat(200, 200, CV_8U, cv::Scalar(128));
    EXPECT_TRUE(scanner.scan(flat, 1.0, 0.0).empty());
}

}  // namespace
}  // namespace facefuse::face
