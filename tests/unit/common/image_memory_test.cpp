#include "common/image_memory.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FACEFUSE_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FACEFUSE_TEST_SANITIZED 1
#endif

namespace facefuse {
namespace {

// The compiler may drop a malloc/free pair it can see through; this makes the block escape.
[[maybe_unused]] void keep(void* p) {  // unused when sanitized (the test skips)
    asm volatile("" : : "r"(p) : "memory");
}

// A block the size of a 1080p float image plane: from the heap, not a mapping of its own, and
// still held by the process after it is freed (so the next swap does not fault it in again).
TEST(ImageMemory, LargeBlocksComeFromTheHeapAndStayAfterTheyAreFreed) {
#if defined(FACEFUSE_TEST_SANITIZED)
    GTEST_SKIP()
        << "SKIP: the sanitizer's allocator replaces glibc's, which this policy configures";
#else
    keep_image_memory();
    constexpr std::size_t kBlock = 20u << 20;
    static_assert(kBlock < static_cast<std::size_t>(kKeptBlockBytes));
    const struct mallinfo2 before = mallinfo2();
    void* block = std::malloc(kBlock);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, kBlock);
    keep(block);
    const struct mallinfo2 holding = mallinfo2();
    EXPECT_EQ(holding.hblkhd, before.hblkhd) << "the block got a mapping of its own (mmap)";
    std::free(block);
    const struct mallinfo2 after = mallinfo2();
    EXPECT_GE(after.fordblks, kBlock) << "the freed block went back to the kernel (trimmed)";
#endif
}

}  // namespace
}  // namespace facefuse
