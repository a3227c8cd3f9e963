// gift::distributed::require_agreement and fingerprint_hasher: ranks that hold the same things
// pass; a rank that holds another value makes every rank throw the same `disagreement`, naming
// the item and each rank's fingerprint (under mpirun: one rank differs on purpose).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/agreement.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <cmath>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test distributed_collectives (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_collectives)

namespace gd = gift::distributed;

BOOST_AUTO_TEST_CASE(fingerprints_tell_other_bytes_apart) {
  const auto of = [](std::string_view text) { return gd::fingerprint_hasher().add(text).value(); };
  BOOST_TEST(of("abc") == of("abc"));
  BOOST_TEST(of("abc") != of("abd"));
  BOOST_TEST(of("") != of(std::string(1, '\0')));
  // The length is part of each piece: "ab" + "c" is not "a" + "bc".
  BOOST_TEST(gd::fingerprint_hasher().add("ab").add("c").value() !=
             gd::fingerprint_hasher().add("a").add("bc").value());
  const std::vector<float> weights = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f};
  std::vector<float> changed = weights;
  changed[8] = std::nextafter(9.0f, 10.0f);  // one bit of the last (tail) value
  BOOST_TEST(gd::fingerprint_hasher().add_values(std::span<const float>(weights)).value() !=
             gd::fingerprint_hasher().add_values(std::span<const float>(changed)).value());
}

BOOST_AUTO_TEST_CASE(ranks_that_agree_pass) {
  const std::vector<gd::fingerprint> items = {{"the options", 42}, {"the model weights", 0xfeedull}};
  BOOST_CHECK_NO_THROW(gd::require_agreement(gift_test::world(), items, "test"));
  BOOST_CHECK_NO_THROW(gd::require_agreement(gift_test::world(), std::span<const gd::fingerprint>(), "test"));
}

BOOST_AUTO_TEST_CASE(a_rank_that_differs_stops_every_rank_with_the_same_message) {
  auto& world = gift_test::world();
  const int last = world.size() - 1;
  const std::vector<gd::fingerprint> items = {{"the options", 7},
                                              {"the token stream", world.rank() == last ? 2ull : 1ull}};
  if (world.size() < 2) {
    // One process agrees with itself, whatever it holds.
    BOOST_CHECK_NO_THROW(gd::require_agreement(world, items, "gift finetune"));
    return;
  }
  BOOST_CHECK_EXCEPTION(gd::require_agreement(world, items, "gift finetune"), gd::disagreement,
                        gift_test::message_has("gift finetune: the ranks disagree on the token stream",
                                               "rank " + std::to_string(last) + " 0x0000000000000002"));
  // A rank that checks more items than the others is named too.
  std::vector<gd::fingerprint> more = {{"the options", 7}};
  if (world.rank() == last) more.push_back({"extra", 1});
  BOOST_CHECK_EXCEPTION(gd::require_agreement(world, more, "gift eval"), gd::disagreement,
                        gift_test::message_has("gift eval: rank", "items but rank 0 checks 1"));
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_collectives
