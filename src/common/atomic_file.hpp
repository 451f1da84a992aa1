#pragma once
// Writing a whole file so that readers see the old bytes or the new ones, never a half-written
// file: images written by `facefuse swap`, models written by `facefuse models pull`.
#include <cstdint>
#include <filesystem>
#include <span>

#include "common/result.hpp"

namespace facefuse {

// Writes atomically (temporary "<path>.tmp-<pid>-<random>" in the same directory, fsync, then
// rename), so a reader never sees a half-written output and a failed run leaves no partial
// file. Replaces an existing file. Errors: kOutputError with the path and the OS reason, or
// saying that the directory does not exist.
Status write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace facefuse
