#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "image/encode.hpp"
#include "support/test_support.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;
using test::names_in;
namespace fs = std::filesystem;

TEST(SaveImage, PicksTheFormatFromTheExtension) {
    TempDir dir;
    const cv::Mat image = pattern(20, 10);
    for (const auto& [name, format] :
         std::vector<std::pair<std::string, ImageFormat>>{{"a.png", ImageFormat::kPng},
                                                          {"b.JPG", ImageFormat::kJpeg},
                                                          {"c.webp", ImageFormat::kWebp},
                                                          {"d.bmp", ImageFormat::kBmp}}) {
        ASSERT_TRUE(save_image(image, dir / name, 90).ok()) << name;
        const Result<Bytes> bytes = read_file(dir / name, 1 << 20);
        ASSERT_TRUE(bytes.ok());
        EXPECT_EQ(sniff_format(*bytes), format) << name;
    }
}

TEST(SaveImage, UnknownExtensionWritesNothing) {
    TempDir dir;
    const Status s = save_image(pattern(4, 4), dir / "x.gif", 90);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kUsage);
    EXPECT_TRUE(names_in(dir.path()).empty());
}

}  // namespace
}  // namespace facefuse::image
