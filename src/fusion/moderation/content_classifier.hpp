#pragma once
// ContentClassifier: an operator-supplied image classifier that scores how "unsafe" an input is.
//
// No NSFW model ships with facefuse (licences and content vary by deployment), so the model is
// whatever the operator configures: any network OpenCV DNN reads (ONNX, Caffe, Darknet,
// TensorFlow), described by its preprocessing (input size, mean, scale, channel order) and by
// which element of which output is the unsafe probability. docs/content-policy.md lists the
// usual public models and their settings.
//
// Thread safety: one ContentClassifier may be shared by all worker threads. cv::dnn::Net keeps
// per-run state (its input and intermediate blobs), so forward() is serialised by a mutex held
// only around setInput + forward; preprocessing runs outside the lock. A classifier of an NSFW
// model at 224x224 takes a few ms per image, small beside a swap, so one shared net is simpler
// than one per worker slot and costs little.
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "common/result.hpp"

namespace facefuse::fusion::moderation {

struct ClassifierConfig {
    std::string model_path;   // weights: .onnx, .caffemodel, .weights (Darknet), .pb, ...
    std::string config_path;  // .prototxt / .cfg / .pbtxt when the framework needs one; else ""
    int input_width = 224;    // the network's input size; images are resized to it
    int input_height = 224;
    double scale = 1.0;       // blob = (pixel - mean) * scale, as cv::dnn::blobFromImage
    cv::Scalar mean;          // per channel, in the order of the image given (BGR unless swap_rb)
    bool swap_rb = false;     // true for networks trained on RGB
    std::string output_name;  // empty: the network's default (last) output
    int unsafe_index = 0;     // which element of that output is the unsafe score
    bool apply_softmax = false;  // the output is logits: softmax over it first
};

class ContentClassifier {
  public:
    // Reads the network and checks it once on a grey probe image, so a configuration that could
    // never work fails at start-up, not on the first task. Errors:
    //   kModelUnavailable: the model or config file is missing, empty, unreadable or corrupt,
    //                      or the network yields a non-finite score (message names the flag
    //                      --moderation-model / --moderation-config and the path);
    //   kUsage:            an unusable config: size or scale out of range, unknown output
    //                      name, unsafe_index beyond the output's size.
    // Never throws. Limit: OpenCV's Darknet reader does not check that a .weights file is long
    // enough, so a truncated one (not an empty one) loads with undefined weights; the probe
    // catches NaN but not plausible garbage. Verify model files by checksum when deploying.
    static Result<ContentClassifier> load(const ClassifierConfig& config);

    // The unsafe score of one image in 0..1 (clamped). Accepts 8-bit BGR, grey or BGRA.
    // Errors: kInvalidImage (empty or not 8-bit), kModelUnavailable (the network failed or
    // produced NaN/inf). Never throws. Safe to call from several threads at once.
    Result<float> unsafe_score(const cv::Mat& bgr) const;

    const ClassifierConfig& config() const;  // precondition: not moved from

    // Movable, not copyable (the net is loaded once). A moved-from classifier's unsafe_score
    // returns kInternal.
    ContentClassifier(ContentClassifier&&) noexcept;
    ContentClassifier& operator=(ContentClassifier&&) noexcept;
    ~ContentClassifier();

  private:
    struct State;  // the net and its mutex; on the heap so the classifier stays movable
    explicit ContentClassifier(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace facefuse::fusion::moderation
