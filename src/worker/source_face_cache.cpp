#include "worker/source_face_cache.hpp"

#include "common/sha256.hpp"

namespace facefuse::worker {

std::string SourceFaceCache::key_for(const std::string& tenant,
                                     std::span<const std::uint8_t> source_bytes, int face_position,
                                     std::uint64_t model_generation) {
    // Tenant names are [A-Za-z0-9._-] (as storage keys need too), so the parts cannot run together.
    return tenant + "/" + sha256_hex(source_bytes) + "/" + std::to_string(face_position) + "/" +
           std::to_string(model_generation);
}

std::size_t SourceFaceCache::cost(const std::string& key, const fusion::SourceFace& entry) {
    // The pixels, plus the key (twice: list and index), the face and the nodes around them.
    constexpr std::size_t kPerEntry = sizeof(Entry) + 128;
    return entry.image.total() * entry.image.elemSize() + 2 * key.size() + kPerEntry;
}

std::optional<fusion::SourceFace> SourceFaceCache::find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    recent_.splice(recent_.begin(), recent_, found->second);
    return found->second->source;
}

void SourceFaceCache::insert(const std::string& key, const fusion::SourceFace& entry) {
    const std::size_t entry_bytes = cost(key, entry);
    if (entry_bytes > capacity_bytes_) return;
    std::lock_guard lock(mutex_);
    if (auto found = index_.find(key); found != index_.end()) {
        bytes_ -= found->second->bytes;
        recent_.erase(found->second);
        index_.erase(found);
    }
    evict_to(capacity_bytes_ - entry_bytes);
    recent_.push_front(Entry{key, entry, entry_bytes});
    index_.emplace(key, recent_.begin());
    bytes_ += entry_bytes;
}

void SourceFaceCache::evict_to(std::size_t budget) {
    while (bytes_ > budget && !recent_.empty()) {
        bytes_ -= recent_.back().bytes;
        index_.erase(recent_.back().key);
        recent_.pop_back();
    }
}

std::size_t SourceFaceCache::size() const {
    std::lock_guard lock(mutex_);
    return recent_.size();
}

std::size_t SourceFaceCache::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace facefuse::worker
