#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(ReadFile, ReadsAllBytes) {
    TempDir dir;
    Bytes data(200'000);  // several read chunks
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31);
    write_bytes(dir / "a.bin", data);
    const Result<Bytes> r = read_file(dir / "a.bin", data.size());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, data);
}

TEST(ReadFile, MissingFileNamesThePathAndReason) {
    TempDir dir;
    const auto path = dir / "nope.jpg";
    const Result<Bytes> r = read_file(path, 1000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kFileNotFound);
    EXPECT_TRUE(contains(r.error().message, path.string())) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "no such file")) << r.error().message;
}

TEST(ReadFile, DirectoryIsNotAFile) {
    TempDir dir;
    const Result<Bytes> r = read_file(dir.path(), 1000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kFileNotFound);
    EXPECT_TRUE(contains(r.error().message, "directory")) << r.error().message;
}

TEST(ReadFile, TooLargeIsRefusedBeforeReading) {
    TempDir dir;
    write_bytes(dir / "big.bin", Bytes(1001, 7));
    const Result<Bytes> r = read_file(dir / "big.bin", 1000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kImageTooLarge);
    EXPECT_TRUE(contains(r.error().message, "1001 bytes")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "1000 bytes")) << r.error().message;

    EXPECT_TRUE(read_file(dir / "big.bin", 1001).ok());  // the limit itself is allowed
}

TEST(ReadFile, FilesWithoutASizeAreStillBounded) {
    // /proc files report size 0, so only the read loop's own bound protects us.
    const Result<Bytes> r = read_file("/proc/self/maps", 16);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kImageTooLarge);
}

TEST(LoadImage, UsesThePathAsTheNameInMessages) {
    TempDir dir;
    write_bytes(dir / "notes.jpg", bytes_of("these are my meeting notes, not a photo\n"));
    const Result<cv::Mat> text = load_image(dir / "notes.jpg", {});
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code, ErrorCode::kUnsupportedFormat);  // the name does not matter
    EXPECT_TRUE(contains(text.error().message, (dir / "notes.jpg").string()));
    EXPECT_TRUE(contains(text.error().message, "look like text")) << text.error().message;

    write_bytes(dir / "empty.png", {});
    const Result<cv::Mat> empty = load_image(dir / "empty.png", {});
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, ErrorCode::kEmptyInput);
}

TEST(LoadImage, LoadsARealImageAndAppliesTheByteLimit) {
    TempDir dir;
    const Bytes png = encode(pattern(30, 20), ".png");
    write_bytes(dir / "ok.png", png);
    const Result<cv::Mat> ok = load_image(dir / "ok.png", {});
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->size(), cv::Size(30, 20));

    DecodeLimits small;
    small.max_bytes = png.size() - 1;
    const Result<cv::Mat> big = load_image(dir / "ok.png", small);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, ErrorCode::kImageTooLarge);
}

}  // namespace
}  // namespace facefuse::image
