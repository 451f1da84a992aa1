#include "image/format.hpp"

#include <gtest/gtest.h>

#include "test_images.hpp"

namespace facefuse::image {
namespace {

using testing::Bytes;
using testing::bytes_of;
using testing::encode;
using testing::pattern;
using namespace std::string_view_literals;

TEST(SniffFormat, RecognisesEachFormatFromEncoderOutput) {
    const cv::Mat image = pattern(8, 6);
    EXPECT_EQ(sniff_format(encode(image, ".jpg")), ImageFormat::kJpeg);
    EXPECT_EQ(sniff_format(encode(image, ".png")), ImageFormat::kPng);
    EXPECT_EQ(sniff_format(encode(image, ".webp")), ImageFormat::kWebp);
    EXPECT_EQ(sniff_format(encode(image, ".bmp")), ImageFormat::kBmp);
}

TEST(SniffFormat, RejectsFormatsWeDoNotAccept) {
    EXPECT_EQ(sniff_format(bytes_of("hello, this is a text file\n")), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("GIF89a\x01\x00\x01\x00"sv)), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("II*\0\x08\0\0\0"sv)), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("RIFF\x10\0\0\0WAVEfmt "sv)), std::nullopt);  // audio, not WebP
}

TEST(SniffFormat, NeverReadsPastShortInputs) {
    EXPECT_EQ(sniff_format({}), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("\xFF\xD8")), std::nullopt);         // JPEG magic is 3 bytes
    EXPECT_EQ(sniff_format(bytes_of("\x89PNG\r\n\x1A")), std::nullopt);  // one byte short
    EXPECT_EQ(sniff_format(bytes_of("RIFF\0\0\0\0WEB"sv)), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("B")), std::nullopt);
    EXPECT_EQ(sniff_format(bytes_of("BM")), ImageFormat::kBmp);  // two bytes is the whole magic
}

TEST(FormatName, IsStableLowerCase) {
    EXPECT_EQ(format_name(ImageFormat::kJpeg), "jpeg");
    EXPECT_EQ(format_name(ImageFormat::kPng), "png");
    EXPECT_EQ(format_name(ImageFormat::kWebp), "webp");
    EXPECT_EQ(format_name(ImageFormat::kBmp), "bmp");
}

TEST(FormatFromExtension, AcceptsKnownExtensionsInAnyCase) {
    EXPECT_EQ(*format_from_extension("out.png"), ImageFormat::kPng);
    EXPECT_EQ(*format_from_extension("dir.d/out.JPG"), ImageFormat::kJpeg);
    EXPECT_EQ(*format_from_extension("out.Jpeg"), ImageFormat::kJpeg);
    EXPECT_EQ(*format_from_extension("/tmp/out.webp"), ImageFormat::kWebp);
    EXPECT_EQ(*format_from_extension("out.BMP"), ImageFormat::kBmp);
}

TEST(FormatFromExtension, UnknownExtensionIsAUsageErrorNamingTheChoices) {
    const Result<ImageFormat> gif = format_from_extension("x.gif");
    ASSERT_FALSE(gif.ok());
    EXPECT_EQ(gif.error().code, ErrorCode::kUsage);
    EXPECT_EQ(gif.error().message,
              "cannot tell the output format from 'x.gif': use .png, .jpg, .jpeg, .webp or .bmp");

    const Result<ImageFormat> none = format_from_extension("output");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kUsage);
    EXPECT_NE(none.error().message.find("'output'"), std::string::npos);

    EXPECT_FALSE(format_from_extension("png").ok());  // a name, not an extension
}

}  // namespace
}  // namespace facefuse::image
