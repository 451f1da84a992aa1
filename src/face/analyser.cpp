#include "face/analyser.hpp"

#include <opencv2/imgproc.hpp>

#include "common/stopwatch.hpp"

namespace facefuse::face {
namespace {

cv::Mat rotated(const cv::Mat& gray, int rotation) {
    if (rotation == 0) return gray;
    cv::Mat out;
    const int code = rotation == 90    ? cv::ROTATE_90_CLOCKWISE
                     : rotation == 180 ? cv::ROTATE_180
                                       : cv::ROTATE_90_COUNTERCLOCKWISE;
    cv::rotate(gray, out, code);
    return out;
}

// Maps a point of the image turned clockwise by `rotation` back to the unturned image of
// size `original`.
cv::Point2f unrotate(cv::Point2f p, int rotation, cv::Size original) {
    const float w = static_cast<float>(original.width - 1);
    const float h = static_cast<float>(original.height - 1);
    switch (rotation) {
        case 90: return {p.y, h - p.x};
        case 180: return {w - p.x, h - p.y};
        case 270: return {w - p.y, p.x};
        default: return p;
    }
}

cv::Rect2f unrotate(const cv::Rect2f& box, int rotation, cv::Size original) {
    const cv::Point2f a = unrotate(box.tl(), rotation, original);
    const cv::Point2f b = unrotate(box.br(), rotation, original);
    return {std::min(a.x, b.x), std::min(a.y, b.y), std::abs(a.x - b.x), std::abs(a.y - b.y)};
}

}  // namespace

FaceAnalyser::FaceAnalyser(std::shared_ptr<const LandmarkProvider> landmarker,
                           DetectorOptions options)
    : landmarker_(std::move(landmarker)), options_(options) {}

std::vector<Face> FaceAnalyser::analyse(const cv::Mat& image, AnalysisTimings* timings) {
    Stopwatch clock;
    cv::Mat gray;
    if (image.channels() == 1) {
        gray = image;
    } else {
        cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    }

    std::vector<Face> faces;
    for (const ScanStep& step : scan_ladder(gray.size(), options_)) {
        const cv::Mat turned = rotated(gray, step.rotation);
        std::vector<Detection> found =
            scanner_.scan(turned, step.scale, options_.score_threshold);
        if (found.empty()) continue;
        if (static_cast<int>(found.size()) > options_.max_faces) found.resize(options_.max_faces);

        if (timings) timings->detect_ms += clock.lap_ms();
        for (const Detection& d : found) {
            Face face;
            face.score = d.score;
            face.rotation = step.rotation;
            face.box = unrotate(d.box, step.rotation, gray.size());
            face.landmarks = landmarker_->locate(turned, d.box);
            for (auto& p : face.landmarks) p = unrotate(p, step.rotation, gray.size());
            faces.push_back(face);
        }
        if (timings) timings->landmarks_ms += clock.lap_ms();
        return faces;
    }
    if (timings) timings->detect_ms += clock.lap_ms();
    return faces;
}

}  // namespace facefuse::face
