#include "face/detector.hpp"

#include <algorithm>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

namespace facefuse::face {

struct HogScanner::Impl {
    dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
};

HogScanner::HogScanner() : impl_(std::make_unique<Impl>()) {}
HogScanner::~HogScanner() = default;
HogScanner::HogScanner(HogScanner&&) noexcept = default;
HogScanner& HogScanner::operator=(HogScanner&&) noexcept = default;

std::vector<Detection> HogScanner::scan(const cv::Mat& gray, double scale,
                                        double score_threshold) {
    cv::Mat scanned;
    if (scale == 1.0) {
        scanned = gray;
    } else {
        // INTER_AREA when shrinking avoids aliasing that HOG reads as edges; linear when growing.
        cv::resize(gray, scanned, cv::Size(), scale, scale,
                   scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    }
    std::vector<dlib::rect_detection> found;
    impl_->detector(dlib::cv_image<unsigned char>(scanned), found, score_threshold);

    std::vector<Detection> detections;
    detections.reserve(found.size());
    const float inverse = static_cast<float>(1.0 / scale);
    for (const auto& d : found) {
        const cv::Rect2f box(static_cast<float>(d.rect.left()) * inverse,
                             static_cast<float>(d.rect.top()) * inverse,
                             static_cast<float>(d.rect.width()) * inverse,
                             static_cast<float>(d.rect.height()) * inverse);
        detections.push_back({box, static_cast<float>(d.detection_confidence)});
    }
    std::sort(detections.begin(), detections.end(),
              [](const Detection& a, const Detection& b) { return a.score > b.score; });
    return detections;
}

std::vector<ScanStep> scan_ladder(cv::Size size, const DetectorOptions& options) {
    const int long_side = std::max(size.width, size.height);
    const int budget = std::clamp(options.detector_size, 160, 4096);
    std::vector<ScanStep> steps;
    double base = 1.0;
    if (long_side <= budget) {
        steps.push_back({0, 1.0});
        // Upsample so ~40 px faces reach HOG's window, when there may be such faces.
        steps.push_back({0, 2.0, 1.5f * kHogWindowPx});
    } else {
        base = static_cast<double>(budget) / long_side;
        steps.push_back({0, base});
        // Nothing on the small copy: the face may just be small. Try a copy twice as large.
        steps.push_back({0, std::min(1.0, 2.0 * base)});
    }
    if (options.try_rotations) {
        for (int rotation : {90, 180, 270}) steps.push_back({rotation, base});
    }
    return steps;
}

}  // namespace facefuse::face
