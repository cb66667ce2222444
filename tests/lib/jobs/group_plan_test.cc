// lib/jobs/group_plan: the plan's encoding in commit metadata, its parsing (what is not a
// plan), the choice between adopting, creating and refusing, and the plan race played step
// by step against an in-memory "group" (what OffsetCommit/OffsetFetch store).
#include "lib/jobs/group_plan.h"

#include <catch2/catch.hpp>

#include <map>

using namespace evt;

namespace {

// The group's committed offsets and metadata, as the coordinator keeps them.
struct FakeGroup {
  std::map<int32_t, StoredOffset> stored;
  void Commit(const std::map<int32_t, PlanEntry>& plan) {
    for (const auto& [p, e] : plan) stored[p] = StoredOffset{e.start, EncodePlan(e)};
  }
  void Progress(int32_t p, int64_t off) { stored[p].committed = off; }
};

std::map<int32_t, PlanEntry> Propose(const std::string& run, const std::string& sel, int n, int64_t end) {
  std::map<int32_t, PlanEntry> m;
  for (int i = 0; i < n; ++i) m[i] = PlanEntry{run, sel, 0, end + i};
  return m;
}

}  // namespace

TEST_CASE("plan: encodes compactly and parses back") {
  PlanEntry e{"0123456789abcdef", "5f2a9c1d00e1b2c3", 17, 123456789};
  std::string md = EncodePlan(e);
  CHECK(md == "evt1 run=0123456789abcdef sel=5f2a9c1d00e1b2c3 start=17 end=123456789");
  CHECK(md.size() < 100);  // far below the broker's 4096-byte limit
  PlanEntry back;
  REQUIRE(ParsePlan(md, &back));
  CHECK(back == e);
}

TEST_CASE("plan: what is not a plan") {
  PlanEntry e;
  CHECK_FALSE(ParsePlan("", &e));
  CHECK_FALSE(ParsePlan("some other tool's metadata", &e));
  CHECK_FALSE(ParsePlan("evt2 run=a sel=b start=0 end=1", &e));
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b start=0", &e));       // no end
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b end=1", &e));         // no start
  CHECK_FALSE(ParsePlan("evt1 sel=b start=0 end=1", &e));       // no run
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b start=5 end=1", &e));  // end before start
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b start=-1 end=1", &e));
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b start=x end=1", &e));
  CHECK_FALSE(ParsePlan("evt1 run=a/b sel=b start=0 end=1", &e));
  CHECK_FALSE(ParsePlan("evt1 run=a sel=b start=0 end=1 junk", &e));
  // Keys a later version adds are ignored.
  REQUIRE(ParsePlan("evt1 run=a sel=b start=0 end=1 v=2", &e));
  CHECK(e.end == 1);
}

TEST_CASE("plan: choose adopts, creates or refuses") {
  FakeGroup g;
  CHECK(ChoosePlan(g.stored, "S", false).decision == PlanDecision::kCreate);  // nothing stored
  g.stored[0] = StoredOffset{5, "not ours"};
  CHECK(ChoosePlan(g.stored, "S", false).decision == PlanDecision::kCreate);
  g.Commit(Propose("r1", "S", 4, 100));
  PlanChoice c = ChoosePlan(g.stored, "S", false);
  REQUIRE(c.decision == PlanDecision::kAdopt);
  CHECK(c.plan.size() == 4);
  CHECK(c.plan[3].end == 103);
  // Another selection is refused; --new-run creates.
  c = ChoosePlan(g.stored, "OTHER", false);
  CHECK(c.decision == PlanDecision::kRefuse);
  CHECK(c.why.find("--new-run") != std::string::npos);
  CHECK(ChoosePlan(g.stored, "OTHER", true).decision == PlanDecision::kCreate);
  CHECK(ChoosePlan(g.stored, "S", true).decision == PlanDecision::kCreate);
  // Two runs' plans mixed: refused.
  g.stored[2].metadata = EncodePlan(PlanEntry{"r2", "S", 0, 9});
  CHECK(ChoosePlan(g.stored, "S", false).decision == PlanDecision::kRefuse);
  // A partition without a plan (the topic grew): adopted, the caller plans it.
  g.Commit(Propose("r1", "S", 4, 100));
  g.stored[4] = StoredOffset{-1, ""};
  c = ChoosePlan(g.stored, "S", false);
  REQUIRE(c.decision == PlanDecision::kAdopt);
  CHECK(c.plan.count(4) == 0);
}

TEST_CASE("plan race: two processes propose at once and end up on one plan") {
  FakeGroup g;
  // A and B start together: both read the group, both find no plan.
  PlanChoice a0 = ChoosePlan(g.stored, "S", false), b0 = ChoosePlan(g.stored, "S", false);
  REQUIRE(a0.decision == PlanDecision::kCreate);
  REQUIRE(b0.decision == PlanDecision::kCreate);
  // Each proposes its own run (the ends differ: the log grew between their reads).
  auto pa = Propose("runA", "S", 3, 100), pb = Propose("runB", "S", 3, 150);
  // Both commit from outside the group; B's commit lands last and overwrites A's.
  g.Commit(pa);
  g.Commit(pb);
  // Both join; at its first assignment each re-reads the stored plan and adopts it.
  PlanChoice a1 = ChoosePlan(g.stored, "S", false);
  PlanChoice b1 = ChoosePlan(g.stored, "S", false);
  REQUIRE(a1.decision == PlanDecision::kAdopt);
  REQUIRE(b1.decision == PlanDecision::kAdopt);
  CHECK(a1.plan == pb);
  CHECK(b1.plan == pb);
  // A's progress commits carry B's plan; a third process started later follows it too.
  g.Progress(0, 40);
  PlanChoice c1 = ChoosePlan(g.stored, "S", false);
  REQUIRE(c1.decision == PlanDecision::kAdopt);
  CHECK(c1.plan == pb);
  // The other order: A's lands last, both follow A's.
  FakeGroup h;
  h.Commit(pb);
  h.Commit(pa);
  CHECK(ChoosePlan(h.stored, "S", false).plan == pa);
  // A racer with other selection flags is refused at its first assignment.
  CHECK(ChoosePlan(h.stored, "T", false).decision == PlanDecision::kRefuse);
}

TEST_CASE("plan: run status from commits") {
  FakeGroup g;
  g.Commit(Propose("r", "S", 2, 100));  // ends 100, 101
  g.Progress(0, 60);
  g.Progress(1, 101);
  std::vector<PartitionStatus> st;
  REQUIRE(RunStatus(g.stored, &st).ok());
  REQUIRE(st.size() == 2);
  CHECK(st[0].committed == 60);
  CHECK(st[0].remaining == 40);
  CHECK(st[1].remaining == 0);
  std::vector<PartitionStatus> none;
  CHECK(RunStatus(std::map<int32_t, StoredOffset>{}, &none).code() == Code::kNotFound);
}
