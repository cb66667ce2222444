#include "formats/kafka/entry.h"

#include <fmt/format.h>

namespace evt::kafka {

EntryState DescribeEntryProblem(EntryProblem problem, const EntryHeader& h, uint64_t remaining, std::string* reason) {
  switch (problem) {
    case EntryProblem::kNone:
      return EntryState::kOk;
    case EntryProblem::kPastEnd:
      *reason = "position past end of data";
      return EntryState::kCorrupt;
    case EntryProblem::kNoHeader:
      // Need offset, length and magic to judge the entry.
      *reason = fmt::format("incomplete entry header ({} bytes at end of file)", remaining);
      return EntryState::kTorn;
    case EntryProblem::kBadMagic:
      *reason = fmt::format("unknown magic byte {} (offset field {}, length field {})", h.magic, h.base_offset,
                            h.length);
      return EntryState::kCorrupt;
    case EntryProblem::kTooShort: {
      int min_len = h.magic == 2 ? kBatchLengthMin : (h.magic == 1 ? kLegacyMinSizeV1 : kLegacyMinSizeV0);
      *reason = fmt::format("entry length {} below the minimum {} for magic {}", h.length, min_len, h.magic);
      return EntryState::kCorrupt;
    }
    case EntryProblem::kTooLong:
      *reason = fmt::format("entry length {} exceeds the limit {}", h.length, kMaxBatchSize);
      return EntryState::kCorrupt;
    case EntryProblem::kNegativeOffset:
      *reason = fmt::format("negative offset {}", h.base_offset);
      return EntryState::kCorrupt;
    case EntryProblem::kCutOff:
      *reason = fmt::format("entry of {} bytes cut off after {} bytes", h.total_size(), remaining);
      return EntryState::kTorn;
  }
  *reason = "unknown entry problem";
  return EntryState::kCorrupt;
}

}  // namespace evt::kafka
