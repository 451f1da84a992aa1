// Why this colour match and not Poisson blending (seamlessClone): Poisson makes the pasted
// region agree with the target at its boundary by solving for the whole region, which costs
// ~220 ms for a 350 px face and drifts the colour of the entire face towards whatever touches
// the boundary (hair, background), recolouring the face. Matching statistics on skin only and
// then adding the blurred (low-frequency) difference gives the same seamless boundary for the
// slowly varying part of the image -- which is what a seam is made of -- in a few ms, and leaves
// the source's own detail (eyes, lips, freckles) untouched.
#include "fusion/colour.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace facefuse::fusion {
namespace {

cv::Mat to_float_ycc(const cv::Mat& bgr, cv::Size size) {
    cv::Mat small, ycc;
    if (bgr.size() == size) {
        small = bgr;
    } else {
        cv::resize(bgr, small, size, 0, 0, cv::INTER_AREA);
    }
    cv::cvtColor(small, ycc, cv::COLOR_BGR2YCrCb);
    ycc.convertTo(ycc, CV_32F);
    return ycc;
}

// Gaussian mean of `image` over `weights` (normalised convolution: pixels outside the weights
// are filled in from their neighbourhood).
cv::Mat masked_low_pass(const cv::Mat& image, const cv::Mat& weights, double sigma) {
    cv::Mat w3;
    cv::merge(std::vector<cv::Mat>(3, weights), w3);
    cv::Mat weighted;
    cv::multiply(image, w3, weighted);
    cv::GaussianBlur(weighted, weighted, cv::Size(), sigma);
    cv::GaussianBlur(w3, w3, cv::Size(), sigma);
    cv::max(w3, 1e-4, w3);
    cv::divide(weighted, w3, weighted);
    return weighted;
}

// 255 where a pixel is within 2.5 standard deviations of the skin's mean in every channel
// (with a floor on the spread, so an evenly lit face does not reject its own shading).
cv::Mat skin_like(const cv::Mat& ycc, const cv::Scalar& mean, const cv::Scalar& stddev) {
    cv::Scalar low, high;
    for (int c = 0; c < 3; ++c) {
        const double spread = 2.5 * std::max(stddev[c], c == 0 ? 12.0 : 4.0);
        low[c] = mean[c] - spread;
        high[c] = mean[c] + spread;
    }
    cv::Mat inside;
    cv::inRange(ycc, low, high, inside);
    return inside;
}

}  // namespace

cv::Mat match_colour(const cv::Mat& warped, const cv::Mat& target, const cv::Mat& skin, float sigma) {
    if (cv::countNonZero(skin) < 16) return warped.clone();  // nothing to measure on
    const double scale = static_cast<double>(skin.cols) / warped.cols;
    const cv::Mat src = to_float_ycc(warped, skin.size());
    const cv::Mat dst = to_float_ycc(target, skin.size());

    // 1. Global tone: mean and contrast per channel. Measured on the skin's core only: the
    //    mesh's rim can hold hair or background on either face, which would inflate the
    //    contrast we match. The contrast ratio is clamped to a modest range: a large ratio
    //    amplifies the source's shading into blotches, a small one flattens its features.
    cv::Mat core;
    const int shrink = std::max(1, static_cast<int>(sigma * scale));
    cv::erode(skin, core, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * shrink + 1, 2 * shrink + 1}));
    if (cv::countNonZero(core) < 16) core = skin;
    cv::Scalar src_mean, src_std, dst_mean, dst_std;
    cv::meanStdDev(src, src_mean, src_std, core);
    cv::meanStdDev(dst, dst_mean, dst_std, core);
    cv::Scalar ratio, offset;
    for (int c = 0; c < 3; ++c) {
        // A target without chroma (a greyscale photo) must not gain colour from the source:
        // there the chroma ratio may fall to zero.
        const bool grey_target = c > 0 && dst_std[1] < 1.5 && dst_std[2] < 1.5;
        ratio[c] = std::clamp(dst_std[c] / std::max(src_std[c], 1e-3), grey_target ? 0.0 : 0.8, 1.25);
        offset[c] = dst_mean[c] - src_mean[c] * ratio[c];
    }

    // 2. Local light: the low-frequency difference between target and toned source skin.
    //    Only pixels that look like skin in both images have a say: hair over a temple or a
    //    spectacle frame inside the mesh would otherwise smear its colour across the cheek.
    cv::Mat toned;
    cv::multiply(src, ratio, toned);
    cv::add(toned, offset, toned);
    cv::Mat weights;
    cv::bitwise_and(skin, skin_like(dst, dst_mean, dst_std), weights);
    cv::bitwise_and(weights, skin_like(toned, dst_mean, dst_std), weights);
    if (cv::countNonZero(weights) < 16) weights = skin.clone();
    weights.convertTo(weights, CV_32F, 1.0 / 255);
    const double small_sigma = std::max(1.0, sigma * scale);
    cv::Mat correction = masked_low_pass(dst, weights, small_sigma) - masked_low_pass(toned, weights, small_sigma);
    // Light varies mostly in brightness; a local colour shift is more often the target's own
    // feature (a blush, a smile crease, make-up) than light, so chroma may move only a little.
    cv::min(correction, cv::Scalar(40, 6, 6), correction);
    cv::max(correction, cv::Scalar(-40, -6, -6), correction);
    correction += offset;  // fold the global offset into the one per-pixel term

    // 3. Apply at full size: out = src * ratio + correction (upsampled; it is smooth).
    cv::Mat full_correction;
    cv::resize(correction, full_correction, warped.size(), 0, 0, cv::INTER_LINEAR);
    cv::Mat ycc;
    cv::cvtColor(warped, ycc, cv::COLOR_BGR2YCrCb);
    ycc.convertTo(ycc, CV_32F);
    cv::multiply(ycc, ratio, ycc);
    ycc += full_correction;
    ycc.convertTo(ycc, CV_8U);  // saturating
    cv::Mat out;
    cv::cvtColor(ycc, out, cv::COLOR_YCrCb2BGR);
    return out;
}

}  // namespace facefuse::fusion
