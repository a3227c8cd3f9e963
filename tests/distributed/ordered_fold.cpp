// gift::distributed::ordered_fold / ordered_sum: on any number of ranks (this program also runs
// under mpirun -np 2 and -np 3) the result is, bit for bit, the left fold over the shards in shard
// order that one process computes — for shard counts that do not divide among the ranks, vector
// lengths shorter than the ranks, several message rounds (small chunks), float and double, and a
// combine that depends on the element. The values span 40 binary orders of magnitude, so another
// order of the additions gives other bits (checked: the test could fail).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/ordered_fold.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

// Every case of this file belongs to the CTest test distributed_collectives (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_collectives)

namespace gd = gift::distributed;

namespace {
/// A value of shard `s`, element `i`: ± (1 + u) · 2^e with e in [−20, 20], from a hash.
template <class T>
T value(std::size_t s, std::size_t i) {
  std::uint64_t h = (s + 1) * 0x9e3779b97f4a7c15ull ^ (i + 7) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 29;
  const double u = static_cast<double>(h >> 11) / 9007199254740992.0;
  const int e = static_cast<int>((h >> 3) % 41) - 20;
  return static_cast<T>(((h & 1) ? -1.0 : 1.0) * std::ldexp(1.0 + u, e));
}

/// Every shard's vector, shard after shard.
template <class T>
std::vector<T> all_shards(std::size_t shards, std::size_t n) {
  std::vector<T> data(shards * n);
  for (std::size_t s = 0; s < shards; ++s)
    for (std::size_t i = 0; i < n; ++i) data[s * n + i] = value<T>(s, i);
  return data;
}

template <class T, class Combine>
std::vector<T> left_fold(const std::vector<T>& data, std::size_t shards, std::size_t n, Combine combine) {
  std::vector<T> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    T a = data[i];
    for (std::size_t s = 1; s < shards; ++s) a = combine(a, data[s * n + i], i);
    out[i] = a;
  }
  return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

/// Runs the fold on this run's ranks with this rank's shards and returns the result.
template <class T, class Combine>
std::vector<T> distributed_fold(const std::vector<T>& data, std::int64_t shards, std::size_t n, Combine combine,
                                std::size_t chunk) {
  auto& world = gift_test::world();
  const gd::shard_plan plan(shards, world.size());
  const auto first = static_cast<std::size_t>(plan.first(world.rank()));
  const auto count = static_cast<std::size_t>(plan.count(world.rank()));
  const std::vector<T> owned(data.begin() + static_cast<std::ptrdiff_t>(first * n),
                             data.begin() + static_cast<std::ptrdiff_t>((first + count) * n));
  std::vector<T> result(n);
  gd::ordered_fold(world, plan, std::span<const T>(owned), std::span<T>(result), combine, gd::fold_options{chunk});
  return result;
}

template <class T>
void check_sums() {
  const auto ranks = static_cast<std::size_t>(gift_test::world().size());
  const auto plus = [](T a, T b, std::size_t) { return a + b; };
  for (const std::size_t shards : {ranks, ranks + 1, 2 * ranks + 1, std::size_t{7}}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1000}}) {
      for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{1} << 22}) {
        const auto data = all_shards<T>(shards, n);
        const auto expected = left_fold(data, shards, n, plus);
        const auto got = distributed_fold(data, static_cast<std::int64_t>(shards), n, plus, chunk);
        BOOST_TEST(same_bits(got, expected), "shards " << shards << ", n " << n << ", chunk " << chunk << " on "
                                                       << ranks << " rank(s)");
      }
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_data_makes_the_order_of_the_additions_visible) {
  // Summed right to left instead, most elements of 7 shards get other bits: a fold in another
  // order could not pass the tests below.
  const std::size_t shards = 7, n = 1000;
  const auto data = all_shards<float>(shards, n);
  const auto forward = left_fold(data, shards, n, [](float a, float b, std::size_t) { return a + b; });
  std::size_t differ = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float a = data[(shards - 1) * n + i];
    for (std::size_t s = shards - 1; s-- > 0;) a = a + data[s * n + i];
    differ += a != forward[i] ? 1 : 0;
  }
  BOOST_TEST(differ > n / 10);
}

BOOST_AUTO_TEST_CASE(ordered_sum_of_floats_is_the_left_fold_on_any_number_of_ranks) { check_sums<float>(); }

BOOST_AUTO_TEST_CASE(ordered_sum_of_doubles_is_the_left_fold_on_any_number_of_ranks) { check_sums<double>(); }

BOOST_AUTO_TEST_CASE(ordered_fold_passes_each_element_its_index) {
  // Maximum over the first half of the elements, sum over the rest (the layout of activation
  // statistics): the combine sees global element indices in every slice and chunk.
  const std::size_t n = 101, shards = static_cast<std::size_t>(gift_test::world().size()) + 2;
  const auto combine = [](double a, double b, std::size_t i) { return i < 50 ? std::max(a, b) : a + b; };
  const auto data = all_shards<double>(shards, n);
  for (const std::size_t chunk : {std::size_t{4}, std::size_t{1000}})
    BOOST_TEST(same_bits(distributed_fold(data, static_cast<std::int64_t>(shards), n, combine, chunk),
                         left_fold(data, shards, n, combine)));
}

BOOST_AUTO_TEST_CASE(ordered_sum_through_the_convenience_overload) {
  auto& world = gift_test::world();
  const gd::shard_plan plan(world.size(), world.size());
  // Shard r holds (r + 1) · (i + 1): the sum over R shards is R(R + 1)/2 · (i + 1), exact.
  std::vector<std::int64_t> owned(5), result(5);
  for (std::size_t i = 0; i < 5; ++i) owned[i] = (world.rank() + 1) * static_cast<std::int64_t>(i + 1);
  gd::ordered_sum(world, plan, std::span<const std::int64_t>(owned), std::span<std::int64_t>(result));
  const std::int64_t r = world.size();
  for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(result[i] == r * (r + 1) / 2 * static_cast<std::int64_t>(i + 1));
}

BOOST_AUTO_TEST_CASE(a_wrong_owned_length_or_plan_is_refused) {
  auto& world = gift_test::world();
  std::vector<float> owned(3), result(2);
  const gd::shard_plan plan(world.size(), world.size());
  BOOST_CHECK_EXCEPTION(gd::ordered_sum(world, plan, std::span<const float>(owned), std::span<float>(result)),
                        gift::error, gift_test::message_has("argument 'owned' must hold this rank's 1 shard(s) of 2"));
  const gd::shard_plan other(world.size() + 1, world.size() + 1);
  BOOST_CHECK_EXCEPTION(gd::ordered_sum(world, other, std::span<const float>(owned), std::span<float>(result)),
                        gift::error, gift_test::message_has("the plan spreads its shards over"));
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_collectives
