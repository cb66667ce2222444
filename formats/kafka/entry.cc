#include "formats/kafka/entry.h"

#include <fmt/format.h>

namespace evt::kafka {

EntryState PeekEntry(std::string_view data, uint64_t pos, EntryHeader* h, std::string* reason) {
  if (pos > data.size()) {
    *reason = "position past end of data";
    return EntryState::kCorrupt;
  }
  size_t remaining = data.size() - pos;
  // Need offset, length and magic to judge the entry.
  if (remaining < static_cast<size_t>(kMagicOffset + kMagicLength)) {
    *reason = fmt::format("incomplete entry header ({} bytes at end of file)", remaining);
    return EntryState::kTorn;
  }
  const EntryView e(data.data() + pos, remaining);
  h->base_offset = e.base_offset();
  h->length = e.length();
  h->magic = e.magic();
  if (h->magic < 0 || h->magic > 2) {
    *reason = fmt::format("unknown magic byte {} (offset field {}, length field {})", h->magic, h->base_offset,
                          h->length);
    return EntryState::kCorrupt;
  }
  int min_len = h->magic == 2 ? kBatchLengthMin : (h->magic == 1 ? kLegacyMinSizeV1 : kLegacyMinSizeV0);
  if (h->length < min_len) {
    *reason = fmt::format("entry length {} below the minimum {} for magic {}", h->length, min_len, h->magic);
    return EntryState::kCorrupt;
  }
  if (static_cast<int64_t>(h->length) > kMaxBatchSize) {
    *reason = fmt::format("entry length {} exceeds the limit {}", h->length, kMaxBatchSize);
    return EntryState::kCorrupt;
  }
  if (h->base_offset < 0) {
    *reason = fmt::format("negative offset {}", h->base_offset);
    return EntryState::kCorrupt;
  }
  if (h->total_size() > remaining) {
    *reason = fmt::format("entry of {} bytes cut off after {} bytes", h->total_size(), remaining);
    return EntryState::kTorn;
  }
  return EntryState::kOk;
}

}  // namespace evt::kafka
