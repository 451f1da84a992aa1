// Reads a secret file with bounded size and errors that never carry the secret itself.
#include "http/auth/secret_file.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace facefuse::http::auth {
namespace {

Error not_readable(const std::string& path, std::string_view what, std::string_view why) {
    return make_error(ErrorCode::kFileNotFound,
                      std::string(what) + " " + path + " " + std::string(why) +
                          ": give the path of a readable file that holds only the secret.");
}

}  // namespace

Result<std::string> read_secret_file(const std::string& path, std::string_view what) {
    try {
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (ec || !std::filesystem::exists(status)) return not_readable(path, what, "does not exist");
        // A FIFO or device could block or never end; only regular files hold secrets.
        if (!std::filesystem::is_regular_file(status)) return not_readable(path, what, "is not a regular file");

        std::ifstream in(path, std::ios::binary);
        if (!in) return not_readable(path, what, "cannot be opened");
        std::string bytes(kMaxSecretFileBytes + 1, '\0');
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (in.bad()) return not_readable(path, what, "cannot be read");
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        if (bytes.size() > kMaxSecretFileBytes)
            return make_error(ErrorCode::kUsage, std::string(what) + " " + path + " is over " +
                                                     std::to_string(kMaxSecretFileBytes / 1024) +
                                                     " KiB: it should hold only the secret or key.");

        if (bytes.ends_with("\r\n")) bytes.resize(bytes.size() - 2);
        else if (bytes.ends_with('\n')) bytes.pop_back();
        if (bytes.empty())
            return make_error(ErrorCode::kUsage, std::string(what) + " " + path + " is empty: write the secret into it.");
        return bytes;
    } catch (const std::exception&) {  // bad_alloc, or a filesystem error the ec overloads missed
        return make_error(ErrorCode::kInternal, std::string(what) + " " + path + " could not be read.");
    }
}

}  // namespace facefuse::http::auth
