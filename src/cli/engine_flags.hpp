#pragma once
// Flags every engine subcommand shares (models, detector, input limits), registered once, and
// turned into a ready FaceAnalyser. Flags win over FACEFUSE_* environment variables.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/result.hpp"
#include "face/analyser.hpp"
#include "image/decode.hpp"
#include "models/model_spec.hpp"

namespace facefuse::cli {

struct EngineFlags {
    std::string models_manifest;  // empty: the built-in manifest (Debian's landmark model)
    std::string landmark_model;   // empty: the manifest's face_landmarker
    int detector_size = 640;
    bool try_rotations = true;
    image::DecodeLimits limits;

    void add_to(CLI::App& command);

    // The landmark model to load: the manifest's face_landmarker (the manifest file is read on
    // every call, so a reload sees its edits), or --landmark-model's file (not checksummed).
    // kUsage / kFileNotFound for a bad manifest.
    Result<models::ModelSpec> landmark_spec() const;
    // landmark_spec(), loaded (~0.4 s) with its checksum verified alongside. kModelUnavailable,
    // kUsage or kFileNotFound on failure.
    Result<std::shared_ptr<const face::LandmarkProvider>> load_landmarker() const;
    // load_landmarker() and an analyser around it.
    Result<std::unique_ptr<face::FaceAnalyser>> make_analyser() const;
    face::DetectorOptions detector_options() const;
};

// Prints "facefuse: <code>: <message>" to stderr and returns the code's CLI exit code.
int report(const Error& error);

}  // namespace facefuse::cli
