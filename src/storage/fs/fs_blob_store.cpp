#include "storage/fs/fs_blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace facefuse::storage {
namespace {

namespace fs = std::filesystem;

// Disk full, quota, I/O errors: the disk may recover (space freed, a volume remounted), so the
// caller may retry later. Everything else (permissions, read-only file system, bad paths) needs
// an operator and is reported as internal.
ErrorCode code_for_errno(int err) {
    switch (err) {
        case ENOSPC:
        case EDQUOT:
        case EIO:
        case EAGAIN:
        case EINTR:
        case ENOMEM:
            return ErrorCode::kUnavailable;
        default:
            return ErrorCode::kInternal;
    }
}

Error io_error(int err, std::string_view what, const fs::path& path) {
    return make_error(code_for_errno(err), "blob store: cannot " + std::string(what) + " " +
                                               path.string() + ": " + std::strerror(err) +
                                               ". Check that the storage directory is writable "
                                               "and the disk has space.");
}

// Closes the descriptor on every path out of a function.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_;
};

bool write_all(int fd, std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

FsBlobStore::FsBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

Result<fs::path> FsBlobStore::path_for(const std::string& key) const {
    auto reject = [&](std::string_view why) {
        return make_error(ErrorCode::kInternal,
                          "blob store: invalid key \"" + key + "\" (" + std::string(why) +
                              "); keys are relative paths built with blob_key().");
    };
    if (key.empty()) return reject("empty");
    if (key.front() == '/') return reject("absolute path");
    if (key.find('\0') != std::string::npos) return reject("contains a NUL byte");
    std::size_t start = 0;
    while (start <= key.size()) {
        std::size_t end = key.find('/', start);
        if (end == std::string::npos) end = key.size();
        const std::string_view segment(key.data() + start, end - start);
        if (segment.empty()) return reject("empty path segment");
        if (segment == "." || segment == "..") return reject("\".\" or \"..\" segment");
        start = end + 1;
    }
    return root_ / key;
}

Status FsBlobStore::put(const std::string& key, std::span<const std::uint8_t> bytes,
                        std::string_view /*content_type: files carry no metadata*/) {
    auto path = path_for(key);
    if (!path) return path.error();
    const fs::path dir = path->parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return io_error(ec.value(), "create directory", dir);

    // The temporary file sits beside the target: rename() is only atomic within one file system.
    std::string tmp = (dir / ("." + path->filename().string() + ".tmp-XXXXXX")).string();
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0) return io_error(errno, "create a temporary file in", dir);
    auto fail = [&](std::string_view what) {
        const int err = errno;
        fd.reset();
        ::unlink(tmp.c_str());
        return io_error(err, what, *path);
    };
    if (!write_all(fd.get(), bytes)) return fail("write");
    // Data on disk before the rename makes it visible: otherwise a crash could leave the new
    // name pointing at an empty or partial file.
    if (::fsync(fd.get()) != 0) return fail("fsync");
    if (::close(fd.release()) != 0) return fail("close");
    if (::rename(tmp.c_str(), path->c_str()) != 0) return fail("rename into");
    // Persist the directory entry too; a failure here does not undo the (visible) put.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
    return Status::Ok();
}

Result<std::vector<std::uint8_t>> FsBlobStore::get(const std::string& key) {
    auto path = path_for(key);
    if (!path) return path.error();
    auto not_found = [&] {
        return make_error(ErrorCode::kNotFound, "blob store: no object at key \"" + key + "\".");
    };
    Fd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return not_found();
        return io_error(errno, "open", *path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error(errno, "stat", *path);
    if (!S_ISREG(st.st_mode)) return not_found();  // a directory is not an object

    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    for (;;) {
        if (done == bytes.size()) bytes.resize(bytes.size() + 65536);  // grew since fstat
        const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(errno, "read", *path);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

Status FsBlobStore::remove(const std::string& key) {
    auto path = path_for(key);
    if (!path) return path.error();
    if (::unlink(path->c_str()) == 0) return Status::Ok();
    // Missing (or a directory, which is not an object): nothing to remove.
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
    return io_error(errno, "remove", *path);
}

Result<bool> FsBlobStore::exists(const std::string& key) {
    auto path = path_for(key);
    if (!path) return path.error();
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return false;
        return io_error(errno, "stat", *path);
    }
    return S_ISREG(st.st_mode);
}

}  // namespace facefuse::storage
