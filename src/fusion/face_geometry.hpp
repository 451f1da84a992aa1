#pragma once
// The point set a swap warps over, and its triangulation.
//
// The 68 landmarks stop at the eyebrows, so a warp over their hull leaves the forehead of the
// target untouched and a visible edge just above the brows. We add ten points above the brows,
// placed along the face's own "up" axis at a fraction of its eye-to-chin height, so that the
// same construction on source and target yields corresponding points; the mesh then covers the
// lower forehead, and the cheeks up to the jaw outline.
#include <vector>

#include <opencv2/core.hpp>

#include "face/face.hpp"

namespace facefuse::fusion {

inline constexpr int kForeheadPointCount = 10;
inline constexpr int kWarpPointCount = face::kLandmarkCount + kForeheadPointCount;

// 68 landmarks followed by the forehead points (above brow points 17..26, in that order).
std::vector<cv::Point2f> warp_points(const face::Landmarks68& landmarks);

// Indices into warp_points() that walk the outline of the warped region (jaw 0..16, then the
// forehead points from right to left), as a closed polygon.
const std::vector<int>& outline_indices();

// Delaunay triangles (index triples into `points`) covering the convex hull of `points`.
std::vector<cv::Vec3i> triangulate(const std::vector<cv::Point2f>& points);

// A mesh for warping `source` onto `target` (both warp_points() sets): Delaunay of the halfway
// shape between the target and the source aligned onto it. Triangulating the target alone can
// give triangles that are flipped in the source (a turned head), which mirror texture.
std::vector<cv::Vec3i> triangulate_between(const std::vector<cv::Point2f>& source,
                                           const std::vector<cv::Point2f>& target);

// Eye-to-chin height, the face's size unit for feathering and blurs.
float face_height(const face::Landmarks68& landmarks);

// Moves the inner features (brows, eyes, nose, mouth: 17..67) of `target` towards `source`'s
// proportions by `degree` (0..1); the jaw outline stays. `source` is first aligned onto
// `target` with a similarity transform, so only shape differs, not position or scale.
face::Landmarks68 blend_inner_shape(const face::Landmarks68& target,
                                    const face::Landmarks68& source, double degree);

// Inner-lip gap relative to mouth width: ~0 for a closed mouth, >0.1 for an open one.
float mouth_openness(const face::Landmarks68& landmarks);

}  // namespace facefuse::fusion
