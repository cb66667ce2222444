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
  // A secret's value in the message is a leak only if librdkafka echoed it: the value may
  // also be a piece of a property name ("ssword: No suc" from "sapassword: No such ...") or
  // of librdkafka's own text ("h configuration"). So the same configuration is tried again
  // with one byte of that value changed to \x01, which no fixed text contains: an echo
  // shows the changed value too.
  const std::string& msg = conf.status().message();
  auto message_with = [&](size_t i, const std::string& v) {
    KafkaConfig c2 = cfg;
    c2.props[i].second = v;
    ErrorState e2;
    auto r = MakeConf("127.0.0.1:9", c2, {{"client.id", "evt-fuzz"}}, &e2);
    if (r.ok()) {
      rd_kafka_conf_destroy(*r);
      return std::string();
    }
    return r.status().message();
  };
  for (size_t i = 0; i < cfg.props.size(); ++i) {
    const auto& [k, v] = cfg.props[i];
    if (!IsSecretProperty(k) || v.size() < 8 || s.find(v) != s.rfind(v)) continue;  // a value seen once
    if (msg.find(v) == std::string::npos) continue;
    std::string v2 = v;
    v2[v2.size() / 2] = '\x01';
    bool in_a_name = false;
    for (const auto& [k2, v_] : cfg.props) in_a_name = in_a_name || k2.find(v2) != std::string::npos;
    if (in_a_name) continue;
    if (message_with(i, v2).find(v2) != std::string::npos) std::abort();
  }
  return 0;
}
