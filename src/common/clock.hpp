#pragma once
// Wall-clock time as stored in task records and compared across processes and hosts: ms since
// the Unix epoch. (Durations inside one process use steady_clock instead.)
#include <chrono>
#include <cstdint>

namespace facefuse {

inline std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace facefuse
