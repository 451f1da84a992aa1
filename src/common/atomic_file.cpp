// write_file_atomically uses POSIX calls rather than std::ofstream: O_EXCL guarantees the temporary name is
// ours alone, errno is reliable at every step (a stream's failbit says nothing about why), and
// fsync makes the data durable before the rename publishes it.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <system_error>

#include "common/atomic_file.hpp"

namespace facefuse {
namespace {

Error output_error(const std::filesystem::path& path, const std::string& why) {
    return make_error(ErrorCode::kOutputError, "cannot write '" + path.string() + "': " + why);
}

std::string os_reason(int err) {
    return std::generic_category().message(err);
}

// Unique per call within the process (counter) and across processes (pid + randomness).
std::string temp_path_for(const std::filesystem::path& path) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t noise =
        counter.fetch_add(1) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    try {
        std::random_device device;
        noise ^= (std::uint64_t{device()} << 32) | device();
    } catch (...) {  // no entropy source: the counter, clock and O_EXCL still keep us safe
    }
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(noise));
    return path.string() + ".tmp-" + std::to_string(::getpid()) + "-" + suffix;
}

bool write_all(int fd, std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
    namespace fs = std::filesystem;
    const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    std::error_code ec;
    const fs::file_status parent_status = fs::status(parent, ec);
    if (parent_status.type() == fs::file_type::not_found) {
        return output_error(path, "the directory '" + parent.string() + "' does not exist");
    }
    if (ec) return output_error(path, "cannot inspect '" + parent.string() + "': " + ec.message());
    if (!fs::is_directory(parent_status)) {
        return output_error(path, "the path '" + parent.string() + "' is not a directory");
    }

    std::string temp;
    int fd = -1;
    for (int attempt = 0; attempt < 4 && fd < 0; ++attempt) {
        temp = temp_path_for(path);
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return output_error(path, os_reason(errno));

    bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
    int err = ok ? 0 : errno;
    if (::close(fd) != 0 && ok) {  // NFS and friends report write errors only at close
        ok = false;
        err = errno;
    }
    if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        ::unlink(temp.c_str());  // best effort; the error we report is the first one
        return output_error(path, os_reason(err));
    }
    return Status::Ok();
}

}  // namespace facefuse
