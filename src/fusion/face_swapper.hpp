#pragma once
// The face swap of one source face into one target face of a frame, in place.
//
// warp (piecewise affine over the extended mesh) -> colour match -> mask -> blend, all inside
// the target face's region of interest: the cost depends on the face's size, not the frame's.
#include <opencv2/core.hpp>

#include "common/stage_timings.hpp"
#include "face/face.hpp"
#include "fusion/swap_options.hpp"

namespace facefuse::fusion {

struct SourceFace {
    cv::Mat image;  // CV_8UC3, the whole source photo (only the face region is read)
    face::Face face;
};

// The part of `source` a swap of `face` reads, as its own copy, with the face moved into its
// coordinates: the mesh's bounding box (face and forehead) plus a quarter of its size on each
// side, clipped to the image. The warp reads a pixel at most (source face size / target face
// size) pixels outside the mesh, plus one for bilinear sampling, so the margin holds for every
// target face the swap does not skip as too small. A cache keeps this instead of the photo:
// fewer pixels, and no decode when the same source comes back.
SourceFace crop_source_face(const cv::Mat& source, const face::Face& face);

// Region of `frame_size` that the swap of a face with these landmarks may change: the mesh's
// bounding box plus a margin, clipped to the frame. Empty if the face lies outside the frame.
cv::Rect swap_region(const face::Landmarks68& target_landmarks, cv::Size frame_size);

// Replaces `target`'s face in `frame` (CV_8UC3) by the source face. Pixels outside
// swap_region() are never written. `timings` may be null.
void swap_face(cv::Mat& frame, const SourceFace& source, const face::Face& target,
               const SwapOptions& options, StageTimings* timings);

}  // namespace facefuse::fusion
