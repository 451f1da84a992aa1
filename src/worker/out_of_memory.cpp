#include "worker/out_of_memory.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <new>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

namespace facefuse::worker {

bool is_out_of_memory(const std::exception& error) {
    if (dynamic_cast<const std::bad_alloc*>(&error)) return true;
    const auto* cv_error = dynamic_cast<const cv::Exception*>(&error);
    if (cv_error && cv_error->code == cv::Error::StsNoMem) return true;
    // Other codes (GpuApiCallError covers every failed CUDA call) count only when their text
    // names memory: an invalid kernel argument is no reason to retry.
    std::string text = error.what();
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    static constexpr std::array<std::string_view, 5> kMarkers = {
        "out of memory", "out_of_memory", "cudaerrormemoryallocation", "failed to allocate memory",
        "cl_mem_object_allocation_failure"};
    return std::any_of(kMarkers.begin(), kMarkers.end(),
                       [&](std::string_view marker) { return text.find(marker) != std::string::npos; });
}

}  // namespace facefuse::worker
