#include "cli/engine_flags.hpp"

#include <future>
#include <iostream>

#include "models/manifest.hpp"
#include "models/model_spec.hpp"

namespace facefuse::cli {

void EngineFlags::add_to(CLI::App& command) {
    command.add_option("--models-manifest", models_manifest,
                       "JSON manifest of the models to serve (name, version, kind, path, sha256, licence; "
                       "see docs/models.md); default: the built-in one naming Debian's landmark model")
        ->envname("FACEFUSE_MODELS_MANIFEST");
    command.add_option("--landmark-model", landmark_model,
                       "dlib 68-point shape predictor file (default: Debian libdlib-data's "
                       "/usr/share/dlib/shape_predictor_68_face_landmarks.dat); overrides the manifest's "
                       "face_landmarker, without a checksum")
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

Result<models::ModelSpec> EngineFlags::landmark_spec() const {
    if (!landmark_model.empty()) {
        models::ModelSpec spec = models::default_landmark_model();
        spec.path = landmark_model;
        spec.name = "custom_68_landmarks";
        spec.version = "unknown";
        spec.sha256.clear();
        spec.license = "as supplied by the operator";
        return spec;
    }
    auto manifest = models::load_manifest(models_manifest);
    if (!manifest) return manifest.error();
    return models::find_kind(*manifest, models::kFaceLandmarker);
}

Result<std::shared_ptr<const face::LandmarkProvider>> EngineFlags::load_landmarker() const {
    auto spec = landmark_spec();
    if (!spec) return spec.error();
    // The checksum reads the whole file again (~0.1 s for the 100 MB default): done on a second
    // thread while dlib deserialises, so verifying costs the model load no wall time.
    auto verified = std::async(std::launch::async, [&spec] { return models::verify_model(*spec); });
    auto landmarker = face::load_dlib_landmarker(*spec);
    if (Status st = verified.get(); !st) return st.error();  // a mismatch says more than a failed load
    return landmarker;
}

face::DetectorOptions EngineFlags::detector_options() const {
    face::DetectorOptions detector;
    detector.detector_size = detector_size;
    detector.try_rotations = try_rotations;
    return detector;
}

Result<std::unique_ptr<face::FaceAnalyser>> EngineFlags::make_analyser() const {
    auto landmarker = load_landmarker();
    if (!landmarker) return landmarker.error();
    return std::make_unique<face::FaceAnalyser>(std::move(landmarker.value()), detector_options());
}

int report(const Error& error) {
    std::cerr << "facefuse: " << error.code_name() << ": " << error.message << "\n";
    return error_info(error.code).exit_code;
}

}  // namespace facefuse::cli
