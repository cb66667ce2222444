// The selection flags `evt replay` and `evt backfill` share: --from/--until, --merge,
// --where, --time-field, --keys, --partitions, --keep-header/--drop-header and the Kafka
// client flags.
#pragma once
#include <string>
#include <vector>

#include "cmd/common.h"
#include "lib/pipeline/selection.h"

namespace evt::cmd {

struct SelectionFlags {
  ReadFlags read;
  KafkaFlags kafka;
  HeaderFlags headers;
  DecodeFlags decode;  // AddDecodeFlags(job) empties --decode/--decode-key: none unless asked
  std::string time_field, keys_file, partitions;
};
void AddSelectionFlags(CLI::App* app, SelectionFlags* f);
// Fills *o from the flags and the source arguments; *identity describes the selection (for
// the checkpoint's refusal of other flags).
Status ResolveSelection(const SelectionFlags& f, const std::vector<std::string>& sources, SelectionOptions* o,
                        std::string* identity);
// The end a selection job's command shares: the --dry-run plan on stdout (when the run
// went well), the read's verdict (AfterRead: skipped corruption is exit 1), and the
// --stats-json file.
Status FinishSelectionJob(Status run, bool dry_run, const std::vector<PartitionPlan>& plan, const ReadOptions& ro,
                          const StderrReporter& rep, const std::string& stats_file, const std::string& stats_json);

// `--group G --status` of a selection job: the run's progress per partition, a table on
// a terminal (or --json: one object per partition), owners where the cluster tells them.
int GroupStatusCommand(const char* job, const SelectionFlags& f, const std::vector<std::string>& sources,
                       const std::string& group, bool json);

}  // namespace evt::cmd
