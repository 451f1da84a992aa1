#pragma once
// One swap, end to end on decoded images: analyse the source and the target, select faces,
// run the processors in order. What the CLI and the workers call; codecs stay outside.
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/result.hpp"
#include "common/stage_timings.hpp"
#include "face/analyser.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {

struct SwapJob {
    cv::Mat source;  // CV_8UC3; may be empty when no processor needs a source
    cv::Mat target;  // CV_8UC3
    SwapOptions options;
    std::vector<std::string> processors = {"face_swapper"};
    // The source face, if already analysed (a service caches it per source image; a video
    // analyses it once). When empty, the source is analysed and options.source_face_position
    // picks the face.
    std::optional<face::Face> source_face;
};

// The source face a swap uses: the faces found in `source`, largest first, and the one at
// `position`. kNoFaceInSource when there is none, kFaceNotFound when `position` is past the last.
// What run_swap does when job.source_face is empty; a worker calls it itself to cache the face.
Result<face::Face> analyse_source(const cv::Mat& source, int position, face::FaceAnalyser& analyser,
                                  face::AnalysisTimings* timings = nullptr);

// Returns the processed copy of job.target (same size). Errors: kUsage (bad options or
// processor names), kNoFaceInSource / kNoFaceInTarget, kFaceNotFound (position out of range).
// `analyser` is used for both images; `timings` may be null.
Result<cv::Mat> run_swap(const SwapJob& job, face::FaceAnalyser& analyser, StageTimings* timings);

}  // namespace facefuse::fusion
