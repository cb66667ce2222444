# group.sh's checks (plan race, late joiner, --new-run, --status, replay --group, refused
# commits) with the cooperative rebalance protocol (-X
# partition.assignment.strategy=cooperative-sticky): partitions are added and taken back
# incrementally (rd_kafka_incremental_assign/unassign), those at their end are assigned and
# paused, and a revocation commits only the partitions that move.
# Not the kill -9 runs: on librdkafka 2.0.2's mock cluster a cooperative group that loses a
# member in the middle of a rebalance can go on rebalancing for minutes (the mock refuses
# commits and heartbeats while it waits session.timeout.ms - 1 s for each rejoin, and
# librdkafka takes each refusal as the assignment lost and rejoins again): 4 of 45 runs of
# 3 members with one killed at a random moment, against 0 of 21 with the eager protocol.
# That is why eager is evt's default.
GROUP_STRATEGY=cooperative-sticky GROUP_KILL_RUNS=0 \
  GROUP_KILL_WHY="the mock cluster cannot carry a cooperative group through the loss of a member (see group_cooperative.sh)" \
  exec bash "$(dirname "$0")/group.sh"
