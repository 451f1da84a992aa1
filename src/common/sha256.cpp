#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>

namespace facefuse {
namespace {

std::string to_hex(const unsigned char* digest, unsigned int length) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(kHex[digest[i] >> 4]);
        hex.push_back(kHex[digest[i] & 0xF]);
    }
    return hex;
}

std::string digest_hex(const void* data, std::size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
    return to_hex(digest, length);
}

}  // namespace

std::string sha256_hex(std::span<const std::uint8_t> bytes) { return digest_hex(bytes.data(), bytes.size()); }

std::string sha256_hex(std::string_view text) { return digest_hex(text.data(), text.size()); }

Result<std::string> sha256_file_hex(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::kFileNotFound, "cannot open " + path.string());
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
        return make_error(ErrorCode::kInternal, "OpenSSL could not start a SHA-256 digest");
    std::array<char, 1 << 16> chunk;
    while (in) {
        in.read(chunk.data(), chunk.size());
        if (in.gcount() > 0) EVP_DigestUpdate(context.get(), chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) return make_error(ErrorCode::kInternal, "read error in " + path.string());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), digest, &length);
    return to_hex(digest, length);
}

}  // namespace facefuse
