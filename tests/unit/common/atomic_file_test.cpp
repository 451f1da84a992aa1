#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "support/test_support.hpp"

namespace facefuse {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using test::names_in;
using test::TempDir;

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

Bytes read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(WriteFileAtomically, WritesReplacesAndLeavesNoTemporaryFiles) {
    TempDir dir;
    const fs::path out = dir / "out.bin";
    ASSERT_TRUE(write_file_atomically(out, Bytes(5000, 1)).ok());
    ASSERT_TRUE(write_file_atomically(out, Bytes{9, 8, 7}).ok());  // replaces, never appends
    EXPECT_EQ(read_all(out), (Bytes{9, 8, 7}));
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(WriteFileAtomically, EmptyOutputIsAnEmptyFile) {
    TempDir dir;
    ASSERT_TRUE(write_file_atomically(dir / "empty", Bytes{}).ok());
    EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
}

TEST(WriteFileAtomically, RelativePathWritesIntoTheCurrentDirectory) {
    TempDir dir;
    const fs::path old_cwd = fs::current_path();
    fs::current_path(dir.path());
    const Status s = write_file_atomically("relative.bin", Bytes{1, 2});
    fs::current_path(old_cwd);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(fs::exists(dir / "relative.bin"));
}

TEST(WriteFileAtomically, MissingDirectoryIsAnOutputErrorSayingSo) {
    TempDir dir;
    const fs::path out = dir / "no/such/dir/out.png";
    const Status s = write_file_atomically(out, Bytes{1, 2, 3});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
    EXPECT_TRUE(contains(s.error().message, out.string())) << s.error().message;
    EXPECT_TRUE(contains(s.error().message, "does not exist")) << s.error().message;
}

TEST(WriteFileAtomically, ParentThatIsAFileIsAnOutputError) {
    TempDir dir;
    write_bytes(dir / "file", {1});
    const Status s = write_file_atomically(dir / "file" / "out.png", Bytes{1});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
}

TEST(WriteFileAtomically, FailedRenameRemovesTheTemporaryAndKeepsTheTarget) {
    TempDir dir;
    fs::create_directory(dir / "target");
    write_bytes(dir / "target" / "inside", {1});
    const Status s = write_file_atomically(dir / "target", Bytes{1, 2, 3});  // cannot replace a directory
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kOutputError);
    EXPECT_TRUE(contains(s.error().message, (dir / "target").string())) << s.error().message;
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"target"});
    EXPECT_TRUE(fs::exists(dir / "target" / "inside"));
}

}  // namespace
}  // namespace facefuse
