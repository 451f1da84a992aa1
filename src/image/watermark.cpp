// The visible watermark: text drawn on a copy of the corner, then alpha-blended back, so the
// label is legible but does not hide the picture, and only the corner is ever written.
#include "image/watermark.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

namespace facefuse::image {
namespace {

constexpr int kMinSide = 64;                 // below this a label would cover the picture
constexpr double kOpacity = 0.6;             // of the text over the image
constexpr double kHeightShare = 1.0 / 30.0;  // text height against the shorter side
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

}  // namespace

void draw_visible_watermark(cv::Mat& bgr, std::string_view text) {
    if (bgr.empty() || bgr.type() != CV_8UC3 || text.empty()) return;
    if (bgr.cols < kMinSide || bgr.rows < kMinSide) return;
    const std::string label(text);
    try {
        // Size: a share of the shorter side (never below a legible 0.3), then shrunk until the
        // label with its outline and margin fits in the right half of the image.
        int baseline = 0;
        const cv::Size unit = cv::getTextSize(label, kFont, 1.0, 1, &baseline);
        if (unit.width <= 0 || unit.height <= 0) return;
        const double wanted_height = std::min(bgr.cols, bgr.rows) * kHeightShare;
        double scale = std::max(0.3, wanted_height / unit.height);
        int thickness = 1, outline = 3, margin = 2;
        cv::Size size;
        for (int attempt = 0; attempt < 4; ++attempt) {
            thickness = std::max(1, static_cast<int>(std::lround(scale)));
            outline = thickness + 2;
            size = cv::getTextSize(label, kFont, scale, thickness, &baseline);
            margin = std::max(2, size.height / 2);
            const int room = bgr.cols / 2 - margin - 2 * outline;
            if (size.width <= room) break;
            if (room <= 0) return;  // no room for any label
            scale *= 0.95 * room / size.width;
        }
        if (size.width > bgr.cols / 2) return;

        // The corner the label occupies, with room for its outline, clipped to the image.
        const cv::Rect wanted(bgr.cols - margin - size.width - outline,
                              bgr.rows - margin - size.height - baseline - outline,
                              size.width + 2 * outline, size.height + baseline + 2 * outline);
        const cv::Rect corner = wanted & cv::Rect(0, 0, bgr.cols, bgr.rows);
        if (corner.empty()) return;

        cv::Mat region = bgr(corner);
        cv::Mat overlay = region.clone();
        const cv::Point origin(wanted.x - corner.x + outline,
                               wanted.y - corner.y + outline + size.height);
        cv::putText(overlay, label, origin, kFont, scale, cv::Scalar(0, 0, 0), outline,
                    cv::LINE_AA);
        cv::putText(overlay, label, origin, kFont, scale, cv::Scalar(255, 255, 255), thickness,
                    cv::LINE_AA);
        cv::Mat blended;
        cv::addWeighted(overlay, kOpacity, region, 1.0 - kOpacity, 0.0, blended);
        blended.copyTo(region);
    } catch (const cv::Exception&) {
        // Drawing is best effort: a failed watermark leaves the image as it was (the blend is
        // computed aside and copied in one step, so there is no half-drawn state).
    }
}

}  // namespace facefuse::image
