#pragma once
// FaceAnalyser: image in, faces with landmarks out (detection ladder + landmarks).
//
// Detection runs on a scaled copy; landmarks always run at full resolution, on the orientation
// in which the face was found, and are mapped back to the input's coordinates.
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "face/detector.hpp"
#include "face/face.hpp"
#include "face/landmarker.hpp"

namespace facefuse::face {

struct AnalysisTimings {
    double detect_ms = 0;
    double landmarks_ms = 0;
};

class FaceAnalyser {
public:
    // `landmarker` is shared (thread-safe, expensive to load); the analyser itself is not
    // thread-safe: one per thread.
    explicit FaceAnalyser(std::shared_ptr<const LandmarkProvider> landmarker,
                          DetectorOptions options = {});

    // Every face found in 8-bit BGR `image`, best detector score first. Empty when there is
    // none: whether that is an error is the caller's decision. `timings` may be null.
    std::vector<Face> analyse(const cv::Mat& image, AnalysisTimings* timings = nullptr);

    const DetectorOptions& options() const { return options_; }
    const LandmarkProvider& landmarker() const { return *landmarker_; }
    const std::shared_ptr<const LandmarkProvider>& landmarker_shared() const { return landmarker_; }

private:
    std::shared_ptr<const LandmarkProvider> landmarker_;
    DetectorOptions options_;
    HogScanner scanner_;
};

}  // namespace facefuse::face
