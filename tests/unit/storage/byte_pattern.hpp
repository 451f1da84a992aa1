#pragma once
// Bytes for blob store tests: every size and seed gives different bytes, none all zeros (a
// punched hole reads as zeros), so a mix-up or a torn read shows.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace facefuse::storage::test_bytes {

inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 31);
    return bytes;
}

}  // namespace facefuse::storage::test_bytes
