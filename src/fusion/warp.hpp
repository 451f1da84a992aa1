#pragma once
// Piecewise-affine warp of the source face onto the target's geometry.
#include <vector>

#include <opencv2/core.hpp>

namespace facefuse::fusion {

struct WarpedFace {
    cv::Mat image;  // CV_8UC3, roi-sized: source pixels where `valid`, black elsewhere
    cv::Mat valid;  // CV_8U, 255 inside the mesh
};

// For each triangle, the source pixels inside (src_points[tri]) are mapped affinely onto
// (dst_points[tri]) in the destination frame; only `roi` of that frame is produced.
WarpedFace warp_piecewise_affine(const cv::Mat& source, const std::vector<cv::Point2f>& src_points,
                                 const std::vector<cv::Point2f>& dst_points,
                                 const std::vector<cv::Vec3i>& triangles, cv::Rect roi);

}  // namespace facefuse::fusion
