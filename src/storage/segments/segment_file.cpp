#include "storage/segments/segment_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace facefuse::storage {
namespace {

Error io_failure(const std::filesystem::path& path, std::string_view what, int err) {
    return make_error(ErrorCode::kUnavailable,
                      "blob store " + path.string() + ": cannot " + std::string(what) + ": " +
                          std::strerror(err) +
                          ". Check that the data directory is writable and the disk has space.");
}

Result<std::shared_ptr<SegmentFile>> open_with(const std::filesystem::path& path, int flags,
                                               std::string_view what) {
    const int fd = ::open(path.c_str(), flags | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return io_failure(path, what, errno);
    return std::make_shared<SegmentFile>(SegmentFile::Token{}, fd, path);
}

}  // namespace

Result<std::shared_ptr<SegmentFile>> SegmentFile::create(const std::filesystem::path& path) {
    return open_with(path, O_CREAT | O_EXCL, "create it");
}

Result<std::shared_ptr<SegmentFile>> SegmentFile::open(const std::filesystem::path& path) {
    return open_with(path, 0, "open it");
}

SegmentFile::SegmentFile(Token, int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)) {}

SegmentFile::~SegmentFile() {
    ::close(fd_);
}

Status SegmentFile::write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                   static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_failure(path_, "write", n < 0 ? errno : ENOSPC);
        done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
}

Status SegmentFile::read_at(std::uint64_t offset, std::span<std::uint8_t> bytes) const {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done,
                                  static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_failure(path_, "read", errno);
        if (n == 0)
            return make_error(ErrorCode::kInternal,
                              "blob store " + path_.string() + ": the file ends before the image " +
                                  "it should hold; the data directory is damaged.");
        done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
}

void SegmentFile::release(std::uint64_t offset, std::uint64_t length) {
    if (length == 0) return;
    // Best effort by design: the bytes are already unreachable (their index row is gone); a
    // file system that cannot punch holes only keeps the space until the segment is deleted.
    (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                      static_cast<off_t>(length));
}

Status SegmentFile::sync() {
    if (::fdatasync(fd_) != 0) return io_failure(path_, "sync", errno);
    return Status::Ok();
}

}  // namespace facefuse::storage
