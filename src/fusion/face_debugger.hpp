#pragma once
// face_debugger: draws what the engine saw, so a user can tell why a swap looks as it does.
#include <vector>

#include <opencv2/core.hpp>

#include "face/face.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {

// Draws on `image`, for every face: its detection box with score and selection index (green),
// its 68 landmarks (red), the forehead extension points (yellow), and the outline of the swap
// mask at half strength (cyan).
void draw_face_debug(cv::Mat& image, const std::vector<face::Face>& faces, const SwapOptions& options);

}  // namespace facefuse::fusion
