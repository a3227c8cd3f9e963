// gift::distributed::nccl_communicator::ordered_sum on a GPU: for several shard counts and vector
// lengths (including fewer elements than ranks would need), the device sum is bit for bit the host
// ordered_sum of the same shards, in float and double. NCCL runs one rank per GPU, so this checks
// one rank (the exchange then is sends to itself); a GPU machine with several devices runs the
// same program under mpirun. Compiled in CI; runs where a GPU is lent (skipped otherwise).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/nccl.cuh>
#include <gift/distributed/ordered_fold.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

// Every case of this file belongs to the CTest test distributed_nccl (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_nccl)

namespace gd = gift::distributed;

namespace {
template <class T>
T value(std::size_t s, std::size_t i) {
  std::uint64_t h = (s + 3) * 0x9e3779b97f4a7c15ull ^ (i + 1) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 29;
  const double u = static_cast<double>(h >> 11) / 9007199254740992.0;
  return static_cast<T>(((h & 1) ? -1.0 : 1.0) * std::ldexp(1.0 + u, static_cast<int>((h >> 3) % 41) - 20));
}

template <class T>
void check(gd::nccl_communicator& device, gd::communicator& host) {
  for (const std::int64_t shards : {std::int64_t{1}, std::int64_t{2}, std::int64_t{5}}) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{100000}}) {
      const gd::shard_plan plan(shards, host.size());
      const auto mine = static_cast<std::size_t>(plan.count(host.rank()));
      const auto first = static_cast<std::size_t>(plan.first(host.rank()));
      std::vector<T> owned(mine * n), expected(n), got(n);
      for (std::size_t s = 0; s < mine; ++s)
        for (std::size_t i = 0; i < n; ++i) owned[s * n + i] = value<T>(first + s, i);
      gd::ordered_sum(host, plan, std::span<const T>(owned), std::span<T>(expected));
      T* device_owned = nullptr;
      T* device_result = nullptr;
      BOOST_REQUIRE(cudaMalloc(reinterpret_cast<void**>(&device_owned), owned.size() * sizeof(T)) == cudaSuccess);
      BOOST_REQUIRE(cudaMalloc(reinterpret_cast<void**>(&device_result), n * sizeof(T)) == cudaSuccess);
      cudaMemcpy(device_owned, owned.data(), owned.size() * sizeof(T), cudaMemcpyHostToDevice);
      device.ordered_sum(plan, static_cast<const T*>(device_owned), n, device_result);
      cudaMemcpy(got.data(), device_result, n * sizeof(T), cudaMemcpyDeviceToHost);
      cudaFree(device_owned);
      cudaFree(device_result);
      BOOST_TEST(std::memcmp(got.data(), expected.data(), n * sizeof(T)) == 0,
                 "shards " << shards << ", n " << n << ": device sum differs from the host's");
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(device_ordered_sum_equals_the_host_ordered_sum) {
  gd::single_process host;
  gd::nccl_communicator device(host, 0);
  BOOST_TEST(device.size() == 1);
  check<float>(device, host);
  check<double>(device, host);
  const gd::shard_plan wrong(2, 2);
  BOOST_CHECK_THROW(device.ordered_sum(wrong, static_cast<const float*>(nullptr), 0, static_cast<float*>(nullptr)),
                    gift::error);
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_nccl
