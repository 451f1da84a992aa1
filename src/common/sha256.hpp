#pragma once
// SHA-256 as lower-case hex: of bytes in memory (request hashes, S3 payload hashes) and of a
// file read in chunks (model checksums: the default landmark model is 100 MB, not worth a copy
// in memory). One place, so every layer agrees on the spelling of a digest.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace facefuse {

std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view text);

// Digest of the file at `path`. kFileNotFound when it cannot be opened, kInternal on a read
// error midway.
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

}  // namespace facefuse
