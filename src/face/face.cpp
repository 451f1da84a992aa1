#include "face/face.hpp"

#include <algorithm>
#include <cmath>

namespace facefuse::face {
namespace {
cv::Point2f mean_of(const Landmarks68& points, int first, int count) {
    cv::Point2f sum(0, 0);
    for (int i = first; i < first + count; ++i) sum += points[i];
    return sum * (1.0f / static_cast<float>(count));
}
}  // namespace

cv::Point2f left_eye_centre(const Landmarks68& points) { return mean_of(points, 36, 6); }
cv::Point2f right_eye_centre(const Landmarks68& points) { return mean_of(points, 42, 6); }

float inter_ocular_distance(const Landmarks68& points) {
    const cv::Point2f d = right_eye_centre(points) - left_eye_centre(points);
    return std::sqrt(d.x * d.x + d.y * d.y);
}

cv::Rect2f landmark_bounds(const Landmarks68& points) {
    float x0 = points[0].x, y0 = points[0].y, x1 = x0, y1 = y0;
    for (const auto& p : points) {
        x0 = std::min(x0, p.x);
        y0 = std::min(y0, p.y);
        x1 = std::max(x1, p.x);
        y1 = std::max(y1, p.y);
    }
    return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace facefuse::face
