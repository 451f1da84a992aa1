#include "cli/engine_flags.hpp"

#include <iostream>

#include "models/model_spec.hpp"

namespace facefuse::cli {

void EngineFlags::add_to(CLI::App& command) {
    command.add_option("--landmark-model", landmark_model,
                       "dlib 68-point shape predictor file (default: Debian libdlib-data's "
                       "/usr/share/dlib/shape_predictor_68_face_landmarks.dat)")
        ->envname("FACEFUSE_LANDMARK_MODEL");
    command.add_option("--face-detector-size", detector_size,
                       "long side in px of the copy large photos are scanned at; raise it to find "
                       "small faces in large photos (slower)")
        ->check(CLI::Range(160, 4096))
        ->envname("FACEFUSE_FACE_DETECTOR_SIZE")
        ->capture_default_str();
    command.add_flag("!--no-rotations", try_rotations,
                     "do not retry detection on the image turned 90/180/270 degrees");
    command.add_option("--max-image-pixels", limits.max_pixels,
                       "refuse inputs with more pixels than this (checked from the header, "
                       "before decoding)")
        ->check(CLI::Range(int64_t{1}, int64_t{268'435'456}))
        ->envname("FACEFUSE_MAX_IMAGE_PIXELS")
        ->capture_default_str();
    command.add_option("--max-image-bytes", limits.max_bytes, "refuse input files larger than this")
        ->check(CLI::Range(size_t{1}, size_t{1} << 30))
        ->envname("FACEFUSE_MAX_IMAGE_BYTES")
        ->capture_default_str();
}

Result<std::unique_ptr<face::FaceAnalyser>> EngineFlags::make_analyser() const {
    models::ModelSpec spec = models::default_landmark_model();
    if (!landmark_model.empty()) {
        spec.path = landmark_model;
        spec.name = "custom_68_landmarks";
        spec.version = "unknown";
        spec.license = "as supplied by the operator";
    }
    auto landmarker = face::load_dlib_landmarker(spec);
    if (!landmarker) return landmarker.error();
    face::DetectorOptions detector;
    detector.detector_size = detector_size;
    detector.try_rotations = try_rotations;
    return std::make_unique<face::FaceAnalyser>(std::move(landmarker.value()), detector);
}

int report(const Error& error) {
    std::cerr << "facefuse: " << error.code_name() << ": " << error.message << "\n";
    return error_info(error.code).exit_code;
}

}  // namespace facefuse::cli
