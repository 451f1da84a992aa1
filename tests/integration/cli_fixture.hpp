#pragma once
// Helpers for tests that drive the real `facefuse` binary: run it, read its JSON, compare images.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/test_support.hpp"

namespace facefuse::test {

// The engine under ASan takes seconds per swap: allow for it.
inline CommandResult facefuse(std::vector<std::string> args) { return run_facefuse(std::move(args), {}, 300); }

struct DetectedFace {
    cv::Rect2f box;
    std::vector<cv::Point2f> landmarks;
};

// `facefuse detect --json IMAGE`; fails the test if detect itself fails.
inline std::vector<DetectedFace> detect(const std::filesystem::path& image) {
    const CommandResult r = facefuse({"detect", "--json", image.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<DetectedFace> faces;
    if (r.exit_code != 0) return faces;
    const auto json = nlohmann::json::parse(r.out);
    for (const auto& f : json["faces"]) {
        DetectedFace d;
        d.box = cv::Rect2f(f["box"][0], f["box"][1], f["box"][2], f["box"][3]);
        for (const auto& p : f["landmarks"]) d.landmarks.emplace_back(p[0], p[1]);
        faces.push_back(d);
    }
    return faces;
}

inline cv::Point2f mean_point(const std::vector<cv::Point2f>& p, int first, int count) {
    cv::Point2f s(0, 0);
    for (int i = first; i < first + count; ++i) s += p[i];
    return s * (1.0f / count);
}

inline float inter_ocular(const std::vector<cv::Point2f>& p) {
    const cv::Point2f d = mean_point(p, 42, 6) - mean_point(p, 36, 6);
    return std::sqrt(d.dot(d));
}

// Generous region a swap of this face may touch: the landmarks' box grown by 60 % of its
// height upwards (forehead) and 20 % on the other sides (feathering), clipped to the image.
inline cv::Rect face_region(const DetectedFace& f, cv::Size image) {
    const cv::Rect2f b = cv::boundingRect(f.landmarks);
    const cv::Rect grown(static_cast<int>(b.x - 0.2f * b.width), static_cast<int>(b.y - 0.6f * b.height),
                         static_cast<int>(1.4f * b.width), static_cast<int>(1.8f * b.height));
    return grown & cv::Rect(cv::Point(0, 0), image);
}

// Mean absolute difference per channel over `region`.
inline double mean_abs_diff(const cv::Mat& a, const cv::Mat& b, cv::Rect region) {
    cv::Mat d;
    cv::absdiff(a(region), b(region), d);
    const cv::Scalar m = cv::mean(d);
    return (m[0] + m[1] + m[2]) / 3;
}

// Number of pixels that differ outside every region in `allowed`.
inline int changed_outside(const cv::Mat& a, const cv::Mat& b, const std::vector<cv::Rect>& allowed) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    std::vector<cv::Mat> channels;
    cv::split(diff, channels);
    cv::Mat changed = channels[0] | channels[1] | channels[2];
    for (const cv::Rect& r : allowed) changed(r).setTo(0);
    return cv::countNonZero(changed);
}

}  // namespace facefuse::test
