#pragma once
// Which exceptions from an engine or model backend mean "out of memory": std::bad_alloc from
// the host, OpenCV's StsNoMem, and the GPU errors of OpenCV's CUDA/OpenCL paths and of ONNX or
// CUDA runtimes, which arrive as a code or only as text ("CUDA_ERROR_OUT_OF_MEMORY",
// "cudaErrorMemoryAllocation", "out of memory"). Such an error says nothing about the input:
// the same task succeeds later, or in a smaller batch.
#include <exception>

namespace facefuse::worker {

bool is_out_of_memory(const std::exception& error);

}  // namespace facefuse::worker
