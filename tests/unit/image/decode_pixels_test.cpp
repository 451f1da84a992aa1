// What decode_image returns when it succeeds: always 8-bit BGR, upright, pixel-exact for
// lossless inputs.
#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;

cv::Mat decode_ok(const Bytes& bytes) {
    Result<cv::Mat> r = decode_image(bytes, {}, "source");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : cv::Mat();
}

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(DecodePixels, LosslessFormatsAreExact) {
    const cv::Mat image = pattern(37, 23);
    EXPECT_TRUE(same_pixels(decode_ok(encode(image, ".png")), image));
    EXPECT_TRUE(same_pixels(decode_ok(encode(image, ".bmp")), image));
    EXPECT_TRUE(same_pixels(decode_ok(bmp_top_down(encode(image, ".bmp"))), image));
    EXPECT_TRUE(same_pixels(decode_ok(bmp_core(image)), image));
    EXPECT_TRUE(
        same_pixels(decode_ok(encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101})), image));
}

TEST(DecodePixels, ExtendedWebpDecodes) {
    const cv::Mat image = pattern(37, 23);
    const Bytes lossless = encode(image, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    EXPECT_TRUE(same_pixels(decode_ok(webp_with_vp8x(lossless, 37, 23, 0)), image));
}

TEST(DecodePixels, GreyBecomesThreeEqualChannels) {
    const cv::Mat grey = grey_pattern(20, 10);
    cv::Mat expected;
    cv::merge(std::vector<cv::Mat>{grey, grey, grey}, expected);
    for (const std::string ext : {".png", ".bmp"}) {  // BMP: 8-bit with a grey palette
        const cv::Mat out = decode_ok(encode(grey, ext));
        ASSERT_EQ(out.type(), CV_8UC3) << ext;
        EXPECT_TRUE(same_pixels(out, expected)) << ext;
    }
}

TEST(DecodePixels, AlphaIsDroppedKeepingColour) {
    cv::Mat bgra(10, 20, CV_8UC4, cv::Scalar(10, 20, 30, 128));
    const cv::Mat out = decode_ok(encode(bgra, ".png"));
    ASSERT_EQ(out.type(), CV_8UC3);
    EXPECT_TRUE(same_pixels(out, cv::Mat(10, 20, CV_8UC3, cv::Scalar(10, 20, 30))));
}

TEST(DecodePixels, SixteenBitBecomesEightBit) {
    cv::Mat deep(10, 20, CV_16UC3, cv::Scalar(256 * 200, 256 * 100, 256 * 50));
    const cv::Mat out = decode_ok(encode(deep, ".png"));
    ASSERT_EQ(out.type(), CV_8UC3);
    EXPECT_TRUE(same_pixels(out, cv::Mat(10, 20, CV_8UC3, cv::Scalar(200, 100, 50))));
}

// An APP1 segment holding a big-endian TIFF with one IFD0 entry: Orientation (0x0112) = value.
Bytes exif_orientation_segment(std::uint8_t value) {
    // clang-format off
    return {
        0xFF, 0xE1, 0x00, 0x22,                          // APP1, length 34 (itself + the rest)
        'E', 'x', 'i', 'f', 0x00, 0x00,
        'M', 'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,    // big-endian TIFF, IFD0 at offset 8
        0x00, 0x01,                                      // one entry:
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,  // Orientation, SHORT, count 1
        0x00, value, 0x00, 0x00,                         // the value, padded to 4 bytes
        0x00, 0x00, 0x00, 0x00,                          // no next IFD
    };
    // clang-format on
}

// A camera held upright stores a landscape sensor image plus "rotate 90 clockwise to view".
// Users expect the face swap to happen on the upright picture.
TEST(DecodePixels, ExifOrientationIsApplied) {
    cv::Mat sensor(32, 64, CV_8UC3, cv::Scalar(255, 255, 255));
    sensor(cv::Rect(0, 0, 32, 16)).setTo(cv::Scalar(255, 0, 0));  // blue top-left quadrant
    Bytes jpeg = encode(sensor, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
    const Bytes app1 = exif_orientation_segment(6);
    jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());  // right after SOI

    // The header still describes the stored (landscape) image...
    const Result<cv::Size> header = peek_dimensions(jpeg, ImageFormat::kJpeg);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(*header, cv::Size(64, 32));

    // ...but the decoded image is portrait, and the top-left quadrant moved to the top right.
    const cv::Mat upright = decode_ok(jpeg);
    ASSERT_EQ(upright.size(), cv::Size(32, 64));
    const cv::Vec3b top_right = upright.at<cv::Vec3b>(4, 28);
    const cv::Vec3b top_left = upright.at<cv::Vec3b>(4, 4);
    EXPECT_GT(top_right[0], 200);
    EXPECT_LT(top_right[2], 60);  // blue
    EXPECT_GT(top_left[2], 200);  // white
}

TEST(DecodePixels, ExifOrientationOneChangesNothing) {
    Bytes jpeg = encode(pattern(64, 32), ".jpg");
    const Bytes app1 = exif_orientation_segment(1);
    jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
    EXPECT_EQ(decode_ok(jpeg).size(), cv::Size(64, 32));
}

}  // namespace
}  // namespace facefuse::image
