// The visible watermark: it changes pixels, only in the bottom-right corner, semi-
// transparently, and nothing at all where it must not draw.
#include "image/watermark.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace facefuse::image {
namespace {

// The bounding box of the pixels that differ, empty when none do.
cv::Rect changed(const cv::Mat& before, const cv::Mat& after) {
    cv::Mat diff, mask;
    cv::absdiff(before, after, diff);
    cv::cvtColor(diff, mask, cv::COLOR_BGR2GRAY);
    std::vector<cv::Point> points;
    cv::findNonZero(mask, points);
    return points.empty() ? cv::Rect() : cv::boundingRect(points);
}

TEST(Watermark, DrawsOnlyInTheBottomRightCorner) {
    for (const cv::Size size : {cv::Size(64, 64), cv::Size(640, 480), cv::Size(1920, 1080),
                                cv::Size(1080, 1920), cv::Size(3000, 70)}) {
        const cv::Mat before(size, CV_8UC3, cv::Scalar(40, 90, 160));
        cv::Mat after = before.clone();
        draw_visible_watermark(after, "AI-generated");
        const cv::Rect box = changed(before, after);
        ASSERT_FALSE(box.empty()) << size;
        EXPECT_GE(box.x, size.width / 2) << size;
        EXPECT_GE(box.y, size.height / 2) << size;
        EXPECT_LE(box.br().x, size.width);
        EXPECT_LE(box.br().y, size.height);
        // Scaled to the image: the label's height is a small share of the shorter side.
        EXPECT_LE(box.height, std::max(16, std::min(size.width, size.height) / 8)) << size;
    }
}

TEST(Watermark, IsSemiTransparent) {
    const cv::Mat before(480, 640, CV_8UC3, cv::Scalar::all(0));
    cv::Mat after = before.clone();
    draw_visible_watermark(after, "AI-generated");
    double lowest = 0, highest = 0;
    cv::minMaxLoc(after.reshape(1), &lowest, &highest);
    EXPECT_GT(highest, 60);   // visible on black...
    EXPECT_LT(highest, 255);  // ...but the picture shows through
}

TEST(Watermark, LongTextStaysInsideTheImage) {
    const cv::Mat before(300, 100, CV_8UC3, cv::Scalar::all(128));
    cv::Mat after = before.clone();
    draw_visible_watermark(after, std::string(500, 'W'));
    const cv::Rect box = changed(before, after);
    EXPECT_TRUE(box.empty() || (box & cv::Rect(0, 0, 100, 300)) == box);
    EXPECT_TRUE(box.empty() || box.x >= 40);
}

TEST(Watermark, NoOpWhereItMustNotDraw) {
    const std::vector<cv::Mat> untouched = {
        cv::Mat(63, 400, CV_8UC3, cv::Scalar::all(128)),  // too short
        cv::Mat(400, 63, CV_8UC3, cv::Scalar::all(128)),  // too narrow
        cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(128)),
        cv::Mat(400, 400, CV_8UC1, cv::Scalar(128)),  // not BGR
    };
    for (const cv::Mat& image : untouched) {
        cv::Mat after = image.clone();
        draw_visible_watermark(after, "AI-generated");
        EXPECT_EQ(cv::norm(after, image, cv::NORM_INF), 0) << image.size();
    }
    cv::Mat big(400, 400, CV_8UC3, cv::Scalar::all(128));
    const cv::Mat copy = big.clone();
    draw_visible_watermark(big, "");
    EXPECT_EQ(cv::norm(big, copy, cv::NORM_INF), 0);
    cv::Mat empty;
    draw_visible_watermark(empty, "AI-generated");
    EXPECT_TRUE(empty.empty());
}

TEST(Watermark, WorksOnARegionOfALargerImage) {
    // A view into a bigger Mat: nothing outside the view may change.
    cv::Mat whole(300, 300, CV_8UC3, cv::Scalar::all(100));
    const cv::Mat copy = whole.clone();
    cv::Mat view = whole(cv::Rect(50, 50, 200, 200));
    draw_visible_watermark(view, "AI");
    const cv::Rect box = changed(copy, whole);
    ASSERT_FALSE(box.empty());
    EXPECT_TRUE((box & cv::Rect(50, 50, 200, 200)) == box);
}

}  // namespace
}  // namespace facefuse::image
