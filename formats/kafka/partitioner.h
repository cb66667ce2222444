// Kafka's default partitioner for keyed records: Java's Utils.murmur2 (seed 0x9747b28c)
// and toPositive(hash) % partitions, the rule of the Java client, kafka-python and
// librdkafka's murmur2/murmur2_random partitioners. See README.md ("Partitioning").
#pragma once

#include <cstdint>
#include <string_view>

namespace evt::kafka {

// org.apache.kafka.common.utils.Utils.murmur2 of `data` (as Java's signed int).
int32_t Murmur2(std::string_view data);

// The partition of a non-null `key` among `partitions` (0 when partitions <= 1).
int32_t Murmur2Partition(std::string_view key, int32_t partitions);

}  // namespace evt::kafka
