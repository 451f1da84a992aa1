#pragma once
// Where the swapped face shows through: FaceFusion's box and area masks, the explicit mouth
// handling, and the skin region the colour match measures on.
#include <vector>

#include <opencv2/core.hpp>

#include "face/face.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {

struct MaskGeometry {
    cv::Rect roi;                               // frame region the masks cover
    const std::vector<cv::Point2f>& points;     // warp_points() of the target geometry, frame coords
    const face::Landmarks68& target_landmarks;  // the target's own landmarks, frame coords
};

// CV_32F in 0..1, roi-sized. The intersection of the requested mask types, feathered by
// options.mask_blur, with the target's open mouth cut out so its own teeth and tongue stay
// (and closed-mouth source lips are never stretched over them). A feathered mask is smooth, so
// it is drawn on a copy where the face is ~200 px tall and scaled up: the cost no longer grows
// with the face's size in the frame.
cv::Mat face_mask(const MaskGeometry& geometry, const SwapOptions& options);

// CV_8U (0/255), of size roi * scale: the face's skin (mesh minus eyes, brows and mouth),
// where colour statistics are fair to compare between two faces.
cv::Mat skin_mask(const MaskGeometry& geometry, double scale);

// Landmark indices of each FaceFusion area (the same sets FaceFusion defines on 68 points).
const std::vector<int>& area_indices(MaskArea area);

}  // namespace facefuse::fusion
