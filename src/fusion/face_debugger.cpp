#include "fusion/face_debugger.hpp"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "fusion/face_geometry.hpp"
#include "fusion/face_swapper.hpp"
#include "fusion/mask.hpp"

namespace facefuse::fusion {

void draw_face_debug(cv::Mat& image, const std::vector<face::Face>& faces, const SwapOptions& options) {
    for (size_t i = 0; i < faces.size(); ++i) {
        const face::Face& f = faces[i];
        const int thickness = std::max(1, static_cast<int>(f.box.width / 150));
        cv::rectangle(image, f.box, cv::Scalar(0, 255, 0), thickness);
        char label[48];
        std::snprintf(label, sizeof label, "#%zu %.2f", i, f.score);
        cv::putText(image, label, cv::Point(static_cast<int>(f.box.x), static_cast<int>(f.box.y) - 4),
                    cv::FONT_HERSHEY_SIMPLEX, std::max(0.4, f.box.width / 300.0), cv::Scalar(0, 255, 0),
                    thickness);

        const std::vector<cv::Point2f> points = warp_points(f.landmarks);
        const cv::Rect roi = swap_region(f.landmarks, image.size());
        if (roi.width > 0 && roi.height > 0) {
            const cv::Mat mask = face_mask(MaskGeometry{roi, points, f.landmarks}, options);
            cv::Mat half;
            cv::threshold(mask, half, 0.5, 255, cv::THRESH_BINARY);
            half.convertTo(half, CV_8U);
            std::vector<std::vector<cv::Point>> contours;
            cv::findContours(half, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE, roi.tl());
            cv::drawContours(image, contours, -1, cv::Scalar(255, 255, 0), thickness);
        }
        const int radius = std::max(1, thickness);
        for (int k = 0; k < static_cast<int>(points.size()); ++k) {
            const cv::Scalar colour = k < face::kLandmarkCount ? cv::Scalar(0, 0, 255) : cv::Scalar(0, 255, 255);
            cv::circle(image, points[k], radius, colour, cv::FILLED);
        }
    }
}

}  // namespace facefuse::fusion
