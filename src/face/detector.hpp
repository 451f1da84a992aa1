#pragma once
// Face detection with dlib's HOG + linear SVM frontal detector.
//
// HOG cost grows with pixels (~55 ns a pixel here) and it only finds faces of at least ~80 px
// in the image it scans, so the scale we scan at is the whole speed/recall trade-off:
//   - large photos are scanned on a copy whose long side is `detector_size` (FaceFusion's
//     face_detector_size, default 640): a 1920x1080 frame costs ~13 ms instead of ~115 ms, and
//     finds faces from ~240 px up;
//   - small photos (long side <= detector_size) are scanned as they are, and again upsampled
//     x2 when that finds nothing or only small faces (a group photo may hold
//     more, down to ~40 px; 1.5x the window) -- a portrait does not pay 4x for faces it cannot contain;
//   - only when a pass finds nothing do we pay for more: a copy twice as large, then the image
//     turned by 90, 180 and 270 degrees (phone photos with a lost EXIF orientation).
// Boxes come back in the coordinates of the unrotated input at full resolution.
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

namespace facefuse::face {

struct DetectorOptions {
    int detector_size = 640;       // long side of the scanned copy of a large photo, 160..4096
    double score_threshold = 0.0;  // dlib's adjust_threshold: lower finds more and more wrongly
    bool try_rotations = true;     // retry at 90/180/270 degrees when nothing is found
    int max_faces = 32;            // keep the best-scoring ones; bounds work on crowd photos
};

struct Detection {
    cv::Rect2f box;  // in the scanned (rotated, full-resolution) image's coordinates
    float score = 0;
};

// One scan of one orientation. Not thread-safe (dlib's scanner keeps scratch buffers): give
// each thread its own; construction is cheap (~1 ms).
class HogScanner {
public:
    HogScanner();
    ~HogScanner();
    HogScanner(HogScanner&&) noexcept;
    HogScanner& operator=(HogScanner&&) noexcept;

    // Scans `gray` (8-bit) resized by `scale`; returns boxes mapped back to gray's coordinates,
    // best score first.
    std::vector<Detection> scan(const cv::Mat& gray, double scale, double score_threshold);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One step of the detection ladder: rotate by `rotation` degrees, scan at `scale`.
struct ScanStep {
    int rotation = 0;
    double scale = 1.0;
    // Run this step even when an earlier one found faces, if the smallest of them is narrower
    // than this many px (in the input image). 0: only when nothing was found yet.
    float refine_below_px = 0;
};

// Smallest face HOG finds in the image it scans (its detection window).
inline constexpr float kHogWindowPx = 80;

// The steps to try, in order, for an image of `size`. A step runs when nothing was found yet,
// or when its refine_below_px says the faces found so far are small enough to look again.
std::vector<ScanStep> scan_ladder(cv::Size size, const DetectorOptions& options);

}  // namespace facefuse::face
