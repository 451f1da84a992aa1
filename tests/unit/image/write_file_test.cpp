#include <gtest/gtest.h>

#include "image/decode.hpp"
#include "image/encode.hpp"
#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(WriteFile, WritesReplacesAndLeavesNoTemporaryFiles) {
    TempDir dir;
    const fs::path out = dir / "out.bin";
    ASSERT_TRUE(write_file(out, Bytes(5000, 1)).ok());
    ASSERT_TRUE(write_file(out, {9, 8, 7}).ok());  // replaces, never appends
    EXPECT_EQ(*read_file(out, 100), (Bytes{9, 8, 7}));
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(WriteFile, EmptyOutputIsAnEmptyFile) {
    TempDir dir;
    ASSERT_TRUE(write_file(dir / "empty", {}).ok());
    EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
}

TEST(WriteFile, RelativePathWritesIntoTheCurrentDirectory) {
    TempDir dir;
    const fs::path old_cwd = fs::current_path();
    fs::current_path(dir.path());
    const Status s = write_file("relative.bin", {1, 2});
    fs::current_path(old_cwd);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(fs::exists(dir / "relative.bin"));
}

TEST(WriteFile, MissingDirectoryIsAnOutputErrorSayingSo) {
    TempDir dir;
    const fs::path out = dir / "no/such/dir/out.png";
    const Status s = write_file(out, {1, 2, 3});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
    EXPECT_TRUE(contains(s.error().message, out.string())) << s.error().message;
    EXPECT_TRUE(contains(s.error().message, "does not exist")) << s.error().message;
}

TEST(WriteFile, ParentThatIsAFileIsAnOutputError) {
    TempDir dir;
    write_bytes(dir / "file", {1});
    const Status s = write_file(dir / "file" / "out.png", {1});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
}

TEST(WriteFile, FailedRenameRemovesTheTemporaryAndKeepsTheTarget) {
    TempDir dir;
    fs::create_directory(dir / "target");
    write_bytes(dir / "target" / "inside", {1});
    const Status s = write_file(dir / "target", {1, 2, 3});  // cannot replace a directory
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
    EXPECT_TRUE(contains(s.error().message, (dir / "target").string())) << s.error().message;
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"target"});
    EXPECT_TRUE(fs::exists(dir / "target" / "inside"));
}

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
