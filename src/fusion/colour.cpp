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

// Mean of `image` over `weights`, blurred with a Gaussian of `sigma` px (normalised
// convolution: pixels outside the weights are filled in from their neighbourhood). Computed on
// a copy shrunk so that sigma is ~4 px there, which is what makes large blurs cheap.
cv::Mat masked_low_pass(const cv::Mat& image, const cv::Mat& weights, float sigma) {
    const double shrink = std::clamp(4.0 / sigma, 1.0 / 32, 1.0);
    cv::Mat small_image, small_weights;
    cv::resize(image, small_image, cv::Size(), shrink, shrink, cv::INTER_AREA);
    cv::resize(weights, small_weights, small_image.size(), 0, 0, cv::INTER_AREA);
    const double small_sigma = sigma * shrink;

    cv::Mat weighted;
    cv::Mat w3;
    cv::merge(std::vector<cv::Mat>(3, small_weights), w3);
    cv::multiply(small_image, w3, weighted);
    cv::GaussianBlur(weighted, weighted, cv::Size(), small_sigma);
    cv::GaussianBlur(w3, w3, cv::Size(), small_sigma);
    cv::max(w3, 1e-4, w3);
    cv::divide(weighted, w3, weighted);

    cv::Mat full;
    cv::resize(weighted, full, image.size(), 0, 0, cv::INTER_LINEAR);
    return full;
}

}  // namespace

cv::Mat match_colour(const cv::Mat& warped, const cv::Mat& target, const cv::Mat& skin, float scale) {
    if (cv::countNonZero(skin) < 16) return warped.clone();  // nothing to measure on

    cv::Mat src_lab, dst_lab;
    warped.convertTo(src_lab, CV_32F, 1.0 / 255);
    target.convertTo(dst_lab, CV_32F, 1.0 / 255);
    cv::cvtColor(src_lab, src_lab, cv::COLOR_BGR2Lab);
    cv::cvtColor(dst_lab, dst_lab, cv::COLOR_BGR2Lab);

    // 1. Global tone: mean and contrast per Lab channel, measured on skin only. The contrast
    //    ratio is clamped to a modest range: a large ratio amplifies the source's shading into
    //    blotches, a small one flattens its features.
    //    Measured on the skin's core only: the mesh's rim can hold hair or background on
    //    either face, which would inflate the contrast we match.
    cv::Mat core;
    const int shrink = std::max(1, static_cast<int>(scale));
    cv::erode(skin, core, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * shrink + 1, 2 * shrink + 1}));
    if (cv::countNonZero(core) < 16) core = skin;
    cv::Scalar src_mean, src_std, dst_mean, dst_std;
    cv::meanStdDev(src_lab, src_mean, src_std, core);
    cv::meanStdDev(dst_lab, dst_mean, dst_std, core);
    std::vector<cv::Mat> channels;
    cv::split(src_lab, channels);
    for (int c = 0; c < 3; ++c) {
        // A target without chroma (a greyscale photo) must not gain colour from the source:
        // there the chroma ratio may fall to zero.
        const bool grey_target = c > 0 && dst_std[1] < 2.0 && dst_std[2] < 2.0;
        const double ratio = std::clamp(dst_std[c] / std::max(src_std[c], 1e-3),
                                        grey_target ? 0.0 : 0.8, 1.25);
        channels[c].convertTo(channels[c], CV_32F, ratio, dst_mean[c] - src_mean[c] * ratio);
    }
    cv::merge(channels, src_lab);

    // 2. Local light: add the low-frequency difference between target and toned source skin.
    cv::Mat weights;
    skin.convertTo(weights, CV_32F, 1.0 / 255);
    const cv::Mat difference = masked_low_pass(dst_lab, weights, scale) -
                               masked_low_pass(src_lab, weights, scale);
    src_lab += difference;

    cv::cvtColor(src_lab, src_lab, cv::COLOR_Lab2BGR);
    cv::Mat out;
    src_lab.convertTo(out, CV_8U, 255);
    return out;
}

}  // namespace facefuse::fusion
