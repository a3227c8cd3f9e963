// gift::distributed::shard_plan: every shard has exactly one owner, ranks own contiguous balanced
// ranges in rank order, and items are cut into contiguous balanced shards. This source also
// installs the fixture that joins the MPI run when the program is launched by mpirun.
#include <boost/test/unit_test.hpp>

#include <gift/distributed/shard_plan.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <cstdint>

// Every case of this file belongs to the CTest test distributed_collectives (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_collectives)

using gift_test::world_fixture;
BOOST_TEST_GLOBAL_FIXTURE(world_fixture);

namespace gd = gift::distributed;

BOOST_AUTO_TEST_CASE(ranks_own_contiguous_balanced_ranges_that_cover_every_shard_once) {
  for (int ranks = 1; ranks <= 5; ++ranks) {
    for (std::int64_t shards = ranks; shards <= 13; ++shards) {
      const gd::shard_plan plan(shards, ranks);
      std::int64_t next = 0, smallest = shards, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        BOOST_TEST(plan.first(r) == next);  // contiguous, in rank order
        BOOST_TEST(plan.count(r) >= 1);
        smallest = std::min(smallest, plan.count(r));
        largest = std::max(largest, plan.count(r));
        for (std::int64_t s = plan.first(r); s < plan.first(r) + plan.count(r); ++s) BOOST_TEST(plan.owner(s) == r);
        next += plan.count(r);
      }
      BOOST_TEST(next == shards);
      BOOST_TEST(largest - smallest <= 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(items_are_cut_into_contiguous_balanced_shards) {
  for (std::int64_t items = 1; items <= 20; ++items) {
    for (std::int64_t shards = 1; shards <= items; ++shards) {
      std::int64_t next = 0;
      for (std::int64_t s = 0; s < shards; ++s) {
        const auto [begin, end] = gd::shard_plan::items_of(items, shards, s);
        BOOST_TEST(begin == next);
        BOOST_TEST(end - begin >= items / shards);
        BOOST_TEST(end - begin <= items / shards + 1);
        next = end;
      }
      BOOST_TEST(next == items);
    }
  }
  // 10 sequences in 4 shards: 2, 3, 2, 3 (floor of s * 10 / 4).
  BOOST_TEST(gd::shard_plan::items_of(10, 4, 1).first == 2);
  BOOST_TEST(gd::shard_plan::items_of(10, 4, 1).second == 5);
}

BOOST_AUTO_TEST_CASE(bad_plans_are_refused_with_the_fix) {
  BOOST_CHECK_EXCEPTION(gd::shard_plan(1, 2), gift::error, gift_test::message_has("1 shard(s) cannot keep 2 ranks",
                                                                                "--shards 2"));
  BOOST_CHECK_EXCEPTION(gd::shard_plan(3, 0), gift::error, gift_test::message_has("'ranks' must be at least 1"));
  BOOST_CHECK_EXCEPTION((void)gd::shard_plan::items_of(2, 3, 0), gift::error,
                        gift_test::message_has("2 item(s) cannot fill 3 shard(s)"));
  BOOST_CHECK_EXCEPTION((void)gd::shard_plan(4, 2).owner(4), gift::error, gift_test::message_has("shard 4"));
  BOOST_CHECK_EXCEPTION((void)gd::shard_plan(4, 2).first(2), gift::error, gift_test::message_has("rank 2"));
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_collectives
