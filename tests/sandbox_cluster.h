// A mock cluster (lib/jobs/sandbox) for one test case: started in the constructor (a
// failure fails the test), stopped with it. `topics` as for `evt sandbox --topics`.
#pragma once
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "lib/jobs/sandbox.h"
#include "lib/base/source.h"
#include "lib/kafka/client.h"

namespace evt::test {

struct SandboxCluster {
  std::unique_ptr<kafka::Sandbox> sb;
  CountingReporter rep;
  explicit SandboxCluster(const std::string& topics) {
    kafka::SandboxOptions o;
    o.topics = *kafka::ParseSandboxTopics(topics);
    auto s = kafka::Sandbox::Start(o, &rep);
    REQUIRE(s.ok());
    sb = std::move(*s);
  }
  kafka::KafkaTarget Target(const std::string& topic) const {
    return *kafka::ParseKafkaUrl("kafka://" + sb->bootstrap() + "/" + topic);
  }
};

}  // namespace evt::test
