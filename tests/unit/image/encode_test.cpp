#include "image/encode.hpp"

#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;

cv::Mat round_trip(const cv::Mat& image, ImageFormat format, int quality = 90) {
    const Result<Bytes> bytes = encode_image(image, {format, quality});
    EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().message);
    if (!bytes.ok()) return {};
    EXPECT_EQ(sniff_format(*bytes), format);
    Result<cv::Mat> back = decode_image(*bytes, {}, "round trip");
    EXPECT_TRUE(back.ok()) << (back.ok() ? "" : back.error().message);
    return back.ok() ? *back : cv::Mat();
}

TEST(EncodeImage, LosslessFormatsRoundTripExactly) {
    const cv::Mat image = pattern(41, 27);
    for (ImageFormat f : {ImageFormat::kPng, ImageFormat::kBmp}) {
        const cv::Mat back = round_trip(image, f);
        ASSERT_EQ(back.size(), image.size()) << format_name(f);
        EXPECT_EQ(cv::norm(back, image, cv::NORM_INF), 0) << format_name(f);
    }
}

TEST(EncodeImage, LossyFormatsRoundTripClosely) {
    // Smooth content, as photos are; lossy codecs are poor on the noise-like test pattern.
    cv::Mat image(48, 64, CV_8UC3);
    for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
            image.at<cv::Vec3b>(y, x) =
                cv::Vec3b(static_cast<std::uint8_t>(x * 4), static_cast<std::uint8_t>(y * 5), 128);
        }
    }
    for (ImageFormat f : {ImageFormat::kJpeg, ImageFormat::kWebp}) {
        const cv::Mat back = round_trip(image, f, 95);
        ASSERT_EQ(back.size(), image.size()) << format_name(f);
        EXPECT_GT(cv::PSNR(back, image), 35.0) << format_name(f);
    }
}

TEST(EncodeImage, QualityChangesLossyOutput) {
    const cv::Mat image = pattern(64, 64);
    const Bytes low = *encode_image(image, {ImageFormat::kJpeg, 10});
    const Bytes high = *encode_image(image, {ImageFormat::kJpeg, 95});
    EXPECT_LT(low.size(), high.size());
}

TEST(EncodeImage, WebpQualityAbove100StaysLossy) {
    // OpenCV treats WebP quality > 100 as "lossless"; we clamp, so 1000 means 100.
    const cv::Mat image = pattern(32, 32);
    EXPECT_EQ(*encode_image(image, {ImageFormat::kWebp, 1000}),
              *encode_image(image, {ImageFormat::kWebp, 100}));
    EXPECT_EQ(*encode_image(image, {ImageFormat::kWebp, -5}),
              *encode_image(image, {ImageFormat::kWebp, 1}));
}

TEST(EncodeImage, PngIgnoresQualityAndUsesOpenCvsFastSettings) {
    // OpenCV's default PNG settings beat every explicit compression level on speed (see
    // encode.cpp); passing IMWRITE_PNG_COMPRESSION at all would switch them off.
    const cv::Mat image = pattern(64, 64);
    const Bytes fast = encode(image, ".png");
    for (int quality : {0, 50, 90, 100}) {
        EXPECT_EQ(*encode_image(image, {ImageFormat::kPng, quality}), fast) << quality;
    }
    EXPECT_NE(fast, encode(image, ".png", {cv::IMWRITE_PNG_COMPRESSION, 1}));
}

TEST(EncodeImage, RefusesWhatIsNotEightBitBgr) {
    const Result<Bytes> empty = encode_image(cv::Mat(), {});
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, ErrorCode::kInternal);

    const Result<Bytes> floats = encode_image(cv::Mat(4, 4, CV_32FC3), {});
    ASSERT_FALSE(floats.ok());
    EXPECT_EQ(floats.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace facefuse::image
