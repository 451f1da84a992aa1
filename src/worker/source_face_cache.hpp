#pragma once
// SourceFaceCache: the analysed source face per source image, shared by a worker pool's slots.
//
// Apps swap one user's face into many targets (templates, the frames of a clip), so the same
// source bytes come back task after task. Analysing them (a detection and a landmark pass) is
// about as long as the swap itself, and decoding them is a few milliseconds more. An entry holds
// the chosen face and the pixels around it (fusion::crop_source_face: the part a swap reads), so
// a hit needs neither.
//
// The key is the bytes' SHA-256 with the face position asked for and the landmark model's
// generation, so a hot reload never serves a face from the old model, and the tenant: a hit is
// faster than a miss, and one tenant must not learn by timing which photos another one sent.
// An LRU bounded by bytes (the crops' pixels plus a fixed overhead per entry), because that is
// what an operator sizes a pod's memory by; an entry is typically 0.2-1 MB.
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "fusion/face_swapper.hpp"

namespace facefuse::worker {

class SourceFaceCache {
  public:
    // capacity_bytes 0: nothing is kept (every find misses).
    explicit SourceFaceCache(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

    static std::string key_for(const std::string& tenant,
                               std::span<const std::uint8_t> source_bytes, int face_position,
                               std::uint64_t model_generation);

    // The entry shares its pixels with the cache (cv::Mat reference counting): read them, never
    // write them.
    std::optional<fusion::SourceFace> find(const std::string& key);
    // An entry larger than the whole capacity is not kept.
    void insert(const std::string& key, const fusion::SourceFace& entry);

    std::size_t size() const;   // entries
    std::size_t bytes() const;  // what the capacity counts

  private:
    struct Entry {
        std::string key;
        fusion::SourceFace source;
        std::size_t bytes = 0;
    };
    static std::size_t cost(const std::string& key, const fusion::SourceFace& entry);
    void evict_to(std::size_t budget);  // holds mutex_

    const std::size_t capacity_bytes_;
    mutable std::mutex mutex_;
    std::list<Entry> recent_;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
    std::size_t bytes_ = 0;
};

}  // namespace facefuse::worker
