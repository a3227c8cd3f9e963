// The ranks a test program runs on: MPI_COMM_WORLD when an MPI launcher started it (and the test is
// linked with gift::mpi), otherwise one process. One source of the test program installs the
// fixture that joins and leaves the run: using gift_test::world_fixture; BOOST_TEST_GLOBAL_FIXTURE(world_fixture);
#pragma once

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/launcher.hpp>

#if defined(GIFT_HAS_MPI)
#include <gift/distributed/mpi.hpp>
#endif

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <memory>

namespace gift_test {

/// The communicator of this test run.
inline std::unique_ptr<gift::distributed::communicator>& world_pointer() {
  static std::unique_ptr<gift::distributed::communicator> world;
  return world;
}

/// The communicator of this test run (the global fixture must be installed).
inline gift::distributed::communicator& world() { return *world_pointer(); }

/// Joins the MPI run before the first test and leaves it after the last.
struct world_fixture {
  void setup() {
#if defined(GIFT_HAS_MPI)
    if (gift::distributed::launched_ranks() > 0) {
      world_pointer() = std::make_unique<gift::distributed::mpi_communicator>();
      return;
    }
#endif
    world_pointer() = std::make_unique<gift::distributed::single_process>();
  }
  void teardown() { world_pointer().reset(); }
};

}  // namespace gift_test
