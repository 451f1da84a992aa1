#include "fusion/face_geometry.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

namespace facefuse::fusion {
namespace {

float length(cv::Point2f v) { return std::sqrt(v.x * v.x + v.y * v.y); }

// Unit vector from chin towards the forehead, perpendicular to the eye line (robust to roll).
cv::Point2f up_axis(const face::Landmarks68& lm) {
    const cv::Point2f eyes = face::right_eye_centre(lm) - face::left_eye_centre(lm);
    const float n = std::max(length(eyes), 1e-3f);
    return {eyes.y / n, -eyes.x / n};
}

// How far above each brow point (17..26) its forehead point sits, in eye-to-chin heights.
// Highest over the brow centre and lower at the temples, following the forehead's curve; kept
// below the usual hairline so hair is not dragged into the mesh.
constexpr std::array<float, kForeheadPointCount> kForeheadLift = {
    0.16f, 0.24f, 0.29f, 0.31f, 0.32f, 0.32f, 0.31f, 0.29f, 0.24f, 0.16f};

}  // namespace

float face_height(const face::Landmarks68& lm) {
    const cv::Point2f eyes_mid = (face::left_eye_centre(lm) + face::right_eye_centre(lm)) * 0.5f;
    return std::max(length(eyes_mid - lm[8]), 1.0f);
}

std::vector<cv::Point2f> warp_points(const face::Landmarks68& lm) {
    std::vector<cv::Point2f> points(lm.begin(), lm.end());
    const cv::Point2f up = up_axis(lm);
    const float height = face_height(lm);
    for (int i = 0; i < kForeheadPointCount; ++i) {
        points.push_back(lm[17 + i] + up * (kForeheadLift[i] * height));
    }
    return points;
}

const std::vector<int>& outline_indices() {
    static const std::vector<int> outline = [] {
        std::vector<int> idx;
        for (int i = 0; i <= 16; ++i) idx.push_back(i);
        for (int i = kForeheadPointCount - 1; i >= 0; --i) idx.push_back(face::kLandmarkCount + i);
        return idx;
    }();
    return outline;
}

std::vector<cv::Vec3i> triangulate(const std::vector<cv::Point2f>& points) {
    cv::Rect2f bounds = cv::boundingRect(points);
    // Subdiv2D needs every point strictly inside its rectangle.
    const cv::Rect rect(static_cast<int>(std::floor(bounds.x)) - 2,
                        static_cast<int>(std::floor(bounds.y)) - 2,
                        static_cast<int>(std::ceil(bounds.width)) + 5,
                        static_cast<int>(std::ceil(bounds.height)) + 5);
    cv::Subdiv2D subdiv(rect);
    subdiv.insert(points);
    std::vector<cv::Vec6f> list;
    subdiv.getTriangleList(list);

    // Subdiv2D returns coordinates, not indices, and merges coincident points (a closed
    // mouth). Map each corner back to the first input point at that position; triangles that
    // touch Subdiv2D's virtual outer vertices match no input point and are dropped.
    auto index_of = [&](float x, float y) {
        for (int i = 0; i < static_cast<int>(points.size()); ++i)
            if (points[i].x == x && points[i].y == y) return i;
        return -1;
    };
    std::vector<cv::Vec3i> triangles;
    triangles.reserve(list.size());
    for (const cv::Vec6f& t : list) {
        const cv::Vec3i tri(index_of(t[0], t[1]), index_of(t[2], t[3]), index_of(t[4], t[5]));
        if (tri[0] >= 0 && tri[1] >= 0 && tri[2] >= 0) triangles.push_back(tri);
    }
    return triangles;
}

namespace {
// `source` moved onto `target` by the similarity (rotation, uniform scale, shift) that best
// maps their stable points (jaw ends, chin, nose bridge, eye corners); nullopt if degenerate.
std::optional<std::vector<cv::Point2f>> aligned_onto(const std::vector<cv::Point2f>& source,
                                                     const std::vector<cv::Point2f>& target) {
    std::vector<cv::Point2f> from, to;
    for (int i : {0, 8, 16, 27, 30, 36, 39, 42, 45}) {
        from.push_back(source[i]);
        to.push_back(target[i]);
    }
    const cv::Mat transform = cv::estimateAffinePartial2D(from, to, cv::noArray(), cv::LMEDS);
    if (transform.empty()) return std::nullopt;
    std::vector<cv::Point2f> aligned;
    cv::transform(source, aligned, transform);
    return aligned;
}
}  // namespace

std::vector<cv::Vec3i> triangulate_between(const std::vector<cv::Point2f>& source,
                                           const std::vector<cv::Point2f>& target) {
    const auto aligned = aligned_onto(source, target);
    if (!aligned) return triangulate(target);
    std::vector<cv::Point2f> halfway(target.size());
    for (size_t i = 0; i < target.size(); ++i) halfway[i] = (target[i] + (*aligned)[i]) * 0.5f;
    return triangulate(halfway);
}

face::Landmarks68 blend_inner_shape(const face::Landmarks68& target,
                                    const face::Landmarks68& source, double degree) {
    if (degree <= 0) return target;
    // Aligned first, so the blend changes shape only, not position or scale.
    const auto aligned = aligned_onto({source.begin(), source.end()}, {target.begin(), target.end()});
    if (!aligned) return target;

    face::Landmarks68 out = target;
    const float d = static_cast<float>(std::min(degree, 1.0));
    for (int i = 17; i < face::kLandmarkCount; ++i) out[i] = target[i] + ((*aligned)[i] - target[i]) * d;
    return out;
}

float mouth_openness(const face::Landmarks68& lm) {
    const float gap = (length(lm[61] - lm[67]) + length(lm[62] - lm[66]) + length(lm[63] - lm[65])) / 3;
    return gap / std::max(length(lm[54] - lm[48]), 1.0f);
}

}  // namespace facefuse::fusion
