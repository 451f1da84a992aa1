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
    int found_rotation = 0;
    cv::Mat found_in;  // the (turned) image the faces were found in, for the landmarks
    for (const ScanStep& step : scan_ladder(gray.size(), options_)) {
        if (!faces.empty()) {
            float smallest = faces.front().box.width;
            for (const Face& f : faces) smallest = std::min(smallest, f.box.width);
            if (smallest >= step.refine_below_px) continue;
        }
        const cv::Mat turned = rotated(gray, step.rotation);
        std::vector<Detection> found = scanner_.scan(turned, step.scale, options_.score_threshold);
        if (found.empty()) continue;
        // A later, finer step sees everything an earlier one did and more: it replaces it.
        faces.clear();
        for (const Detection& d : found) {
            Face face;
            face.score = d.score;
            face.rotation = step.rotation;
            face.box = d.box;  // still in the turned image's coordinates
            faces.push_back(face);
        }
        found_rotation = step.rotation;
        found_in = turned;
    }
    if (static_cast<int>(faces.size()) > options_.max_faces) faces.resize(options_.max_faces);
    if (timings) timings->detect_ms += clock.lap_ms();

    for (Face& face : faces) {
        face.landmarks = landmarker_->locate(found_in, face.box);
        for (auto& p : face.landmarks) p = unrotate(p, found_rotation, gray.size());
        face.box = unrotate(face.box, found_rotation, gray.size());
    }
    if (timings) timings->landmarks_ms += clock.lap_ms();
    return faces;
}

}  // namespace facefuse::face
