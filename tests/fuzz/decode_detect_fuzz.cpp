// libFuzzer target: untrusted bytes through decode (with limits) and the whole face analysis
// (detection ladder with rotations, landmarks). Whatever the bytes, no crash, no sanitizer
// report, and every face it returns lies in the image.
//
// The pixel limit is small (256k) so that one input costs milliseconds, not the ~50 ms a real
// photo's detection ladder can take: the fuzzer's value is in many odd inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "face/analyser.hpp"
#include "image/decode.hpp"
#include "models/model_spec.hpp"

namespace {
std::unique_ptr<facefuse::face::FaceAnalyser> analyser;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    auto landmarker = facefuse::face::load_dlib_landmarker(facefuse::models::default_landmark_model());
    if (!landmarker) std::abort();  // the fuzz run needs the model; fail loudly, not silently
    analyser = std::make_unique<facefuse::face::FaceAnalyser>(std::move(landmarker.value()));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    facefuse::image::DecodeLimits limits;
    limits.max_pixels = 256 * 1024;
    limits.max_bytes = 1 << 20;
    auto image = facefuse::image::decode_image({data, size}, limits, "fuzz input");
    if (!image) return 0;
    const cv::Rect2f frame(0, 0, static_cast<float>(image->cols), static_cast<float>(image->rows));
    for (const auto& face : analyser->analyse(*image)) {
        // Boxes may reach past the border (a face cut by the edge), but must overlap the image.
        if ((face.box & frame).area() <= 0) std::abort();
    }
    return 0;
}
