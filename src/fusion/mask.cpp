// Feathering: the hard polygon is eroded by the feather radius and then blurred with sigma of
// half that radius, so the soft edge ends just inside the mesh. That matters because outside the
// mesh the warped image is black: a blur centred on the mesh edge would mix black in.
#include "fusion/mask.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "fusion/face_geometry.hpp"

namespace facefuse::fusion {
namespace {

// Frame coordinates -> the mask's: relative to the roi, times the mask's scale, in 1/16 px.
constexpr int kShift = 4;
std::vector<cv::Point> to_local(const std::vector<cv::Point2f>& points, cv::Rect roi, double scale) {
    std::vector<cv::Point> out;
    out.reserve(points.size());
    for (const auto& p : points)
        out.emplace_back(static_cast<int>(std::lround((p.x - roi.x) * scale * (1 << kShift))),
                         static_cast<int>(std::lround((p.y - roi.y) * scale * (1 << kShift))));
    return out;
}

cv::Size scaled(cv::Size size, double scale) {
    return {std::max(1, static_cast<int>(std::lround(size.width * scale))),
            std::max(1, static_cast<int>(std::lround(size.height * scale)))};
}

std::vector<cv::Point2f> pick(const std::vector<cv::Point2f>& points, const std::vector<int>& idx) {
    std::vector<cv::Point2f> out;
    out.reserve(idx.size());
    for (int i : idx) out.push_back(points[i]);
    return out;
}

void fill_polygon(cv::Mat& mask, const std::vector<cv::Point2f>& polygon, cv::Rect roi, double scale) {
    const std::vector<cv::Point> pts = to_local(polygon, roi, scale);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(255), cv::LINE_8, kShift);
}

void fill_hull(cv::Mat& mask, const std::vector<cv::Point2f>& points, cv::Rect roi, double scale) {
    std::vector<cv::Point> hull;
    cv::convexHull(to_local(points, roi, scale), hull);
    cv::fillConvexPoly(mask, hull, cv::Scalar(255), cv::LINE_8, kShift);
}

cv::Mat disk(int radius) {
    return cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * radius + 1, 2 * radius + 1});
}

// Rectangle in the face's own axes (eye line and its normal) around `points`, each side moved
// inward by padding percent (top, right, bottom, left) of the face's extent: FaceFusion's
// face_mask_padding on a face that is not aligned to the image axes.
std::vector<cv::Point2f> padded_box(const std::vector<cv::Point2f>& points,
                                    const face::Landmarks68& lm, const std::array<int, 4>& padding) {
    cv::Point2f across = face::right_eye_centre(lm) - face::left_eye_centre(lm);
    across *= 1.0f / std::max(std::sqrt(across.dot(across)), 1e-3f);
    const cv::Point2f down(-across.y, across.x);
    float u0 = 1e9f, u1 = -1e9f, v0 = 1e9f, v1 = -1e9f;
    for (const auto& p : points) {
        u0 = std::min(u0, p.dot(across));
        u1 = std::max(u1, p.dot(across));
        v0 = std::min(v0, p.dot(down));
        v1 = std::max(v1, p.dot(down));
    }
    const float w = u1 - u0, h = v1 - v0;
    v0 += h * padding[0] / 100.0f;
    u1 -= w * padding[1] / 100.0f;
    v1 -= h * padding[2] / 100.0f;
    u0 += w * padding[3] / 100.0f;
    auto corner = [&](float u, float v) { return across * u + down * v; };
    return {corner(u0, v0), corner(u1, v0), corner(u1, v1), corner(u0, v1)};
}

cv::Mat feather(const cv::Mat& hard, float radius) {
    cv::Mat soft;
    if (radius < 1) {
        hard.convertTo(soft, CV_32F, 1.0 / 255);
        return soft;
    }
    cv::Mat eroded;
    const int r = static_cast<int>(std::lround(radius));
    cv::erode(hard, eroded, disk(r));
    eroded.convertTo(soft, CV_32F, 1.0 / 255);
    cv::GaussianBlur(soft, soft, cv::Size(), radius / 2);
    return soft;
}

}  // namespace

const std::vector<int>& area_indices(MaskArea area) {
    static const std::vector<int> upper = {0, 1, 2, 31, 32, 33, 34, 35, 14, 15, 16,
                                           26, 25, 24, 23, 22, 21, 20, 19, 18, 17};
    static const std::vector<int> lower = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 35, 34, 33, 32, 31};
    static const std::vector<int> mouth = {48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
                                           58, 59, 60, 61, 62, 63, 64, 65, 66, 67};
    switch (area) {
        case MaskArea::kUpperFace: return upper;
        case MaskArea::kLowerFace: return lower;
        case MaskArea::kMouth: return mouth;
    }
    return upper;
}

cv::Mat face_mask(const MaskGeometry& g, const SwapOptions& options) {
    const float height = face_height(g.target_landmarks);
    // A hard edge (no blur) must be drawn at full resolution; a feathered one need not be.
    const double scale = options.mask_blur > 0 ? std::min(1.0, 200.0 / height) : 1.0;
    const cv::Size size = scaled(g.roi.size(), scale);
    const float radius = static_cast<float>(options.mask_blur * 0.25 * height * scale);

    // The hard mask stops halfway up the forehead extension: the feather then fades out over
    // the forehead, which hides the brow line without pasting the source's hairline or
    // fringe onto the target's forehead. The upper half of the mesh only feeds the fade.
    std::vector<cv::Point2f> outline = pick(g.points, outline_indices());
    for (size_t i = 17; i < outline.size(); ++i) {
        const int brow = 17 + (kForeheadPointCount - 1 - static_cast<int>(i - 17));
        outline[i] = (outline[i] + g.points[brow]) * 0.5f;
    }
    cv::Mat mesh(size, CV_8U, cv::Scalar(0));
    fill_polygon(mesh, outline, g.roi, scale);

    cv::Mat combined;
    for (MaskType type : options.mask_types) {
        cv::Mat hard;
        if (type == MaskType::kBox) {
            hard = mesh.clone();
            const auto& p = options.mask_padding;
            if (p[0] || p[1] || p[2] || p[3]) {
                cv::Mat box(size, CV_8U, cv::Scalar(0));
                fill_polygon(box, padded_box(g.points, g.target_landmarks, p), g.roi, scale);
                cv::bitwise_and(hard, box, hard);
            }
        } else {
            hard = cv::Mat(size, CV_8U, cv::Scalar(0));
            for (MaskArea area : options.mask_areas)
                fill_hull(hard, pick(g.points, area_indices(area)), g.roi, scale);
            cv::bitwise_and(hard, mesh, hard);
        }
        // A feather sized to the whole face would erode a small area (the mouth) to nothing:
        // an area's feather is at most a sixth of its own smaller side.
        float type_radius = radius;
        if (type == MaskType::kArea) {
            const cv::Rect extent = cv::boundingRect(hard);
            type_radius = std::min(radius, std::min(extent.width, extent.height) / 6.0f);
        }
        cv::Mat soft = feather(hard, type_radius);
        combined = combined.empty() ? soft : cv::min(combined, soft);
    }

    // An open target mouth keeps its own inside (teeth, tongue): pasting the source's there
    // is the classic giveaway, and a closed source mouth would be stretched over the gap.
    if (mouth_openness(g.target_landmarks) > 0.08f) {
        cv::Mat inner(size, CV_8U, cv::Scalar(0));
        fill_polygon(inner, pick(g.points, {60, 61, 62, 63, 64, 65, 66, 67}), g.roi, scale);
        const int grow = std::max(1, static_cast<int>(std::lround(0.02 * height * scale)));
        cv::dilate(inner, inner, disk(grow));
        cv::Mat keep;
        inner.convertTo(keep, CV_32F, 1.0 / 255);
        cv::GaussianBlur(keep, keep, cv::Size(), std::max(1.0f, grow / 1.5f));
        combined = combined.mul(1.0f - keep);
    }
    if (scale < 1.0) cv::resize(combined, combined, g.roi.size(), 0, 0, cv::INTER_LINEAR);
    return combined;
}

cv::Mat skin_mask(const MaskGeometry& g, double scale) {
    const cv::Size size = scaled(g.roi.size(), scale);
    cv::Mat skin(size, CV_8U, cv::Scalar(0));
    fill_polygon(skin, pick(g.points, outline_indices()), g.roi, scale);
    cv::Mat features(size, CV_8U, cv::Scalar(0));
    for (const std::vector<int>& part : {std::vector<int>{17, 18, 19, 20, 21},
                                         std::vector<int>{22, 23, 24, 25, 26},
                                         std::vector<int>{36, 37, 38, 39, 40, 41},
                                         std::vector<int>{42, 43, 44, 45, 46, 47},
                                         std::vector<int>{48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}}) {
        fill_hull(features, pick(g.points, part), g.roi, scale);
    }
    const int grow = std::max(1, static_cast<int>(std::lround(0.04 * face_height(g.target_landmarks) * scale)));
    cv::dilate(features, features, disk(grow));
    cv::erode(skin, skin, disk(grow));
    skin.setTo(0, features);
    return skin;
}

}  // namespace facefuse::fusion
