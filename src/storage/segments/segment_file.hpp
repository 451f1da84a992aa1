#pragma once
// SegmentFile: one open segment of the segment blob store -- a plain file that images are
// appended to, read from at an offset, and whose removed ranges are given back to the file
// system. Owns the descriptor (closed with the object). Every call is one POSIX call (or a loop
// of them for short reads and writes), safe from many threads at once on disjoint ranges.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "common/result.hpp"

namespace facefuse::storage {

class SegmentFile {
  public:
    // Creates the file (it must not exist yet) or opens an existing one for reading and writing.
    static Result<std::shared_ptr<SegmentFile>> create(const std::filesystem::path& path);
    static Result<std::shared_ptr<SegmentFile>> open(const std::filesystem::path& path);
    ~SegmentFile();
    SegmentFile(const SegmentFile&) = delete;
    SegmentFile& operator=(const SegmentFile&) = delete;

    // kUnavailable (disk full, I/O error: may pass) with the path and the reason.
    Status write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes);
    // Exactly bytes.size() bytes from `offset`; kInternal if the file is shorter.
    Status read_at(std::uint64_t offset, std::span<std::uint8_t> bytes) const;
    // Frees the disk blocks wholly inside the range (the file keeps its size; those bytes read
    // as zeros). A file system without hole punching keeps the blocks: not an error.
    void release(std::uint64_t offset, std::uint64_t length);
    // Pushes written bytes to the disk (fdatasync).
    Status sync();

    const std::filesystem::path& path() const { return path_; }

    struct Token {};  // only create()/open() construct
    SegmentFile(Token, int fd, std::filesystem::path path);

  private:
    int fd_;
    std::filesystem::path path_;
};

}  // namespace facefuse::storage
