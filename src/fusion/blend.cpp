// Why a plain alpha blend is enough here: the seam a blend has to hide is a difference in
// low-frequency colour and light, and match_colour() has already removed it along the mask's
// edge. What remains is texture, which a feathered mask (see mask.cpp) crossfades over a
// band a few percent of the face wide. This costs well under a millisecond per face; Poisson
// (cv::seamlessClone) costs ~220 ms and recolours the whole face towards its boundary.
#include "fusion/blend.hpp"

#include <cmath>

namespace facefuse::fusion {

void alpha_blend(cv::Mat& target, const cv::Mat& source, const cv::Mat& alpha) {
    CV_Assert(target.type() == CV_8UC3 && source.type() == CV_8UC3 && alpha.type() == CV_32F);
    CV_Assert(target.size() == source.size() && target.size() == alpha.size());
    for (int y = 0; y < target.rows; ++y) {
        cv::Vec3b* t = target.ptr<cv::Vec3b>(y);
        const cv::Vec3b* s = source.ptr<cv::Vec3b>(y);
        const float* a = alpha.ptr<float>(y);
        for (int x = 0; x < target.cols; ++x) {
            const float w = a[x];
            if (w <= 0.0f) continue;  // keeps untouched pixels exact, not rounded
            for (int c = 0; c < 3; ++c) {
                const float v = t[x][c] + (s[x][c] - t[x][c]) * w;
                t[x][c] = static_cast<uchar>(std::lround(std::min(255.0f, std::max(0.0f, v))));
            }
        }
    }
}

}  // namespace facefuse::fusion
