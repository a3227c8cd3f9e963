// gift::distributed::communicator: the single-process communicator copies and refuses counts that
// do not add up; on the run's own ranks (one process, or mpirun -np 2/3) an all-gather returns
// every rank's values in rank order and an all-to-all delivers each rank's part to its rank; the
// launcher's environment names the number of ranks.
#include <boost/test/unit_test.hpp>

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/launcher.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <vector>

// Every case of this file belongs to the CTest test distributed_collectives (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_collectives)

namespace gd = gift::distributed;

BOOST_AUTO_TEST_CASE(all_gather_returns_every_rank_in_rank_order) {
  auto& world = gift_test::world();
  const std::vector<std::int64_t> mine = {world.rank(), 10 * world.rank() + 1};
  const auto all = gd::all_gather_values(world, std::span<const std::int64_t>(mine));
  BOOST_REQUIRE(all.size() == 2u * static_cast<std::size_t>(world.size()));
  for (int r = 0; r < world.size(); ++r) {
    BOOST_TEST(all[2 * static_cast<std::size_t>(r)] == r);
    BOOST_TEST(all[2 * static_cast<std::size_t>(r) + 1] == 10 * r + 1);
  }
}

BOOST_AUTO_TEST_CASE(all_to_all_delivers_each_part_to_its_rank) {
  // Rank r sends rank q the q + 1 values 100·r + q (so the sizes differ per destination).
  auto& world = gift_test::world();
  const auto ranks = static_cast<std::size_t>(world.size()), me = static_cast<std::size_t>(world.rank());
  std::vector<std::int32_t> send;
  std::vector<std::size_t> send_bytes(ranks), receive_bytes(ranks, (me + 1) * sizeof(std::int32_t));
  for (std::size_t q = 0; q < ranks; ++q) {
    send.insert(send.end(), q + 1, static_cast<std::int32_t>(100 * me + q));
    send_bytes[q] = (q + 1) * sizeof(std::int32_t);
  }
  std::vector<std::int32_t> receive(ranks * (me + 1));
  world.all_to_all(std::as_bytes(std::span<const std::int32_t>(send)), send_bytes,
                   std::as_writable_bytes(std::span<std::int32_t>(receive)), receive_bytes);
  for (std::size_t r = 0; r < ranks; ++r)
    for (std::size_t k = 0; k <= me; ++k) BOOST_TEST(receive[r * (me + 1) + k] == static_cast<std::int32_t>(100 * r + me));
  BOOST_CHECK_NO_THROW(world.barrier());
}

BOOST_AUTO_TEST_CASE(the_single_process_refuses_counts_that_do_not_add_up) {
  gd::single_process one;
  BOOST_TEST(one.rank() == 0);
  BOOST_TEST(one.size() == 1);
  std::vector<std::byte> a(8), b(4);
  const std::vector<std::size_t> eight = {8}, two = {4, 4};
  BOOST_CHECK_EXCEPTION(one.all_to_all(a, eight, b, eight), gift::error,
                        gift_test::message_has("sends 8 bytes", "receives into 4"));
  BOOST_CHECK_EXCEPTION(one.all_gather(a, b, two), gift::error, gift_test::message_has("'bytes' must hold one count"));
}

BOOST_AUTO_TEST_CASE(the_launcher_environment_names_the_ranks) {
  auto& world = gift_test::world();
  if (world.size() > 1) {
    BOOST_TEST(gd::launched_ranks() == world.size());
    return;
  }
  if (gd::launched_ranks() != 0) return;  // mpirun -np 1: nothing to vary
  // Started directly: no launcher variable. PMI's is read as MPICH and Slurm set it; a value that
  // is not a count is no launcher.
  ::setenv("PMI_SIZE", "4", 1);
  BOOST_TEST(gd::launched_ranks() == 4);
  ::setenv("PMI_SIZE", "four", 1);
  BOOST_TEST(gd::launched_ranks() == 0);
  ::unsetenv("PMI_SIZE");
  BOOST_TEST(gd::launched_ranks() == 0);
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_collectives
