#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>
#include <system_error>

#include "image/decode.hpp"

namespace facefuse::image {
namespace {

Error not_readable(const std::filesystem::path& path, const std::string& why) {
    return make_error(ErrorCode::kFileNotFound,
                      "cannot read '" + path.string() + "': " + why + "; check the path");
}

Error too_large(const std::filesystem::path& path, std::uintmax_t size, std::size_t max_bytes,
                bool at_least) {
    return make_error(ErrorCode::kImageTooLarge,
                      "the file '" + path.string() + "' is " + (at_least ? "over " : "") +
                          std::to_string(size) + " bytes; the limit is " +
                          std::to_string(max_bytes) + " bytes; send a smaller file");
}

}  // namespace

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::size_t max_bytes) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) return not_readable(path, "no such file");
    if (ec) return not_readable(path, ec.message());
    if (fs::is_directory(status)) return not_readable(path, "it is a directory, not a file");

    // Regular files are refused by size before a byte is read. Pipes and /proc files have no
    // reliable size, so the read loop below enforces the limit for them as it goes.
    std::uintmax_t known_size = 0;
    if (fs::is_regular_file(status)) {
        known_size = fs::file_size(path, ec);
        if (ec) known_size = 0;
        if (known_size > max_bytes) return too_large(path, known_size, max_bytes, false);
    }

    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return not_readable(path, errno != 0 ? std::generic_category().message(errno)
                                             : std::string("cannot open it"));
    }

    std::vector<std::uint8_t> bytes;
    try {
        bytes.reserve(static_cast<std::size_t>(known_size));
        constexpr std::size_t kChunk = std::size_t{1} << 16;
        // Never hold more than max_bytes + 1: one byte over is enough to know it is too large.
        const std::size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
        while (true) {
            const std::size_t old = bytes.size();
            const std::size_t want = std::min(kChunk, cap - old);
            bytes.resize(old + want);
            in.read(reinterpret_cast<char*>(bytes.data() + old),
                    static_cast<std::streamsize>(want));
            const auto got = static_cast<std::size_t>(in.gcount());
            bytes.resize(old + got);
            if (bytes.size() > max_bytes) return too_large(path, max_bytes, max_bytes, true);
            if (got < want || want == 0) break;
        }
    } catch (const std::exception& e) {  // bad_alloc, or a stream configured to throw
        return not_readable(path, e.what());
    }
    if (in.bad()) return not_readable(path, "a read error occurred");
    return bytes;
}

}  // namespace facefuse::image
