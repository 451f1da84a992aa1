#include "fusion/warp.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fusion/face_geometry.hpp"

namespace facefuse::fusion {
namespace {

cv::Mat gradient_image(cv::Size size) {
    cv::Mat image(size, CV_8UC3);
    for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x)
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, (x + y) % 256);
    return image;
}

TEST(WarpTest, IdentityMeshReproducesTheSource) {
    const cv::Mat source = gradient_image({200, 200});
    const std::vector<cv::Point2f> points = {{20, 20}, {180, 20}, {180, 180}, {20, 180}, {100, 100}};
    const auto triangles = triangulate(points);
    ASSERT_EQ(triangles.size(), 4u);
    const cv::Rect roi(10, 10, 180, 180);
    const WarpedFace warped = warp_piecewise_affine(source, points, points, triangles, roi);
    ASSERT_EQ(warped.image.size(), roi.size());
    // Inside the mesh the warp is the identity (up to interpolation at exact pixel centres).
    cv::Mat diff;
    cv::absdiff(warped.image, source(roi), diff);
    cv::Mat inside;
    cv::erode(warped.valid, inside, cv::Mat());
    double max_diff = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff, nullptr, nullptr, [&] {
        cv::Mat m;
        cv::merge(std::vector<cv::Mat>(3, inside), m);
        return m.reshape(1);
    }());
    EXPECT_LE(max_diff, 1.0);
    // Outside the mesh nothing is produced.
    EXPECT_EQ(warped.valid.at<uchar>(0, 0), 0);
    EXPECT_EQ(warped.valid.at<uchar>(90, 90), 255);
}

TEST(WarpTest, TranslationMovesTheTexture) {
    const cv::Mat source = gradient_image({200, 200});
    const std::vector<cv::Point2f> src = {{20, 20}, {120, 20}, {120, 120}, {20, 120}};
    std::vector<cv::Point2f> dst;
    for (const auto& p : src) dst.push_back(p + cv::Point2f(30, 40));
    const WarpedFace warped =
        warp_piecewise_affine(source, src, dst, triangulate(dst), cv::Rect(0, 0, 200, 200));
    // Destination pixel (80, 90) samples source (50, 50).
    EXPECT_EQ(warped.image.at<cv::Vec3b>(90, 80), source.at<cv::Vec3b>(50, 50));
}

TEST(WarpTest, DegenerateTrianglesAreSkipped) {
    const cv::Mat source = gradient_image({50, 50});
    const std::vector<cv::Point2f> line = {{5, 5}, {20, 20}, {40, 40}};
    const WarpedFace warped =
        warp_piecewise_affine(source, line, line, {cv::Vec3i(0, 1, 2)}, cv::Rect(0, 0, 50, 50));
    EXPECT_EQ(cv::countNonZero(warped.valid), 0);
}

}  // namespace
}  // namespace facefuse::fusion
