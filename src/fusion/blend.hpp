#pragma once
#include <opencv2/core.hpp>

namespace facefuse::fusion {

// target = target * (1 - alpha) + source * alpha, in place. target and source CV_8UC3 of one
// size, alpha CV_32F in 0..1. Pixels where alpha is 0 are left bit-for-bit as they were.
void alpha_blend(cv::Mat& target, const cv::Mat& source, const cv::Mat& alpha);

}  // namespace facefuse::fusion
