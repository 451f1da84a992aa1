#pragma once
// How the process's allocator treats the large, short-lived buffers an image pipeline makes.
//
// Why: glibc hands every block over its mmap threshold to the kernel as its own mapping, and
// gives freed memory at the top of a heap back once more than the trim threshold is free. A swap
// of a face that fills a 1080p frame allocates and frees tens of MB of float images per stage
// (colour match, warp maps), so each swap faulted all of it in again, page by page. Measured with
// `facefuse bench` on a 2-core VM (where a page fault is dear): the close-up 1080p swap took
// 154-158 ms of engine time, 80 of them in the colour stage; with the memory kept, 53-55 ms.
// Small images (below the thresholds) do not change. Either threshold alone gained nothing.
//
// The cost: memory freed after a peak stays with the process (RSS holds at its high-water mark
// instead of falling back); the peak itself is unchanged. Pods are sized for the peak anyway.
namespace facefuse {

// Blocks up to kKeptBlockBytes come from the heap (not their own mapping), and up to
// kKeptFreeBytes of freed memory stays at a heap's top. Call once, first thing in main(),
// before threads start. A no-op where the allocator is not glibc's (sanitizer builds).
inline constexpr long kKeptBlockBytes = 32L << 20;  // glibc's ceiling for M_MMAP_THRESHOLD
inline constexpr long kKeptFreeBytes = 512L << 20;
void keep_image_memory();

}  // namespace facefuse
