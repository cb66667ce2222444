// libFuzzer target: -X prop=value, --config property files, kafka:// URLs and partition
// lists, then the properties through librdkafka (MakeConf), whose messages must never
// echo a secret property's value.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <librdkafka/rdkafka.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/kafka/client.h"
#include "lib/kafka/internal.h"
#include "scratch.h"

using namespace evt::kafka;
using evt::kafka::internal::ErrorState;
using evt::kafka::internal::MakeConf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  KafkaConfig cfg;
  (void)AddProperty(s, &cfg);
  (void)ParseKafkaUrl(s);
  (void)ParsePartitionList(s);
  if (!AddPropertiesFile(evt::fuzz::WriteScratch("client.properties", s), &cfg).ok()) return 0;
  ErrorState errors;
  auto conf = MakeConf("127.0.0.1:9", cfg, {{"client.id", "evt-fuzz"}}, &errors);
  if (conf.ok()) {
    rd_kafka_conf_destroy(*conf);
    return 0;
  }
  // The message may name properties ("sapassword: No such configuration property"), so a
  // value is a leak only if it is still there once every property name is taken out: the
  // value "ssword: No suc" is no secret seen in that message.
  std::string msg = conf.status().message();
  for (const auto& [k, v] : cfg.props) {
    if (k.empty()) continue;
    for (size_t at = 0; (at = msg.find(k, at)) != std::string::npos; ++at) msg.replace(at, k.size(), "\x01");
  }
  for (const auto& [k, v] : cfg.props) {
    if (!IsSecretProperty(k) || v.size() < 8 || s.find(v) != s.rfind(v)) continue;  // a value seen once
    bool in_a_name = false;
    for (const auto& [k2, v2] : cfg.props) in_a_name = in_a_name || k2.find(v) != std::string::npos;
    if (!in_a_name && msg.find(v) != std::string::npos) std::abort();
  }
  return 0;
}
