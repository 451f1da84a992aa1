#pragma once
// Colour and lighting match of the warped source face to the target.
#include <opencv2/core.hpp>

namespace facefuse::fusion {

// Returns `warped` (CV_8UC3) recoloured to sit in `target` (same size): first a mean/std
// transfer per luma/chroma channel measured on skin (eyes, brows and mouth excluded, so lips
// and eyes neither drive nor receive a skin tone), then a low-frequency correction (the
// smoothly varying difference of the two, e.g. side light) with a Gaussian of `sigma` px,
// which also makes the two agree along the mask's edge where the blend happens.
//
// `skin` (CV_8U) may be smaller than the images: everything measured is measured at its size,
// and only the final per-pixel correction runs at full size.
cv::Mat match_colour(const cv::Mat& warped, const cv::Mat& target, const cv::Mat& skin, float sigma);

}  // namespace facefuse::fusion
